"""A store as a year of campaigns leaves it, for the dashboard benchmark (bench/dashboard.py).

`seed(engine, clicks=1_000_000)` writes, into workspace 1 of a migrated store, by the driver's
bulk paths (SQLite `executemany`, PostgreSQL `COPY`), no HTTP:
- 50 campaigns (email, SMS and social sources) of 60 links each (3,000 links), each sent on
  its own day of the last 90 and clicked mostly in the two weeks after (exponential decay);
- 100,000 recipients (5,000 of them user ids, the rest email hashes);
- the clicks: 75% by a recipient, the rest by an anonymous daily visitor hash; 10% bots;
- each human click with its landing URL (`clicks.url`: the click's touchpoint), as the redirect
  writes it;
- for the 5,000 users: an identify, a few site visits (search, social, direct) as page events,
  and about 1,500 `Order Completed` conversions with revenue (a goal).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from tagtrail.collect import normalize, parse_event
from tagtrail.server.redirect import CLICK_COLUMNS
from tagtrail.service.collect import event_row
from tagtrail.service.goals import add_goal

CAMPAIGNS = 50
LINKS_PER_CAMPAIGN = 60
RECIPIENTS = 100_000
USERS = 5_000
DAYS = 90
BOT_SHARE = 0.10
GOAL = "Order Completed"
SOURCES = [("newsletter", "email"), ("instasent", "sms"), ("facebook", "social")]
VISITS = [
    "https://shop.example/?utm_source=google&utm_medium=cpc&utm_campaign=brand",
    "https://shop.example/",
    "https://shop.example/blog",
]
VISIT_REFERRERS = ["https://www.google.com/", "", "https://www.facebook.com/"]
BOT_AGENT = "python-requests/2.32"
HUMAN_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


def _bulk(
    engine: Engine, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Insert `rows` into `table`: SQLite executemany in one transaction, PostgreSQL COPY."""
    raw = engine.raw_connection()
    count = 0
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            cursor.execute("BEGIN")
            chunk: list[tuple[Any, ...]] = []
            for row in rows:
                chunk.append(tuple(_sqlite(v) for v in row))
                if len(chunk) == 50_000:
                    cursor.executemany(sql, chunk)
                    count += len(chunk)
                    chunk = []
            cursor.executemany(sql, chunk)
            count += len(chunk)
            cursor.execute("COMMIT")
        else:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            raw.commit()
        cursor.close()
    finally:
        raw.close()
    return count


def _sqlite(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _reset_sequences(engine: Engine, tables: Sequence[str]) -> None:
    """PostgreSQL identities after COPY with explicit ids: next value past the largest id."""
    if engine.dialect.name != "postgresql":
        return
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        raw.commit()
    finally:
        raw.close()


def seed(
    engine: Engine,
    *,
    clicks: int = 1_000_000,
    workspace_id: int = 1,
    seed: int = 7,
    recipients: int = RECIPIENTS,
) -> dict[str, int]:
    """Write the data set; return how many rows went into each table (`recipients`: how many
    recipients the campaigns were sent to, the first `USERS` of them user ids)."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    first_day = (now - timedelta(days=DAYS - 1)).replace(hour=0, minute=0, second=0)
    counts: dict[str, int] = {}
    campaign_rows = []
    link_rows = []
    sends: list[datetime] = []
    for c in range(1, CAMPAIGNS + 1):
        name = f"campaign-{c:02d}"
        campaign_rows.append((c, workspace_id, name, "{}", first_day))
        sends.append(
            first_day + timedelta(days=rng.randrange(DAYS - 3), hours=rng.randrange(8, 18))
        )
    counts["campaigns"] = _bulk(
        engine,
        "campaigns",
        ("id", "workspace_id", "name", "default_utm", "created_at"),
        campaign_rows,
    )
    landings: list[str] = []
    link_campaign: list[int] = []
    for i in range(CAMPAIGNS * LINKS_PER_CAMPAIGN):
        c = i // LINKS_PER_CAMPAIGN
        source, medium = SOURCES[c % len(SOURCES)]
        name = f"campaign-{c + 1:02d}"
        destination = f"https://shop.example/p/{i}"
        utm = f'{{"campaign": "{name}", "medium": "{medium}", "source": "{source}"}}'
        link_rows.append(
            (
                i + 1,
                workspace_id,
                f"bench{i:05d}",
                destination,
                c + 1,
                utm,
                "[]",
                False,
                False,
                False,
                None,
                first_day,
                first_day,
            )
        )
        landings.append(
            f"{destination}?utm_source={source}&utm_medium={medium}&utm_campaign={name}"
        )
        link_campaign.append(c)
    counts["links"] = _bulk(
        engine,
        "links",
        (
            "id",
            "workspace_id",
            "code",
            "destination",
            "campaign_id",
            "utm",
            "tags",
            "forward_query",
            "honeypot",
            "disabled",
            "expires_at",
            "created_at",
            "updated_at",
        ),
        link_rows,
    )
    recipient_rows = []
    for r in range(1, recipients + 1):
        public = f"r{r:07d}"
        kind, key = ("user", f"u{r}") if r <= USERS else ("email", f"{rng.getrandbits(128):032x}")
        recipient_rows.append((r, workspace_id, public, kind, key, first_day))
    counts["recipients"] = _bulk(
        engine,
        "recipients",
        ("id", "workspace_id", "public_id", "kind", "key", "created_at"),
        recipient_rows,
    )
    click_rows: list[tuple[Any, ...]] = []
    horizon = (now - first_day).total_seconds()
    for n in range(1, clicks + 1):
        link = rng.randrange(len(landings))
        sent = sends[link_campaign[link]]
        delay = min(rng.expovariate(1 / (3 * 86_400)), (now - sent).total_seconds())
        at = sent + timedelta(seconds=delay)
        if at < first_day or (at - first_day).total_seconds() > horizon:
            at = now
        bot = rng.random() < BOT_SHARE
        recipient = rng.randrange(recipients) + 1 if rng.random() < 0.75 else None
        visitor = f"{rng.getrandbits(64) if recipient is None or bot else recipient:032x}"
        click_rows.append(
            (
                n,
                link + 1,
                at,
                recipient,
                "203.0.113.0",
                BOT_AGENT if bot else HUMAN_AGENT,
                "",
                "GET",
                bot,
                "user_agent" if bot else "",
                visitor,
                recipient is not None,
                None if bot else landings[link],
            )
        )
    counts["clicks"] = _bulk(
        engine,
        "clicks",
        ("id", *CLICK_COLUMNS),
        click_rows,
    )
    del click_rows
    counts["events"] = _seed_events(engine, rng, workspace_id, first_day, now)
    add_goal(engine, workspace_id, GOAL, "revenue", now=now)
    _reset_sequences(engine, ("campaigns", "links", "recipients", "clicks"))
    return counts


def _seed_events(
    engine: Engine, rng: random.Random, workspace_id: int, first_day: datetime, now: datetime
) -> int:
    """Identify, site visits and conversions of the user recipients, through the real parser."""
    rows: list[dict[str, Any]] = []
    span = int((now - first_day).total_seconds())

    def add(kind: str, body: dict[str, Any]) -> None:
        event = normalize(parse_event(body, kind=kind), received_at=datetime.now(UTC))
        rows.append(event_row(workspace_id, event))

    for u in range(1, USERS + 1):
        anonymous = f"anon-{u}"
        start = first_day + timedelta(seconds=rng.randrange(span))
        add(
            "identify",
            {
                "messageId": f"id-{u}",
                "anonymousId": anonymous,
                "userId": f"u{u}",
                "timestamp": start.isoformat() + "Z",
            },
        )
        for v in range(rng.randrange(1, 5)):
            at = first_day + timedelta(seconds=rng.randrange(span))
            pick = rng.randrange(len(VISITS))
            page = {"url": VISITS[pick], "referrer": VISIT_REFERRERS[pick], "title": "Shop"}
            add(
                "page",
                {
                    "messageId": f"pv-{u}-{v}",
                    "anonymousId": anonymous,
                    "timestamp": at.isoformat() + "Z",
                    "context": {"page": page, "userAgent": HUMAN_AGENT},
                },
            )
        if rng.random() < 0.3:
            at = first_day + timedelta(seconds=rng.randrange(span))
            revenue = round(rng.gammavariate(2.0, 40.0), 2)
            add(
                "track",
                {
                    "messageId": f"order-{u}",
                    "userId": f"u{u}",
                    "event": GOAL,
                    "timestamp": at.isoformat() + "Z",
                    "properties": {"revenue": revenue},
                },
            )
    columns = list(rows[0])
    return _bulk(engine, "events", columns, (tuple(r[c] for c in columns) for r in rows))
