"""The dashboard's click figures, read from the rollups, equal direct counts over `clicks` after
new clicks, a burst re-flagged as bots, a link moved to another campaign and a deleted link."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select

from tagtrail.service import keys
from tagtrail.service.clicks import flag_burst
from tagtrail.service.links import LinkSpec, create_link, delete_link, update_link
from tagtrail.service.reports import (
    Window,
    campaign_table,
    daily_clicks,
    link_table,
)
from tagtrail.store import rollups
from tagtrail.store.schema import campaigns, clicks, links, recipients

NOW = datetime(2026, 3, 31, 12, 0, 0)
DAY0 = date(2026, 3, 1)
ORIGIN = "https://go.example.com"
WINDOWS = [
    Window(),
    Window(date(2026, 3, 10), None),
    Window(None, date(2026, 3, 12)),
    Window(date(2026, 3, 8), date(2026, 3, 14)),
    Window(date(2026, 3, 11), date(2026, 3, 11), "spring"),
]


def _setup(engine: Engine) -> tuple[int, list[str]]:
    workspace, _ = keys.ensure_workspace(engine, now=NOW)
    codes = []
    for n, campaign in enumerate(["spring", "spring", "summer", None]):
        utm = {"source": "newsletter", "medium": "email"}
        spec = LinkSpec(url=f"https://shop.example/p{n}", campaign=campaign, utm=utm)
        codes.append(create_link(engine, workspace, spec, origin=ORIGIN, now=NOW).code)
    with engine.begin() as conn:
        for r in range(1, 6):
            conn.execute(
                insert(recipients).values(
                    id=r, workspace_id=workspace, public_id=f"p{r}", kind="user", key=f"u{r}",
                    created_at=NOW,
                )
            )  # fmt: skip
    return workspace, codes


def _add_clicks(engine: Engine, rng: random.Random, n: int) -> None:
    with engine.connect() as conn:
        link_ids = list(conn.execute(select(links.c.id)).scalars())
    rows: list[dict[str, Any]] = []
    for _ in range(n):
        recipient = rng.choice([None, 1, 2, 3, 4, 5])
        rows.append(
            {
                "link_id": rng.choice(link_ids),
                "clicked_at": datetime.combine(DAY0, datetime.min.time())
                + timedelta(days=rng.randrange(20), seconds=rng.randrange(86_400)),
                "recipient_id": recipient,
                "ip": None,
                "user_agent": "test",
                "referrer": "",
                "method": "GET",
                "is_bot": rng.random() < 0.2,
                "bot_reasons": "",
                "visitor": f"v{rng.randrange(6)}",
                "identified": False,
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(clicks), rows)


def _direct(engine: Engine, workspace: int, window: Window) -> dict[str, Any]:
    """The figures counted straight from the click rows, in Python."""
    query = (
        select(links.c.code, campaigns.c.name, clicks)
        .join(links, links.c.id == clicks.c.link_id)
        .outerjoin(campaigns, campaigns.c.id == links.c.campaign_id)
        .where(links.c.workspace_id == workspace)
    )
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_link: dict[str, list[Any]] = defaultdict(lambda: [0, 0, 0, set()])
    per_campaign: dict[str, list[Any]] = defaultdict(lambda: [0, 0, 0, set()])
    with engine.connect() as conn:
        found = conn.execute(query).all()
    for row in found:
        if not window.contains(row.clicked_at):
            continue
        if window.campaign is not None and row.name != window.campaign:
            continue
        who = str(row.recipient_id) if row.recipient_id is not None else row.visitor
        days[row.clicked_at.date().isoformat()][1 if row.is_bot else 0] += 1
        for key, table in ((row.code, per_link), (row.name, per_campaign)):
            if key is None:
                continue
            figures = table[key]
            figures[0] += 1
            figures[2 if row.is_bot else 1] += 1
            if not row.is_bot:
                figures[3].add(who)
    return {
        "days": [{"day": d, "human": h, "bot": b} for d, (h, b) in sorted(days.items())],
        "links": {k: (t, h, b, len(u)) for k, (t, h, b, u) in per_link.items()},
        "campaigns": {k: (t, h, b, len(u)) for k, (t, h, b, u) in per_campaign.items()},
    }


def _check(engine: Engine, workspace: int) -> None:
    for window in WINDOWS:
        want = _direct(engine, workspace, window)
        assert daily_clicks(engine, workspace, window) == want["days"], window
        got_links = {
            r["code"]: (r["total"], r["human"], r["bot"], r["unique"])
            for r in link_table(engine, workspace, window)
            if r["total"]
        }
        assert got_links == want["links"], window
        got_campaigns = {
            r["campaign"]: (r["total"], r["human"], r["bot"], r["unique"])
            for r in campaign_table(engine, workspace, window)
            if r["total"]
        }
        assert got_campaigns == want["campaigns"], window


def test_rollups_equal_direct_counts_through_every_change(engine: Engine) -> None:
    rng = random.Random(5)
    workspace, codes = _setup(engine)
    _add_clicks(engine, rng, 400)
    _check(engine, workspace)
    assert rollups.fold(engine) == 0  # the reads folded everything

    _add_clicks(engine, rng, 150)  # new clicks are counted on the next read
    _check(engine, workspace)

    with engine.connect() as conn:
        spring = conn.execute(select(campaigns.c.id).where(campaigns.c.name == "spring")).scalar()
    changed = flag_burst(
        engine, campaign_id=spring, recipient_id=2, visitor="", since=datetime(2026, 3, 1)
    )
    assert changed > 0
    _check(engine, workspace)

    update_link(engine, workspace, codes[1], LinkSpec(campaign="summer"), origin=ORIGIN, now=NOW)
    _check(engine, workspace)

    delete_link(engine, workspace, codes[0])
    _add_clicks(engine, rng, 50)
    _check(engine, workspace)


def test_a_visitor_before_and_after_a_window_is_unique_only_with_a_click_inside(
    engine: Engine,
) -> None:
    workspace, codes = _setup(engine)
    with engine.connect() as conn:
        link_id = conn.execute(select(links.c.id).where(links.c.code == codes[0])).scalar_one()

    def click(day: int, visitor: str) -> dict[str, Any]:
        return {
            "link_id": link_id, "clicked_at": datetime(2026, 3, day, 9), "recipient_id": None,
            "ip": None, "user_agent": "t", "referrer": "", "method": "GET", "is_bot": False,
            "bot_reasons": "", "visitor": visitor, "identified": False,
        }  # fmt: skip

    with engine.begin() as conn:
        conn.execute(insert(clicks), [click(1, "a"), click(20, "a"), click(1, "b"), click(20, "b")])
    window = Window(date(2026, 3, 5), date(2026, 3, 15))
    assert link_table(engine, workspace, window)[0]["unique"] == 0
    with engine.begin() as conn:
        conn.execute(insert(clicks), [click(10, "b")])
    row = link_table(engine, workspace, window)[0]
    assert (row["code"], row["total"], row["unique"]) == (codes[0], 1, 1)
    _check(engine, workspace)
