"""The redirect with every click durably stored, beside nginx `return 302` (issue 4).

    python bench/redirect.py [--seconds 8] [--connections 32] [--no-postgres]

Installs wrk and nginx when missing (scripts/system-packages.sh), then in this one run, on the
same machine, each measured with the same `wrk -t1 -cN -dS --latency` on loopback:
- anchor: nginx `return 302` (one worker, access log off) with the same Location and headers;
- second anchor: a bare ASGI app answering the same 302 under the same uvicorn set-up
  (`bench/bare_asgi.py`: one worker, uvloop, httptools, nothing stored), the ceiling for any
  Python handler here;
- tagtrail: `tagtrail serve` on one short link, every request with a browser's User-Agent (a
  person's click: the click row is its touchpoint too), committed by the writer process: on the
  embedded SQLite store with 1 worker (`FULL` and `NORMAL` durability) and 2 workers, and with 1
  and 2 workers on the local PostgreSQL server (when it answers);
- each tagtrail set-up again at half of its own maximum rate, paced by a wrk Lua `delay()` (wrk2,
  which paces open-loop, is not packaged in Debian): a closed loop of `c` connections each
  waiting 2 ms between an answer and its next request, `c` calibrated to give half the rate
  (about as many connections as the full-rate run; with 10 ms pauses it took 3-4 times as many,
  and since one group commit wakes them all and they all pause alike, they arrived in bursts of
  a hundred — a load no steady half rate makes). A closed loop measures every answer's
  latency, but a stall delays the requests behind it instead of timing them, so its p99 is a
  lower bound under stalls (coordinated omission); the max column shows the worst answer.
After each run the human click rows are counted in the database and compared with the 302s wrk got
(its request count minus "Non-2xx or 3xx responses"; clicks of requests in flight when wrk stops
are stored but not counted by wrk, so stored may exceed answered by up to the connections).
Targets: >= 0.2 x nginx with every click stored; p99 <= 5 ms at half that rate.
Prints a table and writes bench/out/redirect.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.live (the live-server harness) and tests.pg

import psycopg  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from tests.live import LiveServer, query, start_server  # noqa: E402
from tests.pg import ADMIN_URL, postgres_database  # noqa: E402

from nginx import free_port, listening, nginx  # noqa: E402  (bench/nginx.py)
from tagtrail.store.schema import clicks  # noqa: E402

OUT = ROOT / "bench" / "out"
DESTINATION = "https://shop.example/spring?ref=bench"
UTM = {"source": "newsletter", "medium": "email", "campaign": "spring"}
TRACKED = DESTINATION + "&utm_source=newsletter&utm_medium=email&utm_campaign=spring"
PACE_MS = 2
# Every request is a person's click: wrk sends no User-Agent of its own, and a click without one
# is a bot's (DESIGN §6), which is stored without its touchpoint: the cheaper path.
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)

LOCATIONS = """
    location / {{
      add_header Cache-Control "private, no-store" always;
      add_header Referrer-Policy "no-referrer-when-downgrade" always;
      return 302 "{location}";
    }}
"""
PACED_LUA = "function delay()\n  return {ms}\nend\n"


@dataclass
class Run:
    name: str
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    bad: int  # non-2xx/3xx answers and socket errors
    answered_302: int | None = None
    stored: int | None = None


def wrk(name: str, url: str, *, seconds: int, connections: int, pace_ms: int = 0) -> Run:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    argv += ["-H", f"User-Agent: {BROWSER}", url]
    with tempfile.TemporaryDirectory() as tmp:
        if pace_ms:
            script = Path(tmp) / "paced.lua"
            script.write_text(PACED_LUA.format(ms=pace_ms))
            argv[1:1] = ["-s", str(script)]
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return _parse(name, out, connections)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _parse(name: str, out: str, connections: int) -> Run:
    def find(pattern: str, default: str | None = None) -> str:
        found = re.search(pattern, out)
        if found is None:
            if default is None:
                raise RuntimeError(f"unexpected wrk output:\n{out}")
            return default
        return found.group(1)

    requests = int(find(r"(\d+) requests in"))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    bad = int(find(r"Non-2xx or 3xx responses: (\d+)", "0"))
    bad += sum(int(n) for n in errors.groups()) if errors else 0
    return Run(
        name=name,
        connections=connections,
        seconds=float(find(r"requests in ([\d.]+)s")),
        requests=requests,
        rps=float(find(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(find(r"(?m)^\s+50%\s+(\S+)")),
        p99_ms=_ms(find(r"(?m)^\s+99%\s+(\S+)")),
        max_ms=_ms(find(r"Latency\s+\S+\s+\S+\s+(\S+)")),
        bad=bad,
    )


def stored(server: LiveServer) -> int:
    """Human clicks stored (every request of the benchmark is a person's)."""
    counted = select(func.count()).select_from(clicks).where(clicks.c.is_bot.is_(False))
    return int(query(server.store_url, counted)[0][0])


def measure_tagtrail(name: str, server: LiveServer, args: argparse.Namespace) -> list[Run]:
    """The maximum rate (after a 1 s warm-up), then half of it, paced; clicks counted."""
    link = server.api("POST", "/api/links", json={"url": DESTINATION, "code": "bench", **UTM})
    assert link["tracked_url"] == TRACKED, link
    url = f"{server.origin}/bench"
    wrk("warm-up", url, seconds=1, connections=args.connections)
    top = counted(
        server, lambda: wrk(name, url, seconds=args.seconds, connections=args.connections)
    )
    # Half the maximum, paced: calibrate the connections on a 2 s run, then measure.
    target = top.rps / 2
    connections = max(1, round(target * (PACE_MS + top.p50_ms) / 1000))
    trial = wrk("pace", url, seconds=2, connections=connections, pace_ms=PACE_MS)
    connections = max(1, round(connections * target / trial.rps))
    half = counted(
        server,
        lambda: wrk(
            f"{name} @ half", url, seconds=args.seconds, connections=connections, pace_ms=PACE_MS
        ),
    )
    return [top, half]


def counted(server: LiveServer, measure: Callable[[], Run]) -> Run:
    """`measure()`, with the click rows it added and the 302s it got."""
    before = stored(server)
    run = measure()
    time.sleep(0.2)  # the clicks of requests in flight when wrk stopped
    run.answered_302 = run.requests - run.bad
    run.stored = stored(server) - before
    return run


def bare_uvicorn(args: argparse.Namespace) -> Run:
    """The same wrk run against `bench/bare_asgi.py` under uvicorn as `tagtrail serve` runs."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bare_asgi:app", "--port", str(port)]
    argv += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    argv += ["--no-server-header"]  # as `tagtrail serve` runs it
    env = {**os.environ, "BARE_LOCATION": TRACKED}
    with listening(argv, port, cwd=ROOT / "bench", env=env):
        url = f"http://127.0.0.1:{port}/bench"
        wrk("warm-up", url, seconds=1, connections=args.connections)
        return wrk("uvicorn bare ASGI 302", url, seconds=args.seconds, connections=args.connections)


def postgres_up() -> bool:
    try:
        psycopg.connect(ADMIN_URL, connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "system-packages.sh"), "wrk", "nginx"], check=True
    )
    started = time.monotonic()
    print(f"wrk -t1 -c{args.connections} -d{args.seconds}s --latency, loopback", flush=True)
    with nginx(LOCATIONS.format(location=TRACKED)) as port:
        url = f"http://127.0.0.1:{port}/bench"
        wrk("warm-up", url, seconds=1, connections=args.connections)
        anchor = wrk("nginx return 302", url, seconds=args.seconds, connections=args.connections)
    runs = [anchor, bare_uvicorn(args)]
    setups: list[tuple[str, dict[str, Any]]] = [
        ("tagtrail sqlite 1 worker", {"workers": 1}),
        (
            "tagtrail sqlite sync=NORMAL",
            {"workers": 1, "env": {"TAGTRAIL_SQLITE_SYNCHRONOUS": "NORMAL"}},
        ),
        (
            "tagtrail sqlite sync=NORMAL 2 workers",
            {"workers": 2, "env": {"TAGTRAIL_SQLITE_SYNCHRONOUS": "NORMAL"}},
        ),
    ]
    if not args.no_postgres and postgres_up():
        setups.append(("tagtrail postgresql 1 worker", {"workers": 1, "postgres": True}))
        setups.append(("tagtrail postgresql 2 workers", {"workers": 2, "postgres": True}))
    for name, setup in setups:
        with tempfile.TemporaryDirectory(prefix="tagtrail-bench-") as tmp:
            if setup.pop("postgres", False):
                with postgres_database() as db, start_server(database_url=db, **setup) as server:
                    runs += measure_tagtrail(name, server, args)
            else:
                with start_server(data_dir=Path(tmp) / "data", **setup) as server:
                    runs += measure_tagtrail(name, server, args)
    report(runs, anchor, time.monotonic() - started)


def report(runs: list[Run], anchor: Run, elapsed: float) -> None:
    print(
        f"{'':36} {'conns':>5} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}"
        f" {'ratio':>6} {'302s':>8} {'stored':>8}"
    )
    for run in runs:
        ratio = run.rps / anchor.rps
        clicks_ = "" if run.stored is None else f"{run.answered_302:>8,} {run.stored:>8,}"
        print(
            f"{run.name:36} {run.connections:>5} {run.rps:>9,.0f} {run.p50_ms:>7.2f}"
            f" {run.p99_ms:>7.2f} {run.max_ms:>7.1f} {ratio:>6.3f} {clicks_}"
        )
    best = max((r for r in runs if r.stored is not None and "half" not in r.name), key=_rps)
    half = next(r for r in runs if r.name == f"{best.name} @ half")
    ratio = best.rps / anchor.rps
    all_stored = all(r.stored >= r.answered_302 for r in runs if r.stored is not None)  # type: ignore[operator]
    verdicts = {
        "rate >= 0.2 x nginx": ratio >= 0.2,
        "every 302 stored": all_stored,
        "p99 <= 5 ms at half rate": half.p99_ms <= 5.0,
    }
    print(f"best: {best.name}, {best.rps:,.0f} req/s = {ratio:.3f} x nginx ({anchor.rps:,.0f})")
    bare = next(r for r in runs if r.name.startswith("uvicorn bare"))
    print(
        f"  = {best.rps / bare.rps:.2f} x the bare ASGI app ({bare.rps:,.0f} req/s), which is"
        f" {bare.rps / anchor.rps:.3f} x nginx"
    )
    print(f"at half ({half.rps:,.0f} req/s): p50 {half.p50_ms:.2f} ms, p99 {half.p99_ms:.2f} ms")
    for what, ok in verdicts.items():
        print(f"target: {what:<26} {'PASS' if ok else 'FAIL'}")
    print(f"({elapsed:.0f} s)")
    OUT.mkdir(exist_ok=True)
    result = {
        "runs": [asdict(r) for r in runs],
        "best": best.name,
        "ratio": ratio,
        "targets": verdicts,
        "seconds": elapsed,
    }
    (OUT / "redirect.json").write_text(json.dumps(result, indent=2) + "\n")


def _rps(run: Run) -> float:
    return run.rps


if __name__ == "__main__":
    main()
