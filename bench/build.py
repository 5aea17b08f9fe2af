"""Bulk link building and channel classification, each beside its anchors (issue 2).

    python bench/build.py [--rows 1000000] [--calls 1000000]

Generates a realistic campaign sheet (20,000 landing pages with their own query strings, messy
source/medium spellings, 500 campaigns, 1 % broken rows), then times, in this one run:
- anchor "csv copy": reading and writing the same rows with Python's csv module (the I/O floor);
- anchor "urllib builder": a naive builder (urlsplit, parse_qsl, urlencode) with no checks;
- tagtrail: `tagtrail build --csv IN --out OUT` end to end (process start included), 2 jobs and 1;
- channel_for on a realistic mix (memoised) and uncached, beside a plain dict lookup.
Targets: bulk build ≥ 100,000 links/s, channel_for ≥ 500,000 calls/s.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tagtrail.channels import channel_for, channel_for_uncached

OUT = Path(__file__).parent / "out"
PAIRS = [
    ("newsletter", "email"),
    ("Intercom", "Email"),
    ("intercom.com", "email"),
    ("instasent", "sms"),
    ("Instasent", "SMS"),
    ("facebook", "cpc"),
    ("facebook", "paid_social"),
    ("google", "cpc"),
    ("google", "email"),
    ("linkedin", "social"),
    ("LinkedIn", "Social Media"),
    ("twitter", "social"),
    ("x.com", "social"),
    ("youtube", "cpv"),
    ("partner", "affiliate"),
    ("intercom", "in-app"),
    ("firebase", "push"),
    ("podcast", "audio"),
    ("bing", "cpc"),
    ("tiktok", "cpc"),
    ("reddit", "cpc"),
    ("mailchimp", "email"),
    ("publisher", "banner"),
]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(20261124)
    pages = [
        f"https://www.example.com/{rng.choice(['products', 'blog', 'pricing', 'docs'])}/"
        f"{i}?ref=r{i % 17}&lang={rng.choice(['en', 'es', 'de'])}"
        + (f"&utm_source=old{i % 3}" if i % 11 == 0 else "")
        + ("#details" if i % 13 == 0 else "")
        for i in range(20_000)
    ]
    campaigns = [f"{rng.choice(['Spring', 'Black Friday', 'Onboarding'])} {i}" for i in range(500)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["url", "source", "medium", "campaign", "content"])
        for i in range(rows):
            source, medium = PAIRS[rng.randrange(len(PAIRS))]
            url = pages[rng.randrange(len(pages))]
            if i % 100 == 0:
                url = url.removeprefix("https://")
            writer.writerow([url, source, medium, rng.choice(campaigns), f"Variant {i % 50}"])


def csv_copy(source: Path, target: Path) -> None:
    with source.open(newline="") as inp, target.open("w", newline="") as out:
        writer = csv.writer(out)
        for row in csv.reader(inp):
            writer.writerow([*row, "", "", "", "", ""])


def urllib_builder(source: Path, target: Path) -> None:
    with source.open(newline="") as inp, target.open("w", newline="") as out:
        reader, writer = csv.reader(inp), csv.writer(out)
        next(reader)
        for url, src, medium, campaign, content in reader:
            parts = urlsplit(url)
            query = [(k, v) for k, v in parse_qsl(parts.query) if not k.startswith("utm_")]
            query += [
                ("utm_source", src),
                ("utm_medium", medium),
                ("utm_campaign", campaign),
                ("utm_content", content),
            ]
            writer.writerow([url, urlunsplit(parts._replace(query=urlencode(query)))])


Row = dict[str, Any]


def timed(label: str, rows: int, func: Callable[..., None], *args: object) -> Row:
    start = time.perf_counter()
    func(*args)
    seconds = time.perf_counter() - start
    return {"what": label, "seconds": round(seconds, 3), "per_second": round(rows / seconds)}


def tagtrail_build(source: Path, target: Path, jobs: int) -> None:
    exe = Path(sys.executable).parent / "tagtrail"
    done = subprocess.run(
        [
            str(exe),
            "build",
            "--csv",
            str(source),
            "--out",
            str(target),
            "--json",
            "--jobs",
            str(jobs),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"tagtrail build failed: {done.stderr}")
    summary = json.loads(done.stdout)
    assert summary["rows"] > 0


def channel_calls(calls: int) -> list[Row]:
    rng = random.Random(7)
    campaigns = ["spring", "black-friday-shop", None, "onboarding", "cross-network-q3"]
    mix = [(s.lower(), m.lower(), rng.choice(campaigns)) for s, m in PAIRS]
    sample = [mix[rng.randrange(len(mix))] for _ in range(calls)]
    unique = [
        (f"src{i}", rng.choice(["email", "cpc", "social", "x"]), f"c{i}")
        for i in range(calls // 10)
    ]
    table = {key: channel_for(*key) for key in mix}
    return [
        _per_call("anchor: dict lookup", table.get, [(key,) for key in sample]),
        _per_call("channel_for (realistic mix)", channel_for, sample),
        _per_call("channel_for_uncached (all distinct)", channel_for_uncached, unique),
    ]


def _per_call(what: str, func: Callable[..., object], calls: list[tuple[Any, ...]]) -> Row:
    start = time.perf_counter()
    for args in calls:
        func(*args)
    seconds = time.perf_counter() - start
    return {"what": what, "seconds": round(seconds, 3), "per_second": round(len(calls) / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=1_000_000)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    sheet = OUT / "links.csv"
    generate(sheet, args.rows)
    rows = args.rows
    results = [
        timed("anchor: csv copy (I/O floor)", rows, csv_copy, sheet, OUT / "copy.csv"),
        timed("anchor: urllib builder, no checks", rows, urllib_builder, sheet, OUT / "naive.csv"),
        timed("tagtrail build --csv, 2 jobs", rows, tagtrail_build, sheet, OUT / "built.csv", 2),
        timed("tagtrail build --csv, 1 job", rows, tagtrail_build, sheet, OUT / "built1.csv", 1),
    ]
    results += channel_calls(args.calls)
    width = max(len(str(r["what"])) for r in results)
    print(f"bulk build: {rows:,} rows; channel_for: {args.calls:,} calls")
    for r in results:
        print(f"  {r['what']:<{width}}  {r['seconds']:>8.3f} s  {r['per_second']:>12,} /s")
    (OUT / "build.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
