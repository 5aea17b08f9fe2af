"""SQLite under steady writes: the WAL is copied back and started over, so it stays small.

A checkpoint taken only beside a writer that commits all the time never copies back every page
(more arrive while it runs), and SQLite starts the WAL over only when it has: the file then grew
by tens of megabytes a second for as long as the load lasted."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from tagtrail.service.keys import ensure_workspace
from tagtrail.store.database import prepare_store
from tagtrail.store.schema import events
from tagtrail.store.writer import GroupWriter, Values

COLUMNS = ("workspace_id", "message_id", "type", "timestamp", "received_at")
STAMP = "2026-05-01 12:00:00.250000"
SECONDS = 3.0


def test_the_wal_stays_small_under_steady_commits(tmp_path: Path) -> None:
    path = tmp_path / "tagtrail.db"
    engine = prepare_store(f"sqlite:///{path}", sqlite_synchronous="NORMAL")
    ensure_workspace(engine, now=datetime.now(UTC).replace(tzinfo=None))
    group = GroupWriter(engine, checkpoint_seconds=0.2)
    group.start()
    wal = Path(f"{path}-wal")
    committed = 0
    try:
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            rows = [(1, f"m{committed + i}", "track", STAMP, STAMP) for i in range(8)]
            group.commit([(events, Values(COLUMNS, rows))])
            committed += len(rows)
            time.sleep(0.0002)  # a steady stream of commits, as a busy server makes
        largest = wal.stat().st_size  # its high-water mark: SQLite does not shrink it
    finally:
        group.close()
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(events)).scalar_one()
    engine.dispose()
    assert stored == committed > 5_000
    written = committed / 8 * 2 * 4096  # at least two pages (table and index) per commit
    assert largest < written / 2, f"the WAL grew to {largest / 2**20:.0f} MB: never started over"
