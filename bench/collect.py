"""`POST /v1/batch` events stored per second, beside a raw insert rate into the same store.

    python bench/collect.py [--seconds 8] [--connections 16] [--batch 100] [--no-postgres]

In this one run, on the same machine: a real `tagtrail serve` (SQLite with 1 worker; the local
PostgreSQL with 1 and 2 workers when it answers) receives Segment batches of `--batch` page
events (UTMs and a referrer, so every event is normalised, classified and is a touchpoint; 20 new
visitors a batch, a fifth of them identified, so the writer folds new identity facts into the
stored mapping after every commit) over
`--connections` keep-alive HTTP/1.1 connections for `--seconds`; a batch is counted when its
`200 {"success": true}` arrives, which the server sends only after the commit. The events are
then counted in the database. The anchor: the same rows (`service.collect.event_row`) inserted
by the driver's `executemany` in transactions of 5,000 into the same table of the same store,
with no HTTP, no parsing and no group commit. Target: >= 50,000 events/s stored.
Prints a table and writes bench/out/collect.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for harness.live and harness.pg

from harness.live import LiveServer, start_server  # noqa: E402
from harness.pg import postgres_database, postgres_up  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tagtrail.collect import normalize, parse_event  # noqa: E402
from tagtrail.service.collect import event_row  # noqa: E402
from tagtrail.service.keys import create_key  # noqa: E402
from tagtrail.store import identities  # noqa: E402
from tagtrail.store.database import open_store, prepare_store  # noqa: E402
from tagtrail.store.schema import events, identity_nodes  # noqa: E402

OUT = ROOT / "bench" / "out"
PAGE = "https://shop.example/spring?utm_source=newsletter&utm_medium=email&utm_campaign=spring"


@dataclass
class Run:
    name: str
    batches: int
    acknowledged: int
    stored: int
    seconds: float
    events_per_second: float
    raw_rows_per_second: float
    mapping_lag: float  # seconds after the last acknowledgement until every event was folded
    users_mapped: int
    users_sent: int


def _event(worker: int, n: int, i: int) -> dict[str, object]:
    """Event `i` of batch `n`: 20 new visitors a batch, the first 4 of them identified (their
    events carry a user id, so every batch brings new identity facts for the writer to fold)."""
    visitor = i % 20
    ids: dict[str, object] = {"anonymousId": f"b{worker}-{n:08x}-v{visitor}"}
    if visitor < 4:
        ids["userId"] = f"b{worker}-{n:08x}-u{visitor}"
    return {
        "type": "page",
        "messageId": f"b{worker}-{n:08x}-{i}",
        **ids,
        "timestamp": "2026-05-01T12:00:00.000Z",
        "context": {
            "page": {"url": PAGE, "referrer": "https://www.google.com/", "title": "Spring"},
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36",
        },
        "properties": {"path": "/spring"},
    }


def _request(key: str, port: int, body: bytes) -> bytes:
    import base64

    auth = base64.b64encode(f"{key}:".encode()).decode()
    head = (
        f"POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Basic {auth}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _send(server: LiveServer, key: str, args: argparse.Namespace) -> tuple[int, int, float]:
    deadline = time.monotonic() + args.seconds
    done = [0, 0]

    async def worker(w: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        batch = [_event(w, 0, i) for i in range(args.batch)]
        template = _request(
            key,
            server.port,
            json.dumps({"batch": batch, "sentAt": "2026-05-01T12:00:01Z"}).encode(),
        )
        marker = f'"b{w}-{0:08x}-'.encode()
        n = 0
        try:
            while time.monotonic() < deadline:
                n += 1  # a fixed-width id keeps Content-Length right
                writer.write(template.replace(marker, f'"b{w}-{n:08x}-'.encode()))
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                await reader.readexactly(length)
                if head.startswith(b"HTTP/1.1 200"):
                    done[0] += 1
                    done[1] += args.batch
        finally:
            writer.close()

    start = time.monotonic()
    await asyncio.gather(*(worker(w) for w in range(args.connections)))
    return done[0], done[1], time.monotonic() - start


def _count(url: str) -> int:
    engine = open_store(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar_one())
    finally:
        engine.dispose()


def _mapping(url: str) -> tuple[float, int]:
    """(seconds from now until the stored identity mapping has folded every stored event, the
    user ids it then maps): the writer folds on its own thread, after the acknowledgements."""
    engine = open_store(url)
    start = time.monotonic()
    try:
        with engine.connect() as conn:
            while any(identities.pending(conn).values()):
                conn.rollback()
                time.sleep(0.01)
            lag = time.monotonic() - start
            users = select(func.count()).where(identity_nodes.c.kind == "user")
            return lag, int(conn.execute(users).scalar_one())
    finally:
        engine.dispose()


def raw_rate(url: str, rows: int) -> float:
    """Rows/s of `executemany` into `events` of the same store (transactions of 5,000)."""
    now = datetime.now(UTC)
    engine = prepare_store(url)
    try:
        sample = [
            event_row(1, normalize(parse_event(_event(9999, n, 0), kind="page"), received_at=now))
            for n in range(rows)
        ]
        columns = list(sample[0])
        sqlite = engine.dialect.name == "sqlite"
        mark = "?" if sqlite else "%s"
        sql = (
            f"INSERT INTO events ({', '.join(columns)}) VALUES "
            f"({', '.join(mark for _ in columns)}) ON CONFLICT DO NOTHING"
        )

        def value(v: object) -> object:
            return v.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite and isinstance(v, datetime) else v

        values = [tuple(value(r[c]) for c in columns) for r in sample]
        raw = engine.raw_connection()
        try:
            start = time.monotonic()
            for first in range(0, len(values), 5000):
                cursor = raw.cursor()
                if sqlite:
                    cursor.execute("BEGIN")
                cursor.executemany(sql, values[first : first + 5000])
                if sqlite:
                    cursor.execute("COMMIT")
                else:
                    raw.commit()
                cursor.close()
            return rows / (time.monotonic() - start)
        finally:
            raw.close()
    finally:
        engine.dispose()


def measure(name: str, server: LiveServer, args: argparse.Namespace) -> Run:
    engine = prepare_store(server.store_url)
    try:
        _, key = create_key(engine, 1, "write", "bench", now=datetime.now(UTC).replace(tzinfo=None))
    finally:
        engine.dispose()
    batches, acknowledged, seconds = asyncio.run(_send(server, key, args))
    lag, users = _mapping(server.store_url)
    stored = _count(server.store_url)
    raw = raw_rate(server.store_url, 50_000)
    return Run(
        name, batches, acknowledged, stored, seconds, stored / seconds, raw, lag, users, batches * 4
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        with start_server(data_dir=Path(tmp) / "data") as server:
            runs.append(measure("sqlite, 1 worker", server, args))
    if not args.no_postgres and postgres_up():
        for workers in (1, 2):
            with postgres_database() as db, start_server(database_url=db, workers=workers) as s:
                runs.append(measure(f"postgresql, {workers} worker(s)", s, args))
    print(
        f"POST /v1/batch, {args.batch} events a batch, {args.connections} connections, "
        f"{args.seconds:g} s; anchor: executemany into the same table (transactions of 5,000)"
    )
    print(
        f"{'set-up':<26}{'acked':>10}{'stored':>10}{'events/s':>11}{'raw rows/s':>12}{'ratio':>7}"
        f"{'map lag s':>10}{'users mapped':>14}"
    )
    for run in runs:
        ratio = run.events_per_second / run.raw_rows_per_second
        print(
            f"{run.name:<26}{run.acknowledged:>10,}{run.stored:>10,}"
            f"{run.events_per_second:>11,.0f}{run.raw_rows_per_second:>12,.0f}{ratio:>7.2f}"
            f"{run.mapping_lag:>10.2f}{f'{run.users_mapped:,}/{run.users_sent:,}':>14}"
        )
    best = max(r.events_per_second for r in runs)
    verdict = "met" if best >= 50_000 else "NOT met"
    print(f"target >= 50,000 events/s stored: {verdict} (best {best:,.0f})")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "collect.json").write_text(json.dumps([asdict(r) for r in runs], indent=2))


if __name__ == "__main__":
    main()
