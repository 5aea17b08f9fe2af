"""The project's data files: loaded from the package, plausible, and in line with their origin."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from tagtrail.channels import (
    ai_assistant_for,
    referrer_host,
    search_engine_for,
    social_network_for,
    source_category,
)
from tagtrail.channels.sources import (
    AI_ASSISTANT_HOSTS,
    SEARCH_ENGINE_PATTERNS,
    SOCIAL_HOSTS,
    SOURCE_CATEGORIES,
)

REPO = Path(__file__).parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
DATA_DIR = REPO / "src" / "tagtrail" / "data"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "update_channel_data", REPO / "scripts" / "update_channel_data.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_category_counts() -> None:
    assert len(SOURCE_CATEGORIES) == 819
    assert Counter(SOURCE_CATEGORIES.values()) == {
        "social": 592,
        "search": 129,
        "shopping": 52,
        "video": 46,
    }
    assert all(k == k.strip().lower() for k in SOURCE_CATEGORIES)


@pytest.mark.parametrize(
    ("source", "category"),
    [
        ("google", "search"),
        ("Google", "search"),
        ("google.com", None),
        ("bing.com", None),
        ("m.facebook.com", "social"),
        ("tiktok", "social"),
        ("youtube", "video"),
        ("igshopping", "shopping"),
        ("Google Shopping", "shopping"),
        ("x.com", None),
        ("threads.net", None),
        ("", None),
        (None, None),
    ],
)
def test_source_category(source: str | None, category: str | None) -> None:
    assert source_category(source) == category


def test_list_sizes_are_plausible() -> None:
    assert 400 < len(SEARCH_ENGINE_PATTERNS) < 1500
    assert 100 < len(SOCIAL_HOSTS) < 600
    assert 10 < len(AI_ASSISTANT_HOSTS) < 200
    for pattern in SEARCH_ENGINE_PATTERNS:
        assert pattern == pattern.lower() and "/" not in pattern and "{" not in pattern
        assert pattern.count("*") <= 1


def test_search_list_has_no_ai_assistants_or_socials() -> None:
    for host in ("chatgpt.com", "chat.openai.com", "perplexity.ai", "you.com", "facebook.com"):
        assert search_engine_for(host) is None, host
    for host in ("mail.google.com", "news.google.com", "gemini.google.com", "maps.google.com"):
        assert search_engine_for(host) is None, host
    assert "www.cnn.com" not in SEARCH_ENGINE_PATTERNS and "cnn.com" not in SEARCH_ENGINE_PATTERNS


@pytest.mark.parametrize(
    ("host", "engine"),
    [
        ("google.fr", "google"),
        ("www.google.co.jp", "google"),
        ("google.example.com", None),
        ("notgoogle.com", None),
        ("yandex.com.tr", "yandex"),
        ("fr.search.yahoo.com", "yahoo"),
        ("yahoo.com", None),
        ("com.google.android.googlequicksearchbox", "google"),
    ],
)
def test_search_engine_patterns(host: str, engine: str | None) -> None:
    assert search_engine_for(host) == engine


def test_ai_and_social_lookups() -> None:
    assert ai_assistant_for("chatgpt.com") == "ChatGPT"
    assert ai_assistant_for("www.perplexity.ai") == "Perplexity"
    assert ai_assistant_for("x.com") is None  # x.com/i/grok is a path: skipped
    assert social_network_for("x.com") is not None
    assert social_network_for("m.facebook.com") == "Facebook"
    assert social_network_for("example.com") is None


@pytest.mark.parametrize(
    ("referrer", "host"),
    [
        ("https://User:pw@WWW.Example.COM:8443/a?b#c", "www.example.com"),
        ("android-app://com.google.android.gm/", "com.google.android.gm"),
        ("https://bücher.example/", "xn--bcher-kva.example"),
        ("example.org/path", "example.org"),
        ("http://[::1", None),
        ("https://exa mple.com/", None),
        ("mailto:someone@example.com", None),
        (None, None),
    ],
)
def test_referrer_host(referrer: str | None, host: str | None) -> None:
    assert referrer_host(referrer) == host


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="the shared reference data is not beside")
def test_derived_files_agree_with_the_reference_data() -> None:
    with (SHARED_DATA / "ga4_source_categories.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(SOURCE_CATEGORIES) == 819
    for row in rows:
        expected = row["source_category"].removeprefix("SOURCE_CATEGORY_").lower()
        assert SOURCE_CATEGORIES[row["source"].strip().lower()] == expected
    script = _script()
    args = script.argparse.Namespace(
        categories=SHARED_DATA / "ga4_source_categories.csv",
        search_engines=SHARED_DATA / "matomo-SearchEngines.yml",
        socials=SHARED_DATA / "matomo-Socials.yml",
        ai_assistants=SHARED_DATA / "matomo-AIAssistants.yml",
    )
    for name, derived in script.derive_all(args).items():
        committed = json.loads((DATA_DIR / name).read_text(encoding="utf-8"))
        assert script.diff(committed, derived) == [], f"{name}: run the update script"
        assert (DATA_DIR / name).read_text(encoding="utf-8") == script.render(derived)


def test_yaml_subset_reader() -> None:
    script = _script()
    text = "A:\n  -\n    urls:\n      - a.com\n      - 'b.{}'\n    params: []\nB:\n  - urls:\n"
    text += "      - c.com\n    hidden:\n"
    parsed = script.parse_yaml(text)
    assert parsed["A"] == [{"urls": ["a.com", "b.{}"], "params": []}]
    assert parsed["B"] == [{"urls": ["c.com"], "hidden": None}]


def test_update_script_diff_and_write(tmp_path: Path) -> None:
    script = _script()
    assert script.diff({"a": "x", "b": "y"}, {"b": "z", "c": "w"}) == [
        "+ c: w",
        "- a: x",
        "~ b: y -> z",
    ]
    if SHARED_DATA.is_dir():
        assert script.main(["--data-dir", str(tmp_path), "--write"]) == 0
        assert json.loads((tmp_path / "search_engines.json").read_text())["google.*"] == "google"
