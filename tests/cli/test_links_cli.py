"""`tagtrail links …` on a local store (SQLite and PostgreSQL) and on a real running server."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tagtrail.cli.link_views import bar_chart
from tagtrail.service.backends import _chunk, _records, _renumber
from tests.cli.conftest import CHROME, Server, free_port

Run = Callable[..., Any]
LINK_KEYS = [
    "tracked",
    "code",
    "short_url",
    "destination",
    "tracked_url",
    "channel",
    "campaign",
    "utm",
    "tags",
    "forward_query",
    "honeypot",
    "disabled",
    "expires_at",
    "created_at",
    "issues",
]
GOOD = ["--url", "https://example.com/spring", "--source", "newsletter", "--medium", "email"]
CSV = (
    "url,code,campaign,source,medium,content,term,id,tags\n"
    "https://example.com/a,imp-a,spring,newsletter,email,,,,x|y\n"
    "example.com/no-scheme,imp-b,spring,newsletter,email,,,,\n"
    "\n"
    "https://example.com/c,imp-c,,newsletter,email,hero,,,\n"
    ",imp-d,,newsletter,email,,,,\n"
)


def _get(url: str) -> httpx.Response:
    with httpx.Client(follow_redirects=False, headers={"User-Agent": CHROME}) as client:
        return client.get(url)


# --- local store ---------------------------------------------------------------------------


def test_create_json_is_the_link(run_cli: Run, store: list[str]) -> None:
    result = run_cli(
        "links", "create", *GOOD, "--campaign", "spring-sale", "--code", "spring",
        "--tag", "a", "--tag", "b", "--content", "hero", "--term", "shoes", "--id", "s24",
        "--forward-query", "--honeypot", "--expires", "2030-01-02T03:04:05+02:00",
        "--base-url", "https://go.example.com/", *store, "--json",
    )  # fmt: skip
    assert result.code == 0, result.out + result.err
    link = result.json()
    assert list(link) == LINK_KEYS
    assert link["code"] == "spring"
    assert link["short_url"] == "https://go.example.com/spring"
    assert link["destination"] == "https://example.com/spring"
    assert "utm_campaign=spring-sale" in link["tracked_url"]
    assert "utm_content=hero" in link["tracked_url"] and "utm_id=s24" in link["tracked_url"]
    assert link["campaign"] == "spring-sale" and link["channel"] == "Email"
    assert link["utm"] == {
        "source": "newsletter", "medium": "email", "content": "hero", "term": "shoes", "id": "s24"
    }  # fmt: skip
    assert link["tags"] == ["a", "b"]
    assert link["forward_query"] is True and link["honeypot"] is True
    assert link["expires_at"] == "2030-01-02T01:04:05"  # naive UTC
    assert "Created a workspace" in result.err and "tt_admin_" in result.err


def test_create_prints_the_short_url_and_details_on_stderr(run_cli: Run, store: list[str]) -> None:
    result = run_cli("links", "create", *GOOD, "--url", "http://example.com/x", *store)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("http://127.0.0.1:8080/")
    assert "utm_source=newsletter&utm_medium=email" in result.err.replace("\n", "")
    assert "channel: Email" in result.err
    assert "W_INSECURE_HTTP" in result.err  # the builder's warnings, on stderr


def test_a_refused_link_exits_1_with_its_issues(run_cli: Run, store: list[str]) -> None:
    result = run_cli("links", "create", "--url", "example.com", *store, "--json")
    assert result.code == 1
    body = result.json()
    assert body["ok"] is False and "have errors" in body["error"]
    codes = {i["code"] for i in body["issues"]}
    assert {"E_SCHEME_MISSING", "E_MISSING_SOURCE", "E_MISSING_MEDIUM"} <= codes
    human = run_cli("links", "create", "--url", "example.com", *store)
    assert human.code == 1 and human.out == ""
    assert "Error:" in human.err and "E_SCHEME_MISSING" in human.err
    assert "add https:// in front" in human.err


def test_list_show_and_filters(run_cli: Run, store: list[str]) -> None:
    for code, campaign, tag in [("l1", "a", "x"), ("l2", "a", "y"), ("l3", "b", "x")]:
        made = run_cli("links", "create", *GOOD, "--code", code, "--campaign", campaign,
                       "--tag", tag, *store)  # fmt: skip
        assert made.code == 0, made.err
    page = run_cli("links", "list", *store, "--json").json()
    assert list(page) == ["data", "count"] and page["count"] == 3
    assert [link["code"] for link in page["data"]] == ["l3", "l2", "l1"]
    assert list(page["data"][0]) == LINK_KEYS
    only_a = run_cli("links", "list", "--campaign", "a", *store, "--json").json()
    assert only_a["count"] == 2
    tagged = run_cli("links", "list", "--tag", "x", "--limit", "1", "--offset", "1", *store,
                     "--json").json()  # fmt: skip
    assert tagged["count"] == 2 and [link["code"] for link in tagged["data"]] == ["l1"]
    human = run_cli("links", "list", *store)
    assert human.code == 0 and "l1" in human.out and "http://127.0.0.1:8080/l2" in human.out
    assert "1-3 of 3 links" in human.err
    shown = run_cli("links", "show", "l2", *store, "--json").json()
    assert list(shown) == LINK_KEYS and shown["campaign"] == "a"
    text = run_cli("links", "show", "l2", *store)
    assert "tracked URL" in text.out and "utm_campaign=a" in text.out and "active" in text.out


def test_a_missing_link_exits_1_everywhere(run_cli: Run, store: list[str]) -> None:
    for command in (["show"], ["stats"], ["disable"], ["enable"], ["delete", "--yes"],
                    ["recipient-url", "--recipient", "ann@example.com"]):  # fmt: skip
        result = run_cli("links", command[0], "nope", *command[1:], *store, "--json")
        assert result.code == 1, command
        assert result.json()["error"] == "no link with code 'nope'"
    human = run_cli("links", "show", "nope", *store)
    assert human.code == 1 and "no link with code 'nope'" in human.err
    assert "tagtrail links list" in human.err


def test_stats_and_recipient_url_on_a_new_link(run_cli: Run, store: list[str]) -> None:
    run_cli("links", "create", *GOOD, "--code", "st", *store)
    figures = run_cli("links", "stats", "st", *store, "--json").json()
    assert {"total", "human", "bot", "unique", "recipients", "by_day"} <= set(figures)
    assert (figures["total"], figures["recipients"], figures["by_day"]) == (0, [], [])
    assert "No clicks yet" in run_cli("links", "stats", "st", *store).out
    url = run_cli("links", "recipient-url", "st", "--recipient", "ann@example.com", *store,
                  "--json").json()  # fmt: skip
    assert list(url) == ["url"] and url["url"].startswith("http://127.0.0.1:8080/st?r=")
    plain = run_cli("links", "recipient-url", "st", "--recipient", "user-42", *store)
    assert plain.code == 0 and plain.out.strip().startswith("http://127.0.0.1:8080/st?r=")
    assert "ann@example.com" not in url["url"]


def test_disable_enable_delete(
    run_cli: Run, store: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_cli("links", "create", *GOOD, "--code", "dd", *store)
    off = run_cli("links", "disable", "dd", *store, "--json")
    assert off.code == 0 and off.json()["disabled"] is True
    assert "410" in run_cli("links", "disable", "dd", *store).out
    on = run_cli("links", "enable", "dd", *store, "--json")
    assert on.json()["disabled"] is False
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    kept = run_cli("links", "delete", "dd", *store)
    assert kept.code == 1 and "Kept dd" in kept.err
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    gone = run_cli("links", "delete", "dd", *store)
    assert gone.code == 0 and "Deleted dd" in gone.out
    run_cli("links", "create", *GOOD, "--code", "dd2", *store)
    quiet = run_cli("links", "delete", "dd2", *store, "--json")  # --json: no question
    assert quiet.json() == {"ok": True, "code": "dd2", "deleted": True}
    assert run_cli("links", "list", *store, "--json").json()["count"] == 0


def test_a_taken_code_exits_1(run_cli: Run, store: list[str]) -> None:
    run_cli("links", "create", *GOOD, "--code", "same", *store)
    again = run_cli("links", "create", *GOOD, "--code", "same", *store, "--json")
    assert again.code == 1 and again.json()["error"] == "the code 'same' is taken"
    reserved = run_cli("links", "create", *GOOD, "--code", "api", *store, "--json")
    assert reserved.code == 1 and "cannot be a short-link code" in reserved.json()["error"]


def test_import_reports_bad_rows_by_line_and_creates_the_others(
    run_cli: Run, store: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "links.csv"
    path.write_text(CSV, encoding="utf-8")
    result = run_cli("links", "import", str(path), *store, "--json")
    assert result.code == 1
    body = result.json()
    assert [link["code"] for link in body["created"]] == ["imp-a", "imp-c"]
    assert body["created"][0]["tags"] == ["x", "y"]
    assert [(e["line"], bool(e["issues"])) for e in body["errors"]] == [(3, True), (6, False)]
    assert "E_SCHEME_MISSING" in {i["code"] for i in body["errors"][0]["issues"]}
    assert body["summary"] == {"rows": 4, "created": 2, "failed": 2}
    assert body["ignored_columns"] == []
    again = run_cli("links", "import", str(path), *store)  # now the codes are taken
    assert again.code == 1 and "line 2:" in again.err and "is taken" in again.err
    assert "0 of 4 rows imported, 4 failed" in again.err


def test_import_of_a_clean_file_exits_0(run_cli: Run, store: list[str], tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text(
        "\ufeffURL,utm_source,medium,notes\nhttps://example.com/1,nl,email,hi\n", encoding="utf-8"
    )
    result = run_cli("links", "import", str(path), *store)
    assert result.code == 0, result.err
    assert result.out.startswith("http://127.0.0.1:8080/") and "1 of 1 rows imported" in result.err
    assert "ignored columns: notes" in result.err
    body = run_cli("links", "import", str(path), *store, "--json").json()
    assert body["ignored_columns"] == ["notes"] and body["summary"]["created"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("link,utm_source\nhttps://example.com,nl\n", encoding="utf-8")
    refused = run_cli("links", "import", str(bad), *store, "--json")
    assert refused.code == 1 and "the CSV has no `url` column" in refused.json()["error"]
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert "the CSV is empty" in run_cli("links", "import", str(empty), *store).err


# --- bad input: never a traceback, JSON stays JSON -----------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["links", "create"], 2, "Missing option '--url'"),
        (["links", "create", *GOOD, "--expires", "soon"], 2, "is not an ISO 8601 time"),
        (["links", "list", "--api", "http://127.0.0.1:9"], 2, "--api needs --key"),
        (["links", "list", "--key", "tt_admin_x"], 2, "--key goes with --api"),
        (["links", "list", "--api", "http://x", "--key", "k", "--data-dir", "d"], 2, "--data-dir"),
        (["links", "list", "--api", "ftp://x", "--key", "k"], 1, "is not the URL of a tagtrail"),
        (["links", "stats"], 2, "Missing argument 'CODE'"),
        (["links", "import", "missing.csv"], 2, "does not exist"),
    ],
)
def test_bad_input(
    run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    args: list[str], code: int, message: str,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    human = run_cli(*args)
    assert human.code == code and message in human.err and "Traceback" not in human.err
    as_json = run_cli(*args, "--json")
    assert as_json.code == code and message in as_json.json()["error"]


def test_an_unreachable_server_is_a_clear_error(run_cli: Run) -> None:
    api = f"http://127.0.0.1:{free_port()}"
    result = run_cli("links", "list", "--api", api, "--key", "tt_admin_x")
    assert result.code == 1
    assert f"cannot reach the tagtrail server at {api}; is `tagtrail serve` running?" in result.err
    assert "Traceback" not in result.err
    body = run_cli("links", "create", *GOOD, "--api", api, "--key", "k", "--json").json()
    assert body["ok"] is False and "cannot reach" in body["error"]


def test_bar_chart_and_import_line_mapping() -> None:
    assert bar_chart([("a", 4), ("b", 1), ("c", 0)], width=4) == [
        "a  ████  4", "b  █     1", "c        0"
    ]  # fmt: skip
    assert bar_chart([("a", 3), ("b", 2)], width=1)[1] == "b  ▋  2"
    header, records = _records('url,tags\n"https://e.com/1","a\nb"\n\nhttps://e.com/2,\n')
    assert [line for line, _ in records] == [2, 5]
    text, lines = _chunk(header, records)
    assert lines == {2: 2, 3: 2, 4: 5}
    assert _renumber({"line": 4, "error": "x"}, lines) == {"line": 5, "error": "x"}
    assert text.startswith("url,tags\n")


# --- a real server -------------------------------------------------------------------------


def test_new_user_flow(run_cli: Run, server: Server) -> None:
    made = run_cli("links", "create", "--url", "https://example.com/flow", "--source", "nl",
                   "--medium", "email", "--campaign", "flow", *server.api, "--json")  # fmt: skip
    assert made.code == 0, made.out
    link = made.json()
    assert list(link) == LINK_KEYS and link["short_url"] == f"{server.url}/{link['code']}"
    answer = _get(link["short_url"])
    assert answer.status_code == 302
    assert answer.headers["location"] == link["tracked_url"]
    figures = run_cli("links", "stats", link["code"], *server.api, "--json").json()
    assert (figures["total"], figures["human"], figures["bot"]) == (1, 1, 0)
    url = run_cli("links", "recipient-url", link["code"], "--recipient", "user-7", *server.api,
                  "--json").json()["url"]  # fmt: skip
    assert _get(url).status_code == 302
    figures = run_cli("links", "stats", link["code"], *server.api, "--json").json()
    assert figures["total"] == 2 and figures["human"] == 2
    assert [(r["recipient"], r["clicks"]) for r in figures["recipients"]] == [("user-7", 1)]
    assert figures["by_day"][0]["total"] == 2
    text = run_cli("links", "stats", link["code"], *server.api)
    assert "total 2" in text.out and "user-7" in text.out and "█" in text.out


def test_remote_errors_read_as_local_ones(run_cli: Run, server: Server) -> None:
    missing = run_cli("links", "show", "nope", *server.api, "--json")
    assert missing.code == 1 and missing.json()["error"] == "no link with code 'nope'"
    assert missing.json()["errors"][1] == "see `tagtrail links list`"
    refused = run_cli("links", "create", "--url", "example.com", *server.api, "--json")
    assert refused.code == 1 and "E_SCHEME_MISSING" in {i["code"] for i in refused.json()["issues"]}
    human = run_cli("links", "create", "--url", "example.com", *server.api)
    assert human.code == 1 and "E_MISSING_SOURCE" in human.err
    wrong = run_cli("links", "list", "--api", server.url, "--key", "tt_admin_nope")
    assert wrong.code == 1 and "unknown or revoked API key" in wrong.err
    run_cli("links", "create", *GOOD, "--code", "taken", *server.api)
    taken = run_cli("links", "create", *GOOD, "--code", "taken", *server.api, "--json")
    assert taken.code == 1 and taken.json()["error"] == "the code 'taken' is taken"


def test_remote_list_show_disable_enable_delete(
    run_cli: Run, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAGTRAIL_API", server.url)  # the environment works as the flags do
    monkeypatch.setenv("TAGTRAIL_KEY", server.key)
    run_cli("links", "create", *GOOD, "--code", "rm1", "--tag", "remote", "--expires",
            "2031-01-01")  # fmt: skip
    page = run_cli("links", "list", "--tag", "remote", "--json").json()
    assert page["count"] == 1 and page["data"][0]["expires_at"] == "2031-01-01T00:00:00"
    assert run_cli("links", "show", "rm1", "--json").json()["code"] == "rm1"
    assert run_cli("links", "disable", "rm1", "--json").json()["disabled"] is True
    assert _get(f"{server.url}/rm1").status_code == 410
    assert run_cli("links", "enable", "rm1").code == 0
    assert _get(f"{server.url}/rm1").status_code == 302
    assert run_cli("links", "delete", "rm1", "--yes").code == 0
    assert _get(f"{server.url}/rm1").status_code == 404


def test_remote_import(run_cli: Run, server: Server, tmp_path: Path) -> None:
    probe = httpx.post(f"{server.url}/api/links/import", content=b"url\n",
                       headers={"Authorization": f"Bearer {server.key}"})  # fmt: skip
    if probe.status_code in (404, 405):
        pytest.skip("this server has no POST /api/links/import yet")
    path = tmp_path / "links.csv"
    path.write_text(CSV.replace("imp-", "rimp-"), encoding="utf-8")
    result = run_cli("links", "import", str(path), *server.api, "--json")
    assert result.code == 1, result.out
    body = result.json()
    assert sorted(link["code"] for link in body["created"]) == ["rimp-a", "rimp-c"]
    assert sorted(e["line"] for e in body["errors"]) == [3, 6]
    assert body["summary"] == {"rows": 4, "created": 2, "failed": 2}


def test_local_changes_reach_the_running_server(run_cli: Run, server: Server) -> None:
    made = run_cli("links", "create", *GOOD, "--code", "fromdisk",
                   "--data-dir", str(server.data_dir), "--json")  # fmt: skip
    assert made.code == 0, made.out
    deadline = time.monotonic() + 2.5
    status = 0
    while time.monotonic() < deadline:
        status = _get(f"{server.url}/fromdisk").status_code
        if status == 302:
            break
        time.sleep(0.1)
    assert status == 302
    local = run_cli("links", "stats", "fromdisk", "--data-dir", str(server.data_dir), "--json")
    assert local.json()["total"] >= 1


def test_excluded_domains_get_no_short_link_in_both_modes(run_cli: Run, server: Server) -> None:
    workspace = f"{server.url}/api/workspace"
    auth = {"Authorization": f"Bearer {server.key}"}
    assert httpx.patch(workspace, json={"excluded_domains": ["apps.example.org"]},
                       headers=auth).status_code == 200  # fmt: skip
    try:
        args = ["--url", "https://apps.example.org/open", "--source", "nl", "--medium", "email"]
        remote = run_cli("links", "create", *args, *server.api, "--json").json()
        local = run_cli("links", "create", *args, "--data-dir", str(server.data_dir), "--json")
        assert local.json() == remote
        assert remote["tracked"] is False and remote["code"] is None
        assert remote["short_url"] == "https://apps.example.org/open?utm_source=nl&utm_medium=email"
        human = run_cli("links", "create", *args, *server.api)
        assert human.out.strip() == remote["short_url"] and "Not tracked" in human.err
    finally:
        httpx.patch(workspace, json={"excluded_domains": []}, headers=auth)


def test_non_ascii_destinations_are_encoded_on_create_and_import(
    run_cli: Run, store: list[str], tmp_path: Path
) -> None:
    made = run_cli(
        "links", "create", "--url", "https://shop.example/?q=日本#größe", "--source", "nl",
        "--medium", "email", "--code", "iri", *store, "--json",
    )  # fmt: skip
    assert made.code == 0, made.err
    tracked = made.json()["tracked_url"]
    assert tracked.startswith("https://shop.example/?q=%E6%97%A5%E6%9C%AC&utm_source=nl")
    assert tracked.endswith("#gr%C3%B6%C3%9Fe")
    path = tmp_path / "iri.csv"
    path.write_text("url,code,source,medium\nhttps://shop.example/?q=日本,iri2,nl,email\n")
    imported = run_cli("links", "import", str(path), *store, "--json")
    assert imported.code == 0, imported.err
    assert "?q=%E6%97%A5%E6%9C%AC&" in imported.out


# --- issue 16 items 18b and 19: --preset, a past --expires, a duplicate link ----------------


def test_create_with_a_preset_fills_source_and_medium(run_cli: Run, store: list[str]) -> None:
    result = run_cli(
        "links", "create", "--url", "https://example.com/sms", "--preset", "instasent",
        "--campaign", "promo", *store, "--json",
    )  # fmt: skip
    assert result.code == 0, result.out + result.err
    link = result.json()
    assert link["utm"] == {"source": "instasent", "medium": "sms"} and link["channel"] == "SMS"
    mine = run_cli(
        "links", "create", "--url", "https://example.com/sms2", "--preset", "instasent",
        "--source", "acme-sms", *store, "--json",
    )  # fmt: skip
    assert mine.json()["utm"] == {"source": "acme-sms", "medium": "sms"}
    unknown = run_cli("links", "create", "--url", "https://example.com/", "--preset", "nope",
                      *store)  # fmt: skip
    assert unknown.code == 1 and "unknown preset 'nope'" in unknown.err


def test_create_warns_of_a_past_expiry_and_of_a_duplicate(run_cli: Run, store: list[str]) -> None:
    past = run_cli("links", "create", *GOOD, "--code", "old", "--expires", "2020-01-01", *store)
    assert past.code == 0, past.err
    assert "W_EXPIRES_IN_PAST" in past.err and "410" in past.err
    again = run_cli("links", "create", *GOOD, "--code", "again", *store, "--json")
    assert again.code == 0
    (warning,) = again.json()["warnings"]
    assert warning["code"] == "W_DUPLICATE_LINK" and warning["links"] == ["old"]
    text = run_cli("links", "create", *GOOD, "--code", "third", *store)
    assert text.code == 0 and "W_DUPLICATE_LINK" in text.err and "old, again" in text.err
    assert text.out.strip().endswith("/third")


def test_remote_create_carries_the_warnings(run_cli: Run, server: Server) -> None:
    args = ["--url", "https://example.com/remote-twin", "--preset", "intercom"]
    first = run_cli("links", "create", *args, *server.api, "--json")
    assert first.code == 0 and "warnings" not in first.json()
    assert first.json()["utm"] == {"source": "intercom", "medium": "email"}
    second = run_cli("links", "create", *args, *server.api)
    assert second.code == 0 and "W_DUPLICATE_LINK" in second.err


def test_local_links_are_printed_with_the_servers_origin(run_cli: Run, server: Server) -> None:
    """The server of this data dir runs on a free port, not 8080: a link made on the local store
    prints the origin `serve` recorded in that data dir (issue 16 item 16)."""
    store = ["--data-dir", str(server.data_dir)]
    made = run_cli("links", "create", "--url", "https://example.com/port", "--preset", "intercom",
                   *store, "--json")  # fmt: skip
    assert made.code == 0, made.err
    link = made.json()
    assert link["short_url"] == f"{server.url}/{link['code']}"
    assert _get(link["short_url"]).status_code == 302  # printed links are never dead
    shown = run_cli("links", "recipient-url", link["code"], "--recipient", "u1", *store)
    assert shown.out.startswith(f"{server.url}/{link['code']}?r=")
    given = run_cli("links", "show", link["code"], *store, "--base-url", "https://go.example/",
                    "--json")  # fmt: skip
    assert given.json()["short_url"] == f"https://go.example/{link['code']}"
