#!/usr/bin/env python3
"""Regenerate tagtrail's channel data files from newer downloads, and show what changed.

    python scripts/update_channel_data.py [--categories CSV] [--search-engines YML]
        [--socials YML] [--ai-assistants YML] [--data-dir DIR] [--write]

Inputs (defaults: the file names of /work/shared/data, i.e. the reference copies):
  * Google's GA4 source-category list as a `source,source_category` CSV (the Velir/dbt-ga4 seed);
  * Matomo's `SearchEngines.yml`, `Socials.yml` and `AIAssistants.yml`
    (matomo-org/searchengine-and-social-list, CC0-1.0).

Without `--write` it only prints a diff (added / removed / changed entries) against the files
committed under src/tagtrail/data/; with `--write` it also rewrites them. No network access: the
maintainer downloads the files by hand. The YAML is read by a small parser for the subset these
files use, so there is no PyYAML dependency. See docs/channels.md, "Updating the data".
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "src" / "tagtrail" / "data"
SHARED = REPO.parent / "shared" / "data"

CATEGORY_NAMES = {
    "SOURCE_CATEGORY_SEARCH": "search",
    "SOURCE_CATEGORY_SOCIAL": "social",
    "SOURCE_CATEGORY_SHOPPING": "shopping",
    "SOURCE_CATEGORY_VIDEO": "video",
}

# Matomo engine name -> the short source name tagtrail (like GA4) reports with medium `organic`.
# Engines not listed here get a slug of their Matomo name.
SOURCE_NAMES = {
    "Google": "google",
    "Google Images": "google",
    "Bing": "bing",
    "Bing Images": "bing",
    "Yahoo!": "yahoo",
    "Yahoo! Images": "yahoo",
    "Yahoo! Directory": "yahoo",
    "Yahoo! Japan": "yahoo",
    "Yahoo! Japan Images": "yahoo",
    "Yahoo! Japan Videos": "yahoo",
    "Yandex": "yandex",
    "Yandex Images": "yandex",
    "Baidu": "baidu",
    "DuckDuckGo": "duckduckgo",
    "Ecosia": "ecosia",
    "Naver": "naver",
    "Seznam": "seznam",
    "Seznam Videa": "seznam",
    "Daum": "daum",
    "Sogou": "sogou",
    "Cốc Cốc": "coccoc",
    "Mailru": "mail.ru",
    "360search": "so.com",
    "Biglobe Images": "biglobe",
    "auone Images": "auone",
    "Nifty Videos": "nifty",
    "So-net Videos": "so-net",
    "Ask": "ask",
    "AOL": "aol",
    "Qwant": "qwant",
    "StartPage": "startpage",
    "Brave": "brave",
    "Kagi": "kagi",
}

# Matomo's "Google" engine also carries sites that embed Google results (www.cnn.com, wow.com,
# search.avg.com, …): GA4 reports those as referrals, so of the Google family only hosts that are
# Google's own web or image search are kept. Everything else under google.* (mail., news., maps.,
# scholar., translate., gemini., …) is not a search engine for tagtrail.
GOOGLE_ENGINES = {"Google", "Google Images"}
GOOGLE_SEARCH_PREFIXES = {"", "www.", "www2.", "encrypted.", "ipv6.", "images."}
GOOGLE_APPS = {"com.google.android.googlequicksearchbox"}
_GOOGLE_HOST = re.compile(r"^(?P<prefix>(?:[a-z0-9-]+\.)*)google\.(?:\*|com)$")

# ---------------------------------------------------------------- a tiny YAML subset reader


def _scalar(text: str) -> Any:
    text = text.strip()
    if text in ("", "~", "null"):
        return None
    if text == "[]":
        return []
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return json.loads(text)
    return text


def _split_key(text: str) -> tuple[str, str] | None:
    """`key: value` -> (key, value) when the line is a mapping entry (keys may be quoted)."""
    if text[:1] in ("'", '"'):
        end = text.find(text[0], 1)
        if end > 0 and text[end + 1 : end + 2] == ":":
            return str(_scalar(text[: end + 1])), text[end + 2 :]
        return None
    match = re.match(r"^([^:#]+?):(?:\s+(.*))?$", text)
    if match is None:
        return None
    return match.group(1), match.group(2) or ""


def parse_yaml(text: str) -> Any:
    """Parse the block-style YAML of the Matomo lists (mappings, sequences, plain scalars)."""
    lines: list[tuple[int, str]] = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        lines.append((len(raw) - len(raw.lstrip(" ")), stripped))
    value, _ = _parse_block(lines, 0, lines[0][0] if lines else 0)
    return value


def _parse_block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    if i >= len(lines):
        return None, i
    if lines[i][1].startswith("-"):
        items: list[Any] = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("-"):
            text = lines[i][1]
            rest = text[1:].strip()
            if rest and rest[0] not in "'\"" and _split_key(rest) is not None:
                column = indent + len(text) - len(rest)  # `- key: …` starts a mapping
                lines[i] = (column, rest)
                item, i = _parse_block(lines, i, column)
                items.append(item)
                continue
            i += 1
            if rest:
                items.append(_scalar(rest))
            elif i < len(lines) and lines[i][0] > indent:
                item, i = _parse_block(lines, i, lines[i][0])
                items.append(item)
            else:
                items.append(None)
        return items, i
    mapping: dict[str, Any] = {}
    while i < len(lines) and lines[i][0] == indent:
        pair = _split_key(lines[i][1])
        if pair is None:
            raise ValueError(f"cannot read YAML line: {lines[i][1]!r}")
        key, rest = pair
        i += 1
        if rest.strip():
            mapping[key] = _scalar(rest)
        elif i < len(lines) and (
            lines[i][0] > indent or (lines[i][0] == indent and lines[i][1].startswith("-"))
        ):
            mapping[key], i = _parse_block(lines, i, lines[i][0])
        else:
            mapping[key] = None
    return mapping, i


# ---------------------------------------------------------------- derivation


def _slug(name: str) -> str:
    name = re.sub(r"\(.*?\)", "", name)  # "Startpagina (Google)" -> "startpagina"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9.]+", "-", ascii_name.lower()).strip("-.")
    return slug or re.sub(r"\s+", "-", name.strip().lower())


def _pattern(host: str) -> str | None:
    """Matomo host (with `{}` placeholders) -> tagtrail pattern, or None when not host-only.

    `google.{}` -> `google.*` (any public-suffix-like ending: `com`, `de`, `co.uk`, `com.br`);
    `{}.search.yahoo.com` -> `*.search.yahoo.com` (any subdomain). A leading `www.` is dropped
    because the matcher treats it as optional. Entries with a path cannot be matched on a host
    (browsers usually send only the origin) and are skipped.
    """
    host = host.strip().lower()
    if not host or "/" in host or " " in host:
        return None
    host = host.replace("{}", "*")
    if host.startswith("www.") and host.count(".") > 1:
        host = host[4:]
    if "*" in host.strip("*") or host == "*":
        return None
    return host


def _host_set(data: Any) -> dict[str, str]:
    """Socials/AIAssistants YAML (name -> [hosts]) -> {pattern: name}."""
    out: dict[str, str] = {}
    for name, hosts in (data or {}).items():
        for host in hosts or []:
            pattern = _pattern(str(host))
            if pattern is not None:
                out.setdefault(pattern, str(name))
    return out


def _keep_google(engine: str, pattern: str) -> bool:
    if pattern in GOOGLE_APPS:
        return engine == "Google"
    match = _GOOGLE_HOST.match(pattern)
    if engine in GOOGLE_ENGINES:
        return match is not None and match.group("prefix") in GOOGLE_SEARCH_PREFIXES
    return match is None  # no other engine may claim a google.* host


def derive_search_engines(data: Any, socials: dict[str, str], ai: dict[str, str]) -> dict[str, str]:
    """SearchEngines YAML -> {host pattern: source name}, without AI assistants and socials."""
    excluded_names = {n.lower() for n in [*ai.values(), *socials.values()]}
    out: dict[str, str] = {}
    for engine, blocks in (data or {}).items():
        engine = str(engine)
        if engine.lower() in excluded_names:
            continue
        source = SOURCE_NAMES.get(engine) or _slug(engine)
        for block in blocks or []:
            for host in (block or {}).get("urls") or []:
                pattern = _pattern(str(host))
                if pattern is None or pattern in ai or pattern in socials:
                    continue
                if any(pattern == h or pattern.endswith("." + h) for h in ai):
                    continue
                if not _keep_google(engine, pattern):
                    continue
                out.setdefault(pattern, source)
    return out


def derive_categories(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            source = row["source"].strip().lower()
            category = CATEGORY_NAMES[row["source_category"].strip()]
            if source:
                out[source] = category
    return out


def derive_all(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    socials = _host_set(parse_yaml(Path(args.socials).read_text(encoding="utf-8")))
    ai = _host_set(parse_yaml(Path(args.ai_assistants).read_text(encoding="utf-8")))
    engines_yaml = parse_yaml(Path(args.search_engines).read_text(encoding="utf-8"))
    return {
        "ga4_source_categories.json": derive_categories(Path(args.categories)),
        "search_engines.json": derive_search_engines(engines_yaml, socials, ai),
        "social_hosts.json": socials,
        "ai_assistants.json": ai,
    }


# ---------------------------------------------------------------- diff and write


def render(mapping: dict[str, str]) -> str:
    """One entry a line, sorted: small diffs in review, compact enough to load fast."""
    items = sorted(mapping.items())
    body = ",\n".join(
        f"  {json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}"
        for k, v in items
    )
    return "{\n" + body + "\n}\n"


def diff(old: dict[str, str], new: dict[str, str]) -> list[str]:
    lines = [f"+ {k}: {new[k]}" for k in sorted(new.keys() - old.keys())]
    lines += [f"- {k}: {old[k]}" for k in sorted(old.keys() - new.keys())]
    lines += [
        f"~ {k}: {old[k]} -> {new[k]}" for k in sorted(old.keys() & new.keys()) if old[k] != new[k]
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--categories", default=str(SHARED / "ga4_source_categories.csv"))
    parser.add_argument("--search-engines", default=str(SHARED / "matomo-SearchEngines.yml"))
    parser.add_argument("--socials", default=str(SHARED / "matomo-Socials.yml"))
    parser.add_argument("--ai-assistants", default=str(SHARED / "matomo-AIAssistants.yml"))
    parser.add_argument("--data-dir", default=str(DATA_DIR), help="the project's data directory")
    parser.add_argument("--write", action="store_true", help="rewrite the project's data files")
    args = parser.parse_args(argv)

    data_dir = Path(args.data_dir)
    changed = 0
    for name, new in derive_all(args).items():
        target = data_dir / name
        old = json.loads(target.read_text(encoding="utf-8")) if target.exists() else {}
        lines = diff(old, new)
        changed += len(lines)
        print(f"{name}: {len(new)} entries, {len(lines)} changed")
        for line in lines:
            print(f"  {line}")
        if args.write and (lines or not target.exists()):
            target.write_text(render(new), encoding="utf-8")
    if changed and not args.write:
        print("run again with --write to update the files (then update PROVENANCE.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
