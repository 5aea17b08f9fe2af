"""`load_identities`: several identities' collected data through the stored mapping, only their
rows (bound a chunk of ids at a time), the same as the whole workspace's read gives them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from tagtrail.collect import normalize, parse_event
from tagtrail.service import collected
from tagtrail.service.collect import event_row
from tagtrail.service.goals import add_goal
from tagtrail.service.keys import ensure_workspace
from tagtrail.store.identities import fold_all, identities_of
from tagtrail.store.schema import events

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PAGE = "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=spring"


def _row(kind: str, minutes: int, **body: Any) -> dict[str, Any]:
    body["timestamp"] = (T0 + timedelta(minutes=minutes)).isoformat()
    body.setdefault("messageId", f"{kind}-{minutes}-{body.get('userId') or body['anonymousId']}")
    return event_row(1, normalize(parse_event(body, kind=kind), received_at=T0))


def test_some_identities_read_alone_match_the_whole_read(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collected, "_IDS_PER_QUERY", 2)  # several chunks of ids
    ensure_workspace(engine, now=T0.replace(tzinfo=None))
    add_goal(engine, 1, "Order Completed", "revenue", now=T0.replace(tzinfo=None))
    page = {"context": {"page": {"url": PAGE}}}
    rows = [
        # a1 visits from the campaign, then is identified as u1, who buys
        _row("page", 0, anonymousId="a1", **page),
        _row("identify", 5, anonymousId="a1", userId="u1"),
        _row("track", 9, userId="u1", event="Order Completed", properties={"revenue": 20}),
        # u2, u3, u4 buy after a visit of their own; u5 only visits
        *(
            row
            for n in (2, 3, 4)
            for row in (
                _row("page", n, userId=f"u{n}", **page),
                _row("track", 10 + n, userId=f"u{n}", event="Order Completed"),
            )
        ),
        _row("page", 6, userId="u5", **page),
    ]
    with engine.begin() as conn:
        conn.execute(insert(events), rows)
    fold_all(engine)
    whole = collected.load_collected(engine, 1)
    with engine.connect() as conn:
        of_user, of_anonymous = identities_of(
            conn, 1, users=["u1", "u2", "u4", "nobody"], anonymous=["a1", "a9"]
        )
    assert of_anonymous == {"a1": whole.graph.users["u1"]}
    assert set(of_user) == {"u1", "u2", "u4"}
    wanted = set(of_user.values())
    some = collected.load_identities(engine, 1, wanted)
    assert some.arrivals == {k: v for k, v in whole.arrivals.items() if k in wanted}
    assert some.conversions == {k: v for k, v in whole.conversions.items() if k in wanted}
    assert len(some.arrivals) == 3 and len(some.conversions) == 3
    assert some.graph.anonymous == {"a1": whole.graph.users["u1"]}
