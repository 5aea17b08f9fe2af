"""tagtrail goals, import and export on a local store (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness.pg import postgres_database

from tagtrail.service.backends import migrate_store
from tagtrail.settings import Settings
from tests.conftest import CliResult

JOURNEYS = """user_id,timestamp,type,channel,source,medium,campaign,value
u1,2026-05-01T12:00:00Z,touch,Email,intercom,email,onboarding,
u1,2026-05-03T12:00:00Z,touch,Organic Search,google,organic,(organic),
u1,2026-05-03T12:20:00Z,touch,direct,(direct),(none),(direct),
u1,2026-05-03T12:22:00Z,conversion,,,,,99.00
u2,2026-05-02T08:00:00Z,touch,Paid Search,google,cpc,brand,
u2,2026-05-02T08:00:00Z,exposure,Email,mailchimp,email,may,
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """A store with its tables (`tagtrail migrate`); the first command that writes makes the
    rest."""
    if request.param == "sqlite":
        migrate_store(Settings(data_dir=tmp_path / "data"))
        yield ["--data-dir", str(tmp_path / "data")]
        return
    with postgres_database() as url:
        migrate_store(Settings(database_url=url))
        yield ["--database-url", url]


Run = Callable[..., CliResult]


def test_goals_add_and_list(run_cli: Run, where: list[str]) -> None:
    assert run_cli("goals", "list", "--json", *where).json() == {"data": []}
    added = run_cli("goals", "add", "Order Completed", "--revenue", "revenue", "--json", *where)
    assert added.code == 0, added.err
    assert added.json() == {"event": "Order Completed", "revenue": "revenue"}
    assert run_cli("goals", "add", "Signed Up", *where).code == 0
    run_cli("goals", "add", "Signed Up", "--revenue", "value", *where)
    listed = run_cli("goals", "list", "--json", *where).json()["data"]
    assert listed == [
        {"event": "Order Completed", "revenue": "revenue"},
        {"event": "Signed Up", "revenue": "value"},
    ]
    text = run_cli("goals", "list", *where)
    assert "Order Completed" in text.out
    bad = run_cli("goals", "add", " ", "--json", *where)
    assert bad.code == 1 and bad.json()["ok"] is False


def test_journey_csv_round_trips(run_cli: Run, where: list[str], tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(JOURNEYS)
    first = run_cli("import", str(source), "--json", *where)
    assert first.code == 0, first.out + first.err
    assert first.json() == {"format": "journeys", "touches": 4, "conversions": 1, "skipped": 1}
    assert run_cli("import", str(source), *where).code == 0  # again: nothing new
    out = tmp_path / "out.csv"
    assert run_cli("export", "--journeys", str(out), *where).code == 0
    expected = [line for line in JOURNEYS.splitlines() if ",exposure," not in line]
    assert out.read_text().splitlines() == expected
    profile = run_cli("profile", "u1", "--json", *where).json()
    assert profile["initial_channel"] == "Email" and profile["last_channel"] == "Organic Search"
    text = run_cli("profile", "u1", *where)
    assert text.code == 0 and "intercom" in text.out


def test_segment_json_lines(run_cli: Run, where: list[str], tmp_path: Path) -> None:
    lines = [
        {
            "type": "page",
            "anonymousId": "a1",
            "messageId": "m1",
            "timestamp": "2026-05-01T10:00:00Z",
            "context": {"page": {"url": "https://shop.example/?utm_source=news&utm_medium=email"}},
        },
        {
            "type": "identify",
            "anonymousId": "a1",
            "userId": "u7",
            "messageId": "m2",
            "timestamp": "2026-05-01T10:01:00Z",
        },
        {
            "batch": [
                {
                    "type": "track",
                    "userId": "u7",
                    "event": "Order Completed",
                    "messageId": "m3",
                    "properties": {"revenue": "49.90"},
                    "timestamp": "2026-05-01T10:05:00Z",
                }
            ]
        },
    ]
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert run_cli("goals", "add", "Order Completed", "--revenue", "revenue", *where).code == 0
    result = run_cli("import", str(source), "--json", *where)
    assert result.json() == {"format": "segment", "events": 3}
    run_cli("import", str(source), *where)
    out = tmp_path / "out.csv"
    run_cli("export", "--journeys", str(out), *where)
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["user_id"], r["type"], r["channel"], r["value"]) for r in rows] == [
        ("u7", "touch", "Email", ""),
        ("u7", "conversion", "", "49.90"),
    ]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "track", "userId": "u"}\n')
    refused = run_cli("import", str(bad), "--json", *where)
    assert refused.code == 1 and "line 1" in refused.json()["error"]


def test_import_refuses_what_it_cannot_read(run_cli: Run, tmp_path: Path) -> None:
    where = ["--data-dir", str(tmp_path / "data")]
    wrong = tmp_path / "x.csv"
    wrong.write_text("a,b\n1,2\n")
    assert run_cli("import", str(wrong), *where).code == 1
    missing = run_cli("import", str(tmp_path / "nope.csv"), "--json", *where)
    assert missing.code == 1 and missing.json()["ok"] is False
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "user_id,timestamp,type,channel,source,medium,campaign,value\nu,yesterday,touch,Email,a,b,c,\n"
    )
    assert "line 2" in run_cli("import", str(bad), "--json", *where).json()["errors"][1]
