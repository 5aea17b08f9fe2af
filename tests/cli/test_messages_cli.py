"""`tagtrail messages …` on each backend: create, render, export, list, show, stats, holdouts."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from tagtrail.store.database import open_store
from tagtrail.store.schema import sends
from tests.conftest import CliResult
from tests.server.test_messages import CREATE_KEYS

BODY = (
    '<p><a href="https://shop.example/a?x=1&amp;y=2">Shop now</a> '
    '<a HREF=https://shop.example/b>More</a> <a href="{{unsubscribe_url}}">Unsubscribe</a></p>'
)


def _create(
    run_cli: Callable[..., CliResult], store: list[str], tmp_path: Path, *extra: str
) -> CliResult:
    """A campaign, then `messages create --json` of BODY with the intercom preset."""
    body = _setup(run_cli, store, tmp_path)
    return run_cli(
        "messages", "create", "--campaign", "spring", "--channel", "email", "--body", str(body),
        "--preset", "intercom", *extra, *store, "--json",
    )  # fmt: skip


def _setup(run_cli: Callable[..., CliResult], store: list[str], tmp_path: Path) -> Path:
    made = run_cli(
        "links",
        "create",
        "--url",
        "https://shop.example/",
        "--campaign",
        "spring",
        "--source",
        "x",
        "--medium",
        "email",
        *store,
        "--json",
    )
    assert made.code == 0, made.err
    body = tmp_path / "body.html"
    body.write_text(BODY)
    return body


def test_create_render_export_stats(
    run_cli: Callable[..., CliResult], store: list[str], tmp_path: Path
) -> None:
    created = _create(run_cli, store, tmp_path)
    assert created.code == 0, created.out + created.err
    doc = created.json()
    assert [k for k in doc][: len(CREATE_KEYS)] == CREATE_KEYS
    assert [link["text"] for link in doc["links"]] == ["Shop now", "More"]
    assert doc["skipped"] == [
        {"position": 3, "url": "{{unsubscribe_url}}", "reason": "placeholder"}
    ]
    recipients = tmp_path / "r.csv"
    recipients.write_text("name,recipient\nAnn,ann@example.org\nBob,+14155550100\nCy,user-7\n")
    out = tmp_path / "out.jsonl"
    rendered = run_cli(
        "messages",
        "render",
        str(doc["message"]),
        "--recipients",
        str(recipients),
        "--sent-at",
        "2026-01-02T10:00:00Z",
        "--out",
        str(out),
        *store,
        "--json",
    )
    assert rendered.code == 0, rendered.out + rendered.err
    assert rendered.json() == {
        "message": doc["message"],
        "recipients": 3,
        "rendered": 3,
        "held_out": 0,
    }
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["recipient"] for line in lines] == ["ann@example.org", "+14155550100", "user-7"]
    assert all("{{unsubscribe_url}}" in line["body"] for line in lines)

    merged = tmp_path / "merge.csv"
    exported = run_cli(
        "messages",
        "export",
        str(doc["message"]),
        "--recipients",
        str(recipients),
        "--out",
        str(merged),
        *store,
    )
    assert exported.code == 0, exported.err
    rows = list(csv.reader(merged.read_text().splitlines()))
    assert rows[0] == ["recipient", "held_out", "link_1", "link_2"]
    assert rows[1][2] in lines[0]["body"] and rows[1][3] in lines[0]["body"]  # the same codes
    assert all(len(cell.rsplit("/", 1)[1]) == 10 for row in rows[1:] for cell in row[2:])

    listed = run_cli("messages", "list", *store, "--json").json()
    assert listed["count"] == 1 and listed["data"][0]["links"] == 2
    shown = run_cli("messages", "show", str(doc["message"]), *store, "--json").json()
    assert shown["links"] == doc["links"]
    stats = run_cli("messages", "stats", str(doc["message"]), *store, "--json").json()
    assert (stats["sent"], stats["clicked"], stats["recipients"]) == (3, 0, [])
    assert run_cli("messages", "stats", "99", *store, "--json").json()["error"] == "no message 99"


def test_holdout_and_bad_input(
    run_cli: Callable[..., CliResult], store: list[str], tmp_path: Path
) -> None:
    doc = _create(run_cli, store, tmp_path, "--holdout", "50%").json()
    assert doc["holdout"] == 0.5
    recipients = tmp_path / "r.csv"
    recipients.write_text("recipient\n" + "".join(f"u{n}@example.org\n" for n in range(40)))
    out = tmp_path / "out.jsonl"
    summary = run_cli(
        "messages",
        "render",
        str(doc["message"]),
        "--recipients",
        str(recipients),
        "--out",
        str(out),
        *store,
        "--json",
    ).json()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    held = [line for line in lines if line["held_out"]]
    assert 5 < len(held) < 35 and summary["held_out"] == len(held)
    assert all(set(line) == {"recipient", "held_out"} for line in held)
    url = (
        next(a for a in store if a.startswith("postgresql"))
        if "--database-url" in store
        else (f"sqlite:///{store[1]}/tagtrail.db")
    )
    engine = open_store(url)
    with engine.connect() as conn:
        flags = [row.held_out for row in conn.execute(select(sends.c.held_out))]
    engine.dispose()
    assert sorted(flags).count(True) == len(held) and len(flags) == 40

    bad = tmp_path / "bad.csv"
    bad.write_text("recipient\nok@example.org\nnope@\n")
    failed = run_cli(
        "messages",
        "render",
        str(doc["message"]),
        "--recipients",
        str(bad),
        "--out",
        str(tmp_path / "x.jsonl"),
        *store,
        "--json",
    )
    assert failed.code == 1 and "line 3" in failed.json()["error"]
    assert not (tmp_path / "x.jsonl").exists()
    nothing = tmp_path / "none.html"
    nothing.write_text('<a href="mailto:a@b.example">mail</a>')
    refused = run_cli(
        "messages",
        "create",
        "--campaign",
        "spring",
        "--channel",
        "email",
        "--body",
        str(nothing),
        *store,
        "--json",
    )
    assert refused.code == 1 and "no trackable link" in refused.json()["error"]
