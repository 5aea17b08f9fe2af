"""The store's lift counts the recipients it never reads as the file path counts them all.

`lift_matching.load_store_sends` reads only the sends of the matched recipients and of those
sent more than once, and counts the rest by group in the store. For random sends (several to
one recipient, held-out and treated ones mixed, times with microseconds), a random window and
data end and a random set of matched recipients, its `Totals` must equal `outcome.sends_totals`
over every send of the campaign, and `lift_sends` must hold every send of the matched ones;
on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, insert

from tagtrail.lift.outcome import sends_totals
from tagtrail.service.campaigns import create_campaign
from tagtrail.service.keys import ensure_workspace
from tagtrail.service.lift_matching import load_store_sends, matching
from tagtrail.store.schema import recipients, sends

START = datetime(2026, 6, 1, 9, 0)
RECIPIENTS = 6

send = st.tuples(
    st.integers(0, RECIPIENTS - 1),
    st.one_of(st.sampled_from((0, 1, 3600)), st.integers(0, 5 * 86_400)),
    st.one_of(st.just(0), st.integers(0, 999_999)),
    st.booleans(),
)


@pytest.fixture
def campaign(engine: Engine) -> tuple[Engine, int, list[int]]:
    """The store, a campaign's id and its recipients' row ids."""
    ws, _ = ensure_workspace(engine, now=START)
    found = create_campaign(engine, ws, "spring", now=START)
    with engine.begin() as conn:
        ids = [
            conn.execute(
                insert(recipients)
                .values(
                    workspace_id=ws, public_id=f"r{n}", kind="user", key=f"u{n}", created_at=START
                )
                .returning(recipients.c.id)
            ).scalar_one()  # fmt: skip
            for n in range(RECIPIENTS)
        ]
    return engine, found.id, ids  # the workspace is the store's first: 1


def _tokens(con: duckdb.DuckDBPyConnection, ids: list[int]) -> None:
    rows = pa.table({"recipient": pa.array(ids, pa.int64()), "who": [f"u:{i}" for i in ids]})
    con.register("tokens_in", rows)
    con.execute("CREATE TEMP TABLE lift_tokens AS SELECT * FROM tokens_in")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(send, max_size=14),
    matched=st.sets(st.integers(0, RECIPIENTS)),  # RECIPIENTS: one with no send at all
    window_days=st.sampled_from((1, 2, 7)),
    end_after=st.integers(0, 8 * 86_400),
    end_micros=st.integers(0, 999_999),
)
def test_totals_counted_in_the_store_equal_those_of_every_send(
    campaign: tuple[Engine, int, list[int]],
    rows: list[tuple[int, int, int, bool]],
    matched: set[int],
    window_days: int,
    end_after: int,
    end_micros: int,
) -> None:
    engine, campaign_id, ids = campaign
    with engine.begin() as conn:
        conn.execute(delete(sends))
        for who, second, micro, held in rows:
            at = START + timedelta(seconds=second, microseconds=micro)
            conn.execute(
                insert(sends).values(
                    workspace_id=1, recipient_id=ids[who], campaign_id=campaign_id,
                    message="welcome", channel="email", sent_at=at, held_out=held,
                )
            )  # fmt: skip
    window = window_days * 86_400
    data_end = START + timedelta(seconds=end_after, microseconds=end_micros)
    everyone = [*ids, max(ids) + 1]
    chosen = sorted(everyone[n] for n in matched)
    con = duckdb.connect()
    _tokens(con, chosen)
    totals = load_store_sends(con, engine, campaign_id, window=window, data_end=data_end)

    every = duckdb.connect()
    table: dict[str, Any] = {
        "recipient": pa.array([ids[w] for w, *_ in rows], pa.int64()),
        "sent_at": pa.array(
            [(START + timedelta(seconds=s)) for _, s, _, _ in rows], pa.timestamp("us")
        ),  # whole seconds, as the lift reads them
        "held_out": pa.array([h for *_, h in rows], pa.bool_()),
    }
    every.register("all_in", pa.table(table))
    every.execute("CREATE TEMP TABLE lift_sends AS SELECT * FROM all_in")
    assert totals == sends_totals(every, "lift_sends", window=window, data_end=data_end)

    sent = {ids[w] for w, *_ in rows}
    kept = {r for (r,) in con.execute("SELECT recipient FROM lift_tokens").fetchall()}
    assert kept == set(chosen) & sent
    read = sorted(con.execute("SELECT * FROM lift_sends WHERE recipient IN "
                              "(SELECT recipient FROM lift_tokens)").fetchall())  # fmt: skip
    expected = every.execute(
        "SELECT * FROM lift_sends WHERE list_contains($ids, recipient)", {"ids": sorted(kept)}
    ).fetchall()
    assert read == sorted(expected)
    assert matching(con, totals).as_dict()["matched"] == len(kept)
