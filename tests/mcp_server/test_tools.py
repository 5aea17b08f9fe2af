"""Every tool over stdio and over HTTP, each answer compared with the CLI's `--json` output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tagtrail.attribution.registry import MODEL_NAMES
from tagtrail.service.stats import campaign_stats
from tagtrail.store.database import prepare_store
from tests.mcp_server.conftest import Session

TOOLS = {
    "build_link",
    "lint_links",
    "classify_visit",
    "check_link",
    "create_short_link",
    "recipient_link",
    "link_stats",
    "campaign_stats",
    "campaign_lift",
    "attribute",
    "profile",
    "create_message",
    "message_stats",
}
HEADER = "user_id,timestamp,type,channel,source,medium,campaign,value\n"
ROWS = [
    "u1,2024-01-01T00:00:00Z,touch,email,newsletter,email,spring,",
    "u1,2024-01-02T00:00:00Z,touch,paid_search,google,cpc,brand,",
    "u1,2024-01-03T00:00:00Z,conversion,,,,,100.00",
    "u2,2024-01-01T00:00:00Z,touch,email,newsletter,email,spring,",
    "u2,2024-01-05T00:00:00Z,conversion,,,,,50.00",
    "u4,2024-01-01T00:00:00Z,conversion,,,,,0.00",
]

Cli = Callable[..., Any]


@pytest.fixture
def cli(session: Session, run_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`tagtrail ARGS --json` in-process, in the server's folder (same policy lookup)."""
    monkeypatch.chdir(session.root)

    def run(*args: str) -> tuple[int, Any]:
        result = run_cli(*args, "--json")
        return result.code, result.json()

    return run


def store(session: Session) -> list[str]:
    return ["--data-dir", str(session.root / "data")]


def test_lists_every_tool_with_a_typed_schema(session: Session) -> None:
    tools = session.tools()
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 40
        assert tool.input_schema["type"] == "object"
    assert tools["build_link"].input_schema["required"] == ["url"]
    assert tools["lint_links"].input_schema["properties"]["urls"]["type"] == "array"
    by = tools["attribute"].input_schema["properties"]["by"]
    assert by["enum"] == ["channel", "source", "medium", "campaign", "content"]
    assert tools["check_link"].annotations.open_world_hint is True


def test_build_link_is_the_cli_result(session: Session, cli: Cli) -> None:
    answer = session.call(
        "build_link",
        {"url": "https://example.com/pricing", "preset": "intercom", "campaign": "Onboarding"},
    )
    code, expected = cli(
        "build", "--url", "https://example.com/pricing", "--preset", "intercom",
        "--campaign", "Onboarding",
    )  # fmt: skip
    assert code == 0 and not answer.error
    assert answer.doc == expected
    assert set(answer.doc) == {"status", "tracked_url", "channel", "issues"}
    assert answer.result.structured_content == expected


def test_a_javascript_url_is_a_tool_error_with_the_builders_issues(
    session: Session, cli: Cli
) -> None:
    answer = session.call("build_link", {"url": "javascript:alert(1)", "source": "x"})
    code, expected = cli("build", "--url", "javascript:alert(1)", "--source", "x")
    assert code == 1 and answer.error
    assert answer.doc == expected
    assert answer.doc["issues"][0]["code"] == "E_SCHEME_UNSUPPORTED"


def test_lint_links_is_the_cli_document(session: Session, cli: Cli) -> None:
    urls = [
        "https://example.com/?utm_source=Intercom.com&utm_medium=in-app",
        "https://example.com/?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
    ]
    answer = session.call("lint_links", {"urls": urls})
    _code, expected = cli("lint", *urls)
    assert not answer.error and answer.doc == expected
    assert set(answer.doc) == {"results", "summary"}


@pytest.mark.parametrize(
    ("arguments", "argv"),
    [
        (
            {"url": "https://shop.example/?utm_source=facebook&utm_medium=email"},
            ["--url", "https://shop.example/?utm_source=facebook&utm_medium=email"],
        ),
        (
            {"url": "https://shop.example/", "referrer": "https://www.google.de/"},
            ["--url", "https://shop.example/", "--referrer", "https://www.google.de/"],
        ),
        (
            {"source": "chatgpt.com", "medium": "referral", "ruleset": "ga4-2026"},
            ["--source", "chatgpt.com", "--medium", "referral", "--ruleset", "ga4-2026"],
        ),
    ],
)
def test_classify_visit_is_the_cli_document(
    session: Session, cli: Cli, arguments: dict[str, Any], argv: list[str]
) -> None:
    answer = session.call("classify_visit", arguments)
    code, expected = cli("channel", *argv)
    assert code == 0 and not answer.error
    assert answer.doc == expected


def test_classify_visit_needs_one_form(session: Session, cli: Cli) -> None:
    answer = session.call("classify_visit", {"url": "https://a.example/", "source": "x"})
    code, expected = cli("channel", "--url", "https://a.example/", "--source", "x")
    assert code == 2 and answer.error
    assert answer.doc["status"] == expected["status"] == 2
    assert answer.doc["error"] == expected["error"]


def _without_timing(report: dict[str, Any]) -> dict[str, Any]:
    """The report without what the clock decides (each hop's ms, the timing check's text)."""
    checks = [{**c, "message": ""} if c["check"] == "timing" else c for c in report["checks"]]
    hops = [{**hop, "elapsed_ms": 0} for hop in report["hops"]]
    return {**report, "hops": hops, "checks": checks}


def test_check_link_always_refuses_internal_addresses(session: Session, cli: Cli) -> None:
    url = "http://127.0.0.1/?utm_source=a&utm_medium=email"
    answer = session.call("check_link", {"url": url})
    code, expected = cli("check", "--guard", url)
    assert code == 1 and not answer.error
    assert answer.doc["valid"] is False
    messages = [c["message"] for c in answer.doc["checks"] if c["status"] == "fail"]
    assert messages == ["hop 1 failed: blocked: 127.0.0.1 is a loopback address"]
    assert _without_timing(answer.doc) == _without_timing(expected)


def test_short_links_recipients_and_stats_are_the_cli_documents(session: Session, cli: Cli) -> None:
    code = f"spring-{session.transport}"
    made = session.call(
        "create_short_link",
        {
            "url": "https://shop.example/spring",
            "code": code,
            "campaign": "spring-sale",
            "source": "newsletter",
            "medium": "email",
            "tags": ["q2"],
        },
    )
    assert not made.error, made.doc
    status, shown = cli("links", "show", code, *store(session))
    assert status == 0 and made.doc == shown
    assert made.doc["tracked"] is True and made.doc["channel"] == "Email"

    mine = session.call("recipient_link", {"code": code, "recipient": "ada@example.com"})
    _s, theirs = cli(
        "links", "recipient-url", code, "--recipient", "ada@example.com", *store(session)
    )
    assert not mine.error and mine.doc == theirs

    stats = session.call("link_stats", {"code": code})
    _s, expected = cli("links", "stats", code, *store(session))
    assert not stats.error and stats.doc == expected

    per_campaign = session.call("campaign_stats", {"campaign": "spring-sale"})
    engine = prepare_store(f"sqlite:///{session.root / 'data' / 'tagtrail.db'}")
    try:
        assert per_campaign.doc == campaign_stats(engine, 1, "spring-sale")
    finally:
        engine.dispose()


def test_store_errors_are_the_cli_errors(session: Session, cli: Cli) -> None:
    missing = session.call("link_stats", {"code": "nope"})
    status, expected = cli("links", "stats", "nope", *store(session))
    assert status == 1 and missing.error and missing.doc == expected

    refused = session.call("create_short_link", {"url": "javascript:alert(1)"})
    status, expected = cli("links", "create", "--url", "javascript:alert(1)", *store(session))
    assert status == 1 and refused.error and refused.doc == expected
    assert refused.doc["issues"]

    no_campaign = session.call("campaign_stats", {"campaign": "never-made"})
    assert no_campaign.error and no_campaign.doc["error"] == "no campaign named 'never-made'"


def test_profile_is_the_cli_document(session: Session, cli: Cli) -> None:
    events = session.root / "journeys.csv"
    events.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    status, _imported = cli("import", str(events), *store(session))
    assert status == 0
    answer = session.call("profile", {"user": "u1"})
    status, expected = cli("profile", "u1", *store(session))
    assert status == 0 and not answer.error and answer.doc == expected
    assert answer.doc["initial_channel"] == "email"

    unknown = session.call("profile", {"user": "nobody"})
    status, expected = cli("profile", "nobody", *store(session))
    assert status == 1 and unknown.error and unknown.doc == expected


@pytest.fixture
def events(session: Session) -> Path:
    path = session.root / "events.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def _timeless(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "meta": {k: v for k, v in document["meta"].items() if k != "seconds"}}


def test_attribute_is_the_cli_document(session: Session, cli: Cli, events: Path) -> None:
    answer = session.call(
        "attribute",
        {
            "events": str(events),
            "models": ["linear", "markov_o1"],
            "by": "source",
            "lookback": "2d",
        },
    )
    status, expected = cli(
        "attribute", "--events", str(events), "--model", "linear,markov_o1", "--by", "source",
        "--lookback", "2d",
    )  # fmt: skip
    assert status == 0 and not answer.error
    assert _timeless(answer.doc) == _timeless(expected)
    every = session.call("attribute", {"events": str(events)})
    assert list(every.doc["models"]) == list(MODEL_NAMES)


def test_attribute_over_a_date_range(session: Session, events: Path) -> None:
    answer = session.call(
        "attribute", {"events": str(events), "models": ["last_touch"], "start": "2024-01-02"}
    )
    assert not answer.error, answer.doc
    meta = answer.doc["meta"]
    assert meta["date_range"] == {"start": "2024-01-02", "end": None}
    assert meta["total_conversions"] == 2 and meta["total_value"] == 150.0
    assert answer.doc["models"]["last_touch"]["conversions"]["paid_search"] == 1.0
    wrong = session.call(
        "attribute", {"events": str(events), "start": "2024-01-05", "end": "2024-01-01"}
    )
    assert wrong.error and "before start" in wrong.doc["error"]


def test_bad_arguments_are_tool_errors_and_the_server_keeps_serving(
    session: Session, cli: Cli, events: Path
) -> None:
    missing = session.call("build_link", {})
    assert missing.error and "url" in str(missing.doc)
    wrong_type = session.call("check_link", {"url": "https://a.example/", "max_hops": "many"})
    assert wrong_type.error
    model = session.call("attribute", {"events": str(events), "models": ["bogus"]})
    status, expected = cli("attribute", "--events", str(events), "--model", "bogus")
    assert status == 1 and model.error and model.doc == expected
    no_file = session.call("attribute", {"events": str(session.root / "none.csv")})
    assert no_file.error and no_file.doc["error"].endswith("no such file")
    script = session.call("check_link", {"url": "javascript:alert(1)"})
    status, expected = cli("check", "--guard", "javascript:alert(1)")
    assert script.doc["valid"] is False == expected["valid"]
    unknown = session.portal.call(session.client.call_tool, "no_such_tool", {})
    assert unknown.is_error
    fine = session.call("classify_visit", {"source": "newsletter", "medium": "email"})
    assert not fine.error and fine.doc["channel"] == "Email"


def test_resources_are_the_policy_and_the_models(session: Session, cli: Cli) -> None:
    policy = session.read("tagtrail://policy")
    _status, presets = cli("presets")
    assert policy["presets"] == presets
    assert policy["naming"] == {
        "separator": "-", "lowercase": True, "max_length": None, "required": [], "allowed": {}
    }  # fmt: skip
    models = session.read("tagtrail://models")["models"]
    assert [m["name"] for m in models] == list(MODEL_NAMES)
    assert all(m["definition"] for m in models)


def test_messages_are_the_cli_documents(session: Session, cli: Cli) -> None:
    made = session.call(
        "create_short_link",
        {"url": "https://shop.example/", "campaign": "mcp-news", "source": "x", "medium": "email"},
    )
    assert not made.error, made.doc
    body = '<a href="https://shop.example/a">A</a> <a href="#top">top</a>'
    created = session.call(
        "create_message",
        {"campaign": "mcp-news", "channel": "email", "body": body, "preset": "intercom"},
    )
    assert not created.error, created.doc
    _s, shown = cli("messages", "show", str(created.doc["message"]), *store(session))
    assert created.doc == shown
    assert created.doc["skipped"] == [{"position": 2, "url": "#top", "reason": "anchor"}]
    stats = session.call("message_stats", {"message": created.doc["message"]})
    _s, expected = cli("messages", "stats", str(created.doc["message"]), *store(session))
    assert not stats.error and stats.doc == expected
    missing = session.call("message_stats", {"message": 999})
    status, expected = cli("messages", "stats", "999", *store(session))
    assert status == 1 and missing.error and missing.doc == expected
