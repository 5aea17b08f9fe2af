"""`tagtrail report --html`: one self-contained file with the dashboard's charts and tables."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.dashboard.test_journeys import store_journey


def test_report_is_one_self_contained_file(run_cli: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = run_cli(
        "links", "create", "--url", "https://example.com/a", "--source", "news",
        "--medium", "email", "--campaign", "spring", "--data-dir", str(data),
    )  # fmt: skip
    assert made.code == 0, made.err
    out = tmp_path / "report.html"
    result = run_cli("report", "--html", str(out), "--data-dir", str(data), "--campaign", "spring")
    assert result.code == 0, result.err
    html = out.read_text()
    assert "<style>" in html and "<script" not in html and 'rel="stylesheet"' not in html
    assert "spring" in html and 'class="chart"' in html and "Attribution models compared" in html


def test_a_bad_date_is_refused_with_a_hint(run_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = run_cli("report", "--html", str(out), "--from", "May", "--data-dir", str(tmp_path))
    assert result.code == 2  # a usage error, as docs/cli.md says (issue 16 item 18b)
    assert "YYYY-MM-DD" in result.err
    assert not out.exists()


def test_a_campaign_named_unnormalised_gets_its_links_conversions(
    run_cli: Any, tmp_path: Path
) -> None:
    """`Onboarding Email 1` is `utm_campaign=onboarding-email-1` on its links: the campaign row
    and its link row show the same 2 conversions and 49.90 (issue 16 item 13)."""
    import re

    from tagtrail.service import views
    from tagtrail.service.goals import add_goal
    from tagtrail.service.keys import ensure_workspace
    from tagtrail.service.reports import Window
    from tagtrail.settings import load_settings
    from tagtrail.store.database import open_store

    data = tmp_path / "data"
    made = run_cli(
        "links", "create", "--url", "https://shop.example/welcome", "--source", "intercom",
        "--medium", "email", "--campaign", "Onboarding Email 1", "--code", "welcome",
        "--data-dir", str(data), "--json",
    )  # fmt: skip
    assert made.code == 0, made.err
    tracked = made.json()["tracked_url"]
    assert "utm_campaign=onboarding-email-1" in tracked
    settings = load_settings(data_dir=data)
    engine = open_store(settings.store_url)
    try:
        workspace, _ = ensure_workspace(engine, now=datetime(2026, 5, 1))
        add_goal(engine, workspace, "Order Completed", "revenue", now=datetime(2026, 5, 1))
        store_journey(engine, workspace, "ann", 24.95, tracked)
        store_journey(engine, workspace, "bob", 24.95, tracked)
        page = views.campaigns(engine, workspace, settings, Window(), wait=None)
    finally:
        engine.dispose()
    (campaign,) = page["campaigns"]
    (link,) = page["links"]
    assert (link["conversions"], round(link["revenue"], 2)) == (2, 49.9)
    assert campaign["campaign"] == "Onboarding Email 1"
    assert (campaign["conversions"], round(campaign["revenue"], 2)) == (2, 49.9)

    out = tmp_path / "report.html"
    result = run_cli("report", "--html", str(out), "--data-dir", str(data))
    assert result.code == 0, result.err
    row = re.search(r'<tr><th scope="row">Onboarding Email 1</th>(.*?)</tr>', out.read_text())
    assert row is not None
    cells = re.findall(r"<td>([^<]*)</td>", row.group(1))
    assert cells[-2:] == ["2", "49.90"], cells


def test_a_date_that_does_not_exist_is_a_usage_error(run_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = run_cli(
        "report", "--html", str(out), "--from", "2026-13-01", "--data-dir", str(tmp_path)
    )
    assert result.code == 2, result.err
    assert "YYYY-MM-DD" in result.err and not out.exists()


def test_report_json_has_the_documented_shape(run_cli: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = run_cli(
        "links", "create", "--url", "https://example.com/a", "--source", "news",
        "--medium", "email", "--campaign", "Spring Sale", "--code", "sp", "--data-dir", str(data),
    )  # fmt: skip
    assert made.code == 0, made.err
    out = tmp_path / "r.html"
    result = run_cli("report", "--json", "--html", str(out), "--data-dir", str(data))
    assert result.code == 0, result.err
    body = json.loads(result.out)
    assert list(body) == [
        "window", "overview", "campaigns", "links", "channels", "attribution", "html"
    ]  # fmt: skip
    assert body["window"] == {"from": None, "to": None, "campaign": None}
    assert set(body["overview"]) == {"human", "bot", "conversions", "revenue"}
    assert body["campaigns"][0]["campaign"] == "Spring Sale" and "key" not in body["campaigns"][0]
    assert body["links"][0]["code"] == "sp" and body["html"] == str(out) and out.exists()
    alone = run_cli("report", "--json", "--data-dir", str(data))
    assert alone.code == 0 and json.loads(alone.out)["html"] is None
    neither = run_cli("report", "--data-dir", str(data))
    assert neither.code == 2
