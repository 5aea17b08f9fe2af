"""`store.arrow.read_arrow`: the store's rows as Arrow tables on both backends, read in one
snapshot, and on SQLite through the process's own SQLite, so that a read beside a writer that
keeps its connection open never hides that writer's later commits."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select

from tagtrail.service.keys import ensure_workspace
from tagtrail.store.arrow import read_arrow
from tagtrail.store.schema import events

NOW = datetime(2026, 5, 1, 12, 0, 0, 250_000)


def _event(n: int, user: str | None) -> dict[str, object]:
    return {
        "workspace_id": 1, "message_id": f"m{n}", "type": "track", "timestamp": NOW,
        "received_at": NOW, "user_id": user, "properties": "{}", "traits": "{}",
    }  # fmt: skip


def test_rows_come_back_as_typed_columns(engine: Engine) -> None:
    ensure_workspace(engine, now=datetime.now(UTC).replace(tzinfo=None))
    with engine.begin() as conn:
        conn.execute(insert(events), [_event(1, "u1"), _event(2, None)])
    query = (
        "SELECT id, message_id, coalesce(user_id, '') AS user_id, timestamp FROM events ORDER BY id"
    )
    found = read_arrow(engine, {"rows": query, "none": "SELECT id FROM events WHERE id < 0"})
    rows = found["rows"].to_pylist()
    assert [(r["message_id"], r["user_id"]) for r in rows] == [("m1", "u1"), ("m2", "")]
    assert str(rows[0]["timestamp"]).startswith("2026-05-01 12:00:00.25")
    assert found["none"].num_rows == 0 and found["none"].column_names == ["id"]


def test_a_read_beside_an_open_writer_hides_none_of_its_later_commits(engine: Engine) -> None:
    """A second copy of SQLite in the process (the ADBC SQLite driver bundles one) took itself
    for the database's last user when it closed, checkpointed and deleted the WAL under the open
    connection, whose later commits a new connection no longer saw."""
    ensure_workspace(engine, now=datetime.now(UTC).replace(tzinfo=None))
    with engine.connect() as writer:  # held open, as the server's writer holds its own
        writer.execute(insert(events), [_event(1, "u1")])
        writer.commit()
        assert read_arrow(engine, {"n": "SELECT count(*) AS n FROM events"})["n"].to_pylist() == [
            {"n": 1}
        ]
        writer.execute(insert(events), [_event(2, "u2")])
        writer.commit()
        seen = read_arrow(engine, {"n": "SELECT count(*) AS n FROM events"})["n"]
        assert seen.to_pylist() == [{"n": 2}]
    with engine.connect() as reader:
        assert reader.execute(select(func.count()).select_from(events)).scalar() == 2
