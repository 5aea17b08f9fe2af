"""`tagtrail report --html` shows each held-out campaign's lift beside its attributed credit."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from tagtrail.service.sends import SendSpec, record_sends
from tagtrail.settings import Settings
from tagtrail.store.database import open_store

HEADER = "user_id,timestamp,type,channel,source,medium,campaign,value\n"
SENT = datetime(2024, 1, 1, 10, 0, 0)


def test_the_report_shows_attributed_and_incremental_conversions(
    run_cli: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    rows = [f"u{i},2024-01-01T12:00:00Z,touch,email,newsletter,email,spring," for i in range(8)]
    rows += [f"u{i},2024-01-02T00:00:00Z,conversion,,,,,10.00" for i in range(8)]
    rows += ["u90,2024-01-02T00:00:00Z,conversion,,,,,10.00"]  # one held-out converter
    events = tmp_path / "journeys.csv"
    events.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    assert run_cli("import", str(events), "--data-dir", str(data)).code == 0
    settings = Settings(data_dir=data)
    engine = open_store(settings.store_url)
    try:
        sent = [SendSpec(f"u{i}", SENT, "spring") for i in range(90)]
        sent += [SendSpec(f"u{i}", SENT, "spring", held_out=True) for i in range(90, 100)]
        record_sends(engine, 1, sent, secret=settings.secret(), now=SENT)
    finally:
        engine.dispose()
    out = tmp_path / "report.html"
    result = run_cli("report", "--html", str(out), "--data-dir", str(data))
    assert result.code == 0, result.err
    html = out.read_text()
    assert "Lift over holdouts" in html and "<script" not in html
    # 8 of 90 treated and 1 of 10 held out: incremental (8/90 - 1/10) * 90 = -1.
    summary = re.search(r'id="lift-summary">(.*?)</p>', html)
    assert summary, html[:2000]
    text = re.sub(r"<[^>]+>", "", summary.group(1))
    assert re.fullmatch(
        r"spring: attributed 8 conversions \(last_touch\); incremental -1 \(95 % CI -?\d+ to \d+\)",
        text,
    ), text
    assert 'class="band"' in html
