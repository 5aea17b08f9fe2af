"""`tagtrail build`, `lint` and `presets` as a user runs them."""

from __future__ import annotations

import csv
import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult

Run = Callable[..., CliResult]
URL = "https://example.com/pricing"


def test_build_prints_the_url_on_stdout_and_details_on_stderr(run_cli: Run) -> None:
    result = run_cli("build", "--url", URL, "--preset", "intercom", "--campaign", "Welcome")
    assert result.code == 0
    assert result.out.strip() == (
        f"{URL}?utm_source=intercom&utm_medium=email&utm_campaign=welcome"
    )
    assert "Email" in result.err and "I_NORMALIZED" in result.err


def test_build_json_contract(run_cli: Run) -> None:
    result = run_cli(
        "build",
        "--url",
        URL,
        "--source",
        "instasent",
        "--medium",
        "sms",
        "--campaign",
        "promo",
        "--json",
    )
    assert result.code == 0
    document = result.json()
    assert list(document) == ["status", "tracked_url", "channel", "issues"]
    assert document["channel"] == "SMS" and document["status"] == "ok"


def test_explicit_values_win_over_the_preset(run_cli: Run) -> None:
    document = run_cli(
        "build",
        "--url",
        URL,
        "--preset",
        "intercom",
        "--medium",
        "push",
        "--campaign",
        "x",
        "--json",
    ).json()
    assert "utm_medium=push" in document["tracked_url"]


def test_new_user_gets_every_problem_and_a_corrected_command(run_cli: Run) -> None:
    result = run_cli(
        "build",
        "--url",
        "example.com/x",
        "--source",
        "Intercom.com",
        "--medium",
        "in-app",
        "--campaign",
        "Onboarding Series",
    )
    assert result.code == 1
    assert result.out == ""
    for code in ("E_SCHEME_MISSING", "W_DOMAIN_AS_SOURCE", "W_UNASSIGNED"):
        assert code in result.err
    assert (
        "Try: tagtrail build --url https://example.com/x --source intercom --medium app "
        "--campaign onboarding-series" in result.err
    )
    assert "Traceback" not in result.err
    document = run_cli(
        "build",
        "--url",
        "example.com/x",
        "--source",
        "Intercom.com",
        "--medium",
        "in-app",
        "--campaign",
        "Onboarding Series",
        "--json",
    )
    assert document.code == 1
    assert {i["code"] for i in document.json()["issues"]} >= {
        "E_SCHEME_MISSING",
        "W_DOMAIN_AS_SOURCE",
        "W_UNASSIGNED",
    }


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["build"], 2, "--url is required"),
        (["build", "--url", URL, "--bogus"], 2, "No such option"),
        (["build", "--url", URL, "--preset", "nope"], 1, "unknown preset 'nope'"),
        (["build", "--url", URL, "--policy", "/nonexistent/tagtrail.toml"], 1, "does not exist"),
        (["build", "--csv", "/nonexistent.csv", "--out", "x.csv"], 2, "does not exist"),
        (["lint"], 2, "give at least one URL"),
        (["lint", "--file", "/nonexistent.txt"], 2, "does not exist"),
    ],
)
def test_bad_input_gives_a_message_and_valid_json(
    run_cli: Run, args: list[str], code: int, fragment: str
) -> None:
    text = run_cli(*args)
    assert text.code == code
    assert fragment in text.err and "Traceback" not in text.err
    as_json = run_cli(*args, "--json")
    assert as_json.code == code
    document = as_json.json()
    assert document["ok"] is False and fragment in document["error"]


def test_build_rejects_url_and_csv_together(run_cli: Run, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("url\nhttps://a.example/\n")
    result = run_cli("build", "--url", URL, "--csv", str(source), "--out", "o.csv", "--json")
    assert result.code == 2 and "not both" in result.json()["error"]
    result = run_cli("build", "--csv", str(source), "--json")
    assert result.code == 2 and "--out" in result.json()["error"]


def test_lint_one_and_many(run_cli: Run, tmp_path: Path) -> None:
    bad = "https://example.com/?utm_source=Intercom.com&utm_medium=in-app"
    good = "https://example.com/?utm_source=intercom&utm_medium=email&utm_campaign=w"
    one = run_cli("lint", bad, "--json")
    assert one.code == 0
    assert one.json()["suggested_url"] == (
        "https://example.com/?utm_source=intercom.com&utm_medium=in-app"
    )
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# campaign links\n{good}\n\n{bad}\nexample.com/no-scheme\n")
    many = run_cli("lint", "--file", str(listing), "--json")
    assert many.code == 1
    assert many.json()["summary"] == {"checked": 3, "ok": 1, "warning": 1, "error": 1}
    text = run_cli("lint", bad)
    assert "W_UNASSIGNED" in text.out and "suggested:" in text.out


def test_presets_lists_builtin_and_policy_presets(
    run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tagtrail.toml").write_text('[presets.acme]\nsource = "acme"\nmedium = "email"\n')
    monkeypatch.chdir(tmp_path)
    document = run_cli("presets", "--json").json()
    assert document["intercom"]["channel"] == "Email"
    assert document["acme"]["source"] == "acme"
    assert "instasent" in run_cli("presets").out


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def test_bulk_build(run_cli: Run, tmp_path: Path) -> None:
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _write_csv(
        source,
        [
            ["name", "url", "utm_source", "medium", "campaign", "preset"],
            ["a", "https://example.com/a?x=1", "newsletter", "email", "Spring", ""],
            ["b", "example.com/b", "newsletter", "email", "spring", ""],
            ["c", "https://example.com/c", "", "", "Spring Sale", "instasent"],
            ["d", "https://example.com/d"],
        ],
    )
    result = run_cli("build", "--csv", str(source), "--out", str(out), "--json", "--jobs", "1")
    assert result.code == 1  # row b has an error
    summary = result.json()
    assert summary["rows"] == 4 and summary["error"] == 2 and summary["ok"] == 2
    assert summary["issues"]["E_SCHEME_MISSING"] == 1
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["name"] for r in rows] == ["a", "b", "c", "d"]
    assert rows[0]["tracked_url"] == (
        "https://example.com/a?x=1&utm_source=newsletter&utm_medium=email&utm_campaign=spring"
    )
    assert rows[1]["status"] == "error" and rows[1]["tracked_url"] == ""
    assert "E_SCHEME_MISSING" in rows[1]["issue_codes"]
    assert rows[2]["channel"] == "SMS" and "utm_campaign=spring-sale" in rows[2]["tracked_url"]
    assert rows[3]["issue_codes"].split()[:2] == ["E_MISSING_SOURCE", "E_MISSING_MEDIUM"]


def test_bulk_build_in_parallel_gives_the_same_file(run_cli: Run, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    rows = [["url", "source", "medium", "campaign", "content"]]
    quoted = 'Variant {}, "quoted"\nover two lines'
    rows += [
        [
            f"https://example.com/p/{i}?ref={i}",
            "newsletter",
            "email",
            f"c{i % 7}",
            quoted.format(i) if i % 999 == 0 else f"Variant {i}",
        ]
        for i in range(10_000)
    ]
    _write_csv(source, rows)
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert run_cli("build", "--csv", str(source), "--out", str(one), "--jobs", "1").code == 0
    result = run_cli("build", "--csv", str(source), "--out", str(two), "--jobs", "2")
    assert result.code == 0 and "10,000 rows" in result.out
    assert one.read_bytes() == two.read_bytes()
    with two.open(newline="", encoding="utf-8") as handle:
        built = list(csv.DictReader(handle))
    assert len(built) == 10_000
    assert built[999]["content"] == 'Variant 999, "quoted"\nover two lines'
    assert built[999]["tracked_url"].endswith("utm_content=variant-999-quoted-over-two-lines")


def test_bulk_build_needs_a_url_column(run_cli: Run, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    _write_csv(source, [["link", "source"], ["https://a.example/", "x"]])
    result = run_cli("build", "--csv", str(source), "--out", str(tmp_path / "o.csv"), "--json")
    assert result.code == 1 and "no `url` column" in result.json()["error"]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = run_cli("build", "--csv", str(empty), "--out", str(tmp_path / "o.csv"))
    assert result.code == 1 and "is empty" in result.err


def test_console_script_runs_without_traceback() -> None:
    exe = shutil.which("tagtrail", path=str(Path(sys.executable).parent))
    assert exe is not None
    done = subprocess.run(
        [
            exe,
            "build",
            "--url",
            "ftp://example.com/",
            "--source",
            "a",
            "--medium",
            "email",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert json.loads(done.stdout)["issues"][0]["code"] == "E_SCHEME_UNSUPPORTED"
    assert "Traceback" not in done.stderr
    version = subprocess.run(
        [exe, "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert version.returncode == 0 and "tagtrail" in version.stdout


def test_a_bug_is_reported_without_a_traceback(
    run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module("tagtrail.cli.build")  # the module, not the command

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(module, "build_link", broken)
    result = run_cli("build", "--url", URL, "--source", "a", "--medium", "email", "--json")
    assert result.code == 1
    assert result.json()["error"] == "internal error: RuntimeError: boom"
    assert "TAGTRAIL_DEBUG=1" in result.json()["errors"][1]
    monkeypatch.setenv("TAGTRAIL_DEBUG", "1")
    with pytest.raises(RuntimeError):
        run_cli("build", "--url", URL, "--source", "a", "--medium", "email")


# --- issue 16 item 18b: bulk mode's input, output and empty files ---------------------------


def test_bulk_refuses_to_overwrite_its_input(run_cli: Run, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("url,source,medium\nhttps://example.com/a,intercom,email\n")
    before = sheet.read_text()
    result = run_cli("build", "--csv", str(sheet), "--out", str(sheet))
    assert result.code == 2
    assert "is the input file" in result.err and "--out" in result.err
    assert sheet.read_text() == before
    as_json = run_cli("build", "--csv", str(sheet), "--out", str(sheet), "--json")
    assert as_json.code == 2 and json.loads(as_json.out)["status"] == 2


def test_bulk_on_a_header_only_file_writes_an_empty_output(run_cli: Run, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("url,source,medium\n")
    out = tmp_path / "tracked.csv"
    for jobs in ("1", "2"):
        result = run_cli("build", "--csv", str(sheet), "--out", str(out), "--jobs", jobs, "--json")
        assert result.code == 0, result.out + result.err
        assert json.loads(result.out)["rows"] == 0
        assert out.read_text().splitlines() == [
            "url,source,medium,tracked_url,status,channel,issue_codes,issues"
        ]


def test_bulk_into_a_missing_folder_is_a_clear_error(run_cli: Run, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("url,source,medium\nhttps://example.com/a,intercom,email\n")
    result = run_cli("build", "--csv", str(sheet), "--out", str(tmp_path / "no" / "x.csv"))
    assert result.code == 1
    assert "does not exist" in result.err and "internal error" not in result.err
