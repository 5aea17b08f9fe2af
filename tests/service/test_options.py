"""The option rules the CLI and the MCP tools share (service/options.py, service/sends.py)."""

from __future__ import annotations

import pytest

from tagtrail.errors import InvalidOptions
from tagtrail.service.options import check_range, parse_duration, path_rules
from tagtrail.service.sends import MAX_SENDS, parse_sends_csv

RULES = {
    "lookback": "30d",
    "touch_types": ["touch", " Exposure "],
    "collapse_repeats": False,
    "half_life": "0s",
    "exposure_window": "24h",
    "click_window": "3d",
}


def test_durations_and_rules() -> None:
    assert parse_duration(" 2w ", "lookback") == 1_209_600
    rules = path_rules(**RULES)  # type: ignore[arg-type]
    assert rules.touch_types == ("touch", "exposure")
    assert rules.half_life == 1 and rules.lookback == 2_592_000


@pytest.mark.parametrize(
    ("change", "option"),
    [
        ({"lookback": "30 days"}, "lookback"),
        ({"click_window": "3"}, "click_window"),
        ({"touch_types": ["conversion"]}, "touch_types"),
        ({"touch_types": [" "]}, "touch_types"),
    ],
)
def test_a_bad_option_is_named(change: dict[str, object], option: str) -> None:
    with pytest.raises(InvalidOptions) as caught:
        path_rules(**{**RULES, **change})  # type: ignore[arg-type]
    assert caught.value.option == option
    assert caught.value.usage_message().startswith(f"Invalid value for {option!r}: ")


def test_a_range_ends_after_it_starts() -> None:
    import datetime as dt

    check_range(dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    with pytest.raises(InvalidOptions, match="before start"):
        check_range(dt.date(2026, 1, 2), dt.date(2026, 1, 1))


def test_the_sends_csv_reports_every_bad_row_by_line() -> None:
    text = (
        "Recipient,SENT_AT,campaign\n"
        "ana@example.com,2026-03-01T09:00:00Z,spring\n"
        ",2026-03-01T09:00:00Z,spring\n"
        "bob@example.com,yesterday,spring\n"
        "cy@example.com,2026-03-01T09:00:00Z,spring,extra\n"
    )
    items, problems = parse_sends_csv(text)
    assert [i.recipient for i in items] == ["ana@example.com"]
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 5"]
    assert parse_sends_csv("recipient,campaign\n")[1] == [
        "line 1: the header needs recipient and sent_at "
        "(recipient,campaign,message,sent_at,channel,held_out)"
    ]
    many = "recipient,sent_at\n" + "a@example.com,2026-03-01T09:00:00Z\n" * (MAX_SENDS + 1)
    assert parse_sends_csv(many) == (
        [],
        [f"line {MAX_SENDS + 2}: more than 10,000 rows; split the file"],
    )
