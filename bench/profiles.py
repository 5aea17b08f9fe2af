"""Profile reads at scale: one user's profile from the stored identity mapping, beside anchors.

    python bench/profiles.py [--identities 1000000] [--events-each 10] [--reads 2000]
                             [--anchor-identities 20000] [--no-postgres | --no-sqlite]

In one run, on the same machine, for SQLite and (when it answers) the local PostgreSQL:

1. a store is seeded with `--identities` visitors of `--events-each` events (default 1M and
   10M): a campaign landing (a touchpoint), page views, a track; 30 % are identified (an
   identify, then a user id on every event). Rows go in by the driver (`executemany` / COPY),
   as a bulk load or an older version would leave them: the mapping is then built by
   `store.identities.fold_all` (what `tagtrail migrate` runs), timed;
2. `--reads` profile reads of random identified users (`service.collected.user_profile`,
   what `GET /api/profiles/{id}` and `tagtrail profile` run): p50, p99, max;
3. anchor: a raw `SELECT` of the same user's event rows by its ids (the floor of any read);
4. anchor: today's from-scratch read (`load_collected` + `profile_of`: the whole workspace
   read and resolved per request) on a store of `--anchor-identities` made the same way (at
   10M events it would take minutes and gigabytes per request; its size is printed beside it);
5. freshness: a live `tagtrail serve` on the seeded SQLite store; an identify and a track are
   sent, and the profile is polled until it shows them: seconds after the acknowledgement.

Targets (issue 20): p99 <= 20 ms at 10M events / 1M identities; visible <= 1 s after the ack.
Writes bench/out/profiles.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for harness

import httpx  # noqa: E402
from harness.live import start_server  # noqa: E402
from harness.pg import postgres_database, postgres_up  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402

from tagtrail.collect import normalize, parse_event  # noqa: E402
from tagtrail.service.collect import event_row  # noqa: E402
from tagtrail.service.collected import load_collected, profile_of, user_profile  # noqa: E402
from tagtrail.service.keys import create_key, ensure_workspace  # noqa: E402
from tagtrail.store.database import prepare_store  # noqa: E402
from tagtrail.store.identities import fold_all  # noqa: E402

OUT = ROOT / "bench" / "out"
START = datetime(2026, 3, 1, tzinfo=UTC)
LANDING = "https://shop.example/spring?utm_source=newsletter&utm_medium=email&utm_campaign=c{}"
SITE = ("shop.example",)
IDENTIFIED = 0.3


@dataclass
class Result:
    backend: str
    identities: int
    events: int
    seed_seconds: float
    fold_seconds: float
    reads: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    raw_select_p50_ms: float
    raw_select_p99_ms: float


def _templates() -> list[dict[str, Any]]:
    """One visitor's events as `events` rows (ids and times are replaced per visitor)."""
    now = START
    bodies: list[tuple[str, dict[str, Any]]] = [
        ("page", {"properties": {"url": LANDING.format(0), "referrer": "https://mail.example/"}}),
        *[
            (
                "page",
                {
                    "properties": {
                        "url": f"https://shop.example/p{k}",
                        "referrer": "https://shop.example/",
                    }
                },
            )
            for k in range(7)
        ],  # fmt: skip
        ("track", {"event": "Viewed Product", "properties": {"sku": "s1"}}),
        ("identify", {"traits": {"plan": "pro"}}),
    ]
    rows = []
    for n, (kind, body) in enumerate(bodies):
        event = {"messageId": f"t{n}", "anonymousId": "a", "userId": "u", **body}
        rows.append(event_row(1, normalize(parse_event(event, kind=kind), received_at=now)))  # type: ignore[arg-type]
    return rows


def _visitor_rows(
    i: int, each: int, templates: list[dict[str, Any]], sqlite: bool
) -> list[tuple[Any, ...]]:
    identified = i % 10 < IDENTIFIED * 10
    rows = []
    base = START + timedelta(seconds=(i * 7919) % (30 * 86400))
    for n in range(each):
        row = dict(templates[n % len(templates)])
        if row["type"] == "identify" and not identified:
            row = dict(templates[1])
        when = base + timedelta(minutes=3 * n)
        stamp = when.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else when.replace(tzinfo=None)
        row.update(
            message_id=f"m{i}-{n}",
            timestamp=stamp,
            received_at=stamp,
            anonymous_id=f"a{i}",
            user_id=f"u{i}" if identified else None,
        )
        if n == 0:
            row["url"] = LANDING.format(i % 50)
            row["tp_campaign"] = f"c{i % 50}"
        rows.append(tuple(row.values()))
    return rows


def seed(engine: Engine, identities: int, each: int) -> float:
    """Bulk-load the visitors' events; seconds taken."""
    templates = _templates()
    columns = list(templates[0])
    sqlite = engine.dialect.name == "sqlite"
    started = time.monotonic()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        step = 20_000
        for first in range(0, identities, step):
            rows = [
                r
                for i in range(first, min(identities, first + step))
                for r in _visitor_rows(i, each, templates, sqlite)
            ]
            if sqlite:
                marks = ", ".join("?" for _ in columns)
                cursor.execute("BEGIN")
                cursor.executemany(
                    f"INSERT INTO events ({', '.join(columns)}) VALUES ({marks})", rows
                )
                cursor.execute("COMMIT")
            else:
                with cursor.copy(f"COPY events ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                raw.commit()
            print(f"  seeded {min(identities, first + step):,} visitors", end="\r", flush=True)
        print()
    finally:
        raw.close()
    return time.monotonic() - started


def _timed(fn: Any, *args: Any, **kwargs: Any) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def _users(identities: int, reads: int) -> list[str]:
    rng = random.Random(42)
    found: list[str] = []
    while len(found) < reads:
        i = rng.randrange(identities)
        if i % 10 < IDENTIFIED * 10:
            found.append(f"u{i}")
    return found


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


_BY_USER = text("SELECT * FROM events WHERE workspace_id = 1 AND user_id = :u")
_BY_ANON = text(
    "SELECT * FROM events WHERE workspace_id = 1 AND anonymous_id = :a AND user_id IS NULL"
)


def _raw_select(engine: Engine, user: str) -> None:
    """The user's event rows by its two ids, one index each (an OR makes SQLite scan)."""
    with engine.connect() as conn:
        conn.execute(_BY_USER, {"u": user}).all()
        conn.execute(_BY_ANON, {"a": "a" + user[1:]}).all()


def measure(name: str, url: str, args: argparse.Namespace) -> Result:
    engine = prepare_store(url)
    ensure_workspace(engine, now=START.replace(tzinfo=None))
    print(f"{name}: seeding {args.identities:,} visitors x {args.events_each} events")
    seeded = seed(engine, args.identities, args.events_each)
    started = time.monotonic()
    fold_all(engine, progress=lambda n: print(f"  folding (+{n:,} rows)", end="\r", flush=True))
    folded = time.monotonic() - started
    print(f"\n  seeded in {seeded:.0f} s, mapping built in {folded:.0f} s")
    users = _users(args.identities, args.reads)
    for user in users[:50]:  # warm the page cache as a running server would have it
        user_profile(engine, 1, user)
    times = [_timed(user_profile, engine, 1, user) for user in users]
    raw = [_timed(_raw_select, engine, user) for user in users]
    engine.dispose()
    return Result(
        name, args.identities, args.identities * args.events_each, seeded, folded, len(times),
        statistics.median(times), _percentile(times, 0.99), max(times),
        statistics.median(raw), _percentile(raw, 0.99),
    )  # fmt: skip


def from_scratch(args: argparse.Namespace) -> tuple[int, float, float]:
    """(events, seconds of one from-scratch profile read, seconds of the stored read)."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = prepare_store(f"sqlite:///{tmp}/anchor.db")
        ensure_workspace(engine, now=START.replace(tzinfo=None))
        seed(engine, args.anchor_identities, args.events_each)
        fold_all(engine)
        user = _users(args.anchor_identities, 1)[0]
        started = time.perf_counter()
        profile_of(load_collected(engine, 1), user)
        scratch = time.perf_counter() - started
        stored = _timed(user_profile, engine, 1, user) / 1000
        engine.dispose()
    return args.anchor_identities * args.events_each, scratch, stored


def freshness(data_dir: Path) -> list[float]:
    """Seconds from an identify's (and a track's) 200 to the profile that shows it."""
    engine = prepare_store(f"sqlite:///{data_dir / 'tagtrail.db'}")
    _, write_key = create_key(engine, 1, "write", "bench", now=START.replace(tzinfo=None))
    _, admin_key = create_key(engine, 1, "admin", "bench", now=START.replace(tzinfo=None))
    engine.dispose()
    seconds = []
    with (
        start_server(data_dir=data_dir, key=admin_key) as server,
        httpx.Client(base_url=server.origin, timeout=10) as client,
    ):
        write = {"Authorization": f"Bearer {write_key}"}
        admin = {"Authorization": f"Bearer {admin_key}"}
        for n in range(20):
            user = f"fresh-{n}"
            body = {"userId": user, "anonymousId": f"fa{n}", "traits": {"plan": "pro"}}
            assert client.post("/v1/identify", json=body, headers=write).status_code == 200
            acked = time.monotonic()
            while client.get(f"/api/profiles/{user}", headers=admin).status_code != 200:
                time.sleep(0.005)
            seconds.append(time.monotonic() - acked)
            track = {"userId": user, "event": "Signed Up", "properties": {"url": LANDING.format(1)}}
            page = {"anonymousId": f"fa{n}", "properties": {"url": LANDING.format(n)}}
            assert client.post("/v1/page", json=page, headers=write).status_code == 200
            acked = time.monotonic()
            while (
                client.get(f"/api/profiles/{user}", headers=admin).json()["initial_utm_campaign"]
                != f"c{n}"
            ):
                time.sleep(0.005)
            seconds.append(time.monotonic() - acked)
            assert client.post("/v1/track", json=track, headers=write).status_code == 200
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=1_000_000)
    parser.add_argument("--events-each", type=int, default=10)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--anchor-identities", type=int, default=20_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL's half alone")
    args = parser.parse_args()
    results: list[Result] = []
    fresh: list[float] = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            results.append(measure("sqlite", f"sqlite:///{data / 'tagtrail.db'}", args))
            fresh = freshness(data)
    if not args.no_postgres and postgres_up():
        with postgres_database() as db:
            results.append(measure("postgresql", db, args))
    anchor_events, scratch, stored_small = from_scratch(args)
    print(
        f"profile reads, {args.reads:,} random identified users; anchor: a raw SELECT of the "
        "user's event rows by its ids"
    )
    print(
        f"{'store':<12}{'events':>12}{'seed s':>8}{'fold s':>8}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'SELECT p50':>12}{'SELECT p99':>12}"
    )
    for r in results:
        print(
            f"{r.backend:<12}{r.events:>12,}{r.seed_seconds:>8.0f}{r.fold_seconds:>8.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
            f"{r.max_ms:>9.1f}{r.raw_select_p50_ms:>12.2f}{r.raw_select_p99_ms:>12.2f}"
        )
    print(
        f"anchor, from-scratch read (load_collected + profile_of) on {anchor_events:,} events: "
        f"{scratch:.2f} s per profile (stored read on that store: {stored_small * 1000:.1f} ms)"
    )
    if fresh:
        print(
            f"freshness (SQLite, live server): identify/page visible in the profile "
            f"{statistics.median(fresh):.3f} s after the 200 (median), {max(fresh):.3f} s at most"
        )
        print(f"target visible <= 1 s: {'met' if max(fresh) <= 1 else 'NOT met'}")
    if results:
        worst = max(r.p99_ms for r in results)
        print(f"target p99 <= 20 ms: {'met' if worst <= 20 else 'NOT met'} (worst {worst:.2f} ms)")
    OUT.mkdir(parents=True, exist_ok=True)
    document = {
        "results": [asdict(r) for r in results],
        "anchor": {"events": anchor_events, "from_scratch_seconds": scratch},
        "freshness_seconds": fresh,
    }
    (OUT / "profiles.json").write_text(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
