"""The `campaign_lift` tool answers what `tagtrail lift --json` prints on the same store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tagtrail.service.sends import SendSpec, record_sends
from tagtrail.settings import Settings
from tagtrail.store.database import open_store
from tests.mcp_server.conftest import Session
from tests.mcp_server.test_tools import HEADER, cli, store

__all__ = ["cli"]  # the fixture, imported for this module's tests

Cli = Callable[..., Any]
SENT = datetime(2024, 1, 1, 10, 0, 0)


def test_campaign_lift_is_the_cli_document(session: Session, cli: Cli) -> None:
    rows = [
        "u1,2024-01-01T12:00:00Z,touch,email,newsletter,email,spring,",
        "u1,2024-01-02T00:00:00Z,conversion,,,,,100.00",
        "u3,2024-01-03T00:00:00Z,conversion,,,,,10.00",
    ]
    events = session.root / "lift-journeys.csv"
    events.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    status, _imported = cli("import", str(events), *store(session))
    assert status == 0
    no_holdout = session.call("campaign_lift", {"campaign": "nope", "goal": "x"})
    status, expected = cli("lift", "--campaign", "nope", "--goal", "x", *store(session))
    assert status == 1 and no_holdout.error and no_holdout.doc == expected

    settings = Settings(data_dir=session.root / "data")
    engine = open_store(settings.store_url)
    try:
        sent = [SendSpec(f"u{i}", SENT, "spring", held_out=i >= 3) for i in range(1, 5)]
        record_sends(engine, 1, sent, secret=settings.secret(), now=SENT)
    finally:
        engine.dispose()
    args = {"campaign": "spring", "goal": "Imported Conversion"}
    answer = session.call("campaign_lift", args)
    status, expected = cli(
        "lift", "--campaign", "spring", "--goal", "Imported Conversion", *store(session)
    )
    assert status == 0 and not answer.error, answer.doc
    assert answer.doc == expected
    assert answer.doc["treatment"]["converters"] == 1 and answer.doc["control"]["converters"] == 1
    assert answer.doc["attributed"]["last_touch"] == 1.0
