"""Bulk redirect checking against nginx on loopback, beside raw-httpx anchors (issue 3).

    python bench/check.py [--links 1000] [--concurrency 16]

Starts nginx (from the system; `make test` installs it) in a temporary directory with a
click-wrapper shape: `/r/N?utm…` answers 302 to `/landing/N?utm…`, which answers 200. Then, in
this one run, follows the same links (two requests each):
- anchor "httpx sequential": one `httpx.Client(follow_redirects=True)`, one link after another;
- anchor "httpx concurrent": `httpx.AsyncClient(follow_redirects=True)`, N links in flight;
- tagtrail: `check_many(urls, concurrency=N)` (every hop timed, UTMs compared, checks run);
- tagtrail CLI: `tagtrail check --file URLS --json` end to end (process start included).
Target: tagtrail checks 1,000 links in ≤ 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from nginx import nginx  # bench/nginx.py (the script's folder is on sys.path)
from tagtrail.check import check_many

LOCATIONS = """
    location /r/ { return 302 /landing/$is_args$args; }
    location /landing/ { default_type text/plain; return 200 "landing\\n"; }
"""


def timed(label: str, links: int, run: Callable[[], int]) -> float:
    started = time.perf_counter()
    ok = run()
    seconds = time.perf_counter() - started
    print(f"  {label:<28} {seconds:6.2f} s  {links / seconds:8,.0f} links/s  ({ok:,} ok)")
    return seconds


def sequential(urls: list[str]) -> int:
    with httpx.Client(follow_redirects=True, trust_env=False) as client:
        return sum(client.get(u).status_code == 200 for u in urls)


async def _concurrent(urls: list[str], concurrency: int) -> int:
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(follow_redirects=True, trust_env=False) as client:

        async def one(url: str) -> bool:
            async with limit:
                return (await client.get(url)).status_code == 200

        return sum(await asyncio.gather(*(one(u) for u in urls)))


def cli(path: Path, concurrency: int) -> int:
    tagtrail = Path(sys.executable).parent / "tagtrail"
    done = subprocess.run(
        [str(tagtrail), "check", "--file", str(path), "--json", "--concurrency", str(concurrency)],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(json.loads(done.stdout)["summary"]["valid"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    n, c = args.links, args.concurrency
    with nginx(LOCATIONS) as port, tempfile.TemporaryDirectory() as tmp:
        urls = [
            f"http://127.0.0.1:{port}/r/{i}?utm_source=intercom&utm_medium=email"
            f"&utm_campaign=spring&utm_content=link-{i}"
            for i in range(n)
        ]
        listing = Path(tmp) / "urls.txt"
        listing.write_text("\n".join(urls) + "\n")
        print(f"{n:,} links, 2 requests each, nginx on loopback, concurrency {c}")
        timed("anchor: httpx sequential", n, lambda: sequential(urls))
        timed("anchor: httpx concurrent", n, lambda: asyncio.run(_concurrent(urls, c)))
        ours = timed(
            "tagtrail check_many",
            n,
            lambda: sum(r.valid for r in check_many(urls, concurrency=c)),
        )
        timed("tagtrail check --file (CLI)", n, lambda: cli(listing, c))
        verdict = "PASS" if ours <= 5.0 else "FAIL"
        print(f"target: {n:,} links in <= 5 s with check_many: {ours:.2f} s  {verdict}")


if __name__ == "__main__":
    main()
