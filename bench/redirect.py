"""The redirect with every click durably stored, beside nginx `return 302` (issues 4, 21).

    python bench/redirect.py [--runs 5] [--seconds 5] [--connections 32] [--no-extra]
                             [--no-postgres]

Installs wrk and nginx when missing (scripts/system-packages.sh). Then `--runs` rounds, each one
same-run comparison on this machine, every set-up measured with the same
`wrk -t1 -cN -dS --latency` on loopback and a browser's User-Agent on every request (a person's
click: the click row is its touchpoint too):
- anchor: nginx `return 302` (one worker, access log off) with the same Location and headers;
- the ceiling of each server: a bare app answering the same 302 and storing nothing, under
  uvicorn (`bench/bare_asgi.py`: uvloop, httptools) and under Granian (the same app on its ASGI
  interface, and `bench/bare_rsgi.py` on its RSGI interface; uvloop, HTTP/1), one worker each;
- tagtrail: `tagtrail serve` with its default settings on a fresh data dir (SQLite, `FULL`, one
  worker committing on its own event loop), on one short link, under each server (`--server`:
  Granian, the default, on its RSGI interface; uvicorn); and the default server committing in
  the writer process (`TAGTRAIL_WRITER=process`, what several workers use);
- the ceiling of tagtrail's click path: the default set-up with its click rows not committed
  (`bench/unstored.py`), everything else as it is, each click still waiting for the end of its
  pass of the loop as it waits for its commit: what a click costs before its storage.
Each round prints its runs and the load average it began at; the summary gives each set-up's
median rate and the median of its per-round ratio to that round's nginx, with every round's
ratio. After the rounds, each tagtrail set-up again at half its median rate, paced by a wrk
Lua `delay()` (wrk2, which paces open-loop, is not packaged in Debian): a closed loop of `c`
connections each waiting 2 ms between an answer and its next request, `c` calibrated to give
half the rate (with 10 ms pauses it took 3-4 times as many, and since one group commit wakes
them all and they all pause alike, they arrived in bursts of a hundred — a load no steady half
rate makes). A closed loop measures every answer's latency, but a stall delays the requests
behind it instead of timing them, so its p99 is a lower bound under stalls (coordinated
omission); the max column shows the worst answer. Unless `--no-extra`: the default server with
`NORMAL` durability, with 2 workers, and with 1 and 2 workers on the local PostgreSQL server
(when it answers), each at full and half rate.
After each tagtrail run the human click rows are counted in the database and compared with the
302s wrk got (its request count minus "Non-2xx or 3xx responses"; clicks of requests in flight
when wrk stops are stored but not counted by wrk, so stored may exceed answered by up to the
connections).
Targets: the default server >= 0.3 x nginx (median of the runs) with every click stored and no
error; p99 <= 5 ms at half that rate. Prints the tables and writes bench/out/redirect.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for harness.live (the live-server harness) and harness.pg

from harness.live import LiveServer, query, start_server  # noqa: E402
from harness.pg import postgres_database, postgres_up  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

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


def measure_top(name: str, server: LiveServer, args: argparse.Namespace) -> Run:
    """The maximum rate (after a 1 s warm-up), its clicks counted."""
    link = server.api("POST", "/api/links", json={"url": DESTINATION, "code": "bench", **UTM})
    assert link["tracked_url"] == TRACKED, link
    url = f"{server.origin}/bench"
    wrk("warm-up", url, seconds=1, connections=args.connections)
    return counted(
        server, lambda: wrk(name, url, seconds=args.seconds, connections=args.connections)
    )


def measure_half(name: str, server: LiveServer, args: argparse.Namespace, top: Run) -> Run:
    """Half of `top`'s rate, paced: the connections calibrated on a 2 s run, then measured."""
    url = f"{server.origin}/bench"
    target = top.rps / 2
    connections = max(1, round(target * (PACE_MS + top.p50_ms) / 1000))
    trial = wrk("pace", url, seconds=2, connections=connections, pace_ms=PACE_MS)
    connections = max(1, round(connections * target / trial.rps))
    return counted(
        server,
        lambda: wrk(
            f"{name} @ half", url, seconds=args.seconds, connections=connections, pace_ms=PACE_MS
        ),
    )


def counted(server: LiveServer, measure: Callable[[], Run]) -> Run:
    """`measure()`, with the click rows it added and the 302s it got."""
    before = stored(server)
    run = measure()
    time.sleep(0.2)  # the clicks of requests in flight when wrk stopped
    run.answered_302 = run.requests - run.bad
    run.stored = stored(server) - before
    return run


def bare(server: str, args: argparse.Namespace) -> Run:
    """The same wrk run against the bare 302 (`bench/bare_asgi.py`, `bench/bare_rsgi.py`) under
    `server` set up as `tagtrail serve` runs it: uvicorn (uvloop, httptools, no server header)
    or Granian (uvloop, HTTP/1, an empty server header)."""
    port = free_port()
    env = {**os.environ, "BARE_LOCATION": TRACKED}
    if server == "uvicorn":
        argv = [sys.executable, "-m", "uvicorn", "bare_asgi:app", "--port", str(port)]
        argv += ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
        argv += ["--log-level", "warning", "--no-server-header"]
    else:
        interface = "rsgi" if server == "granian-rsgi" else "asgi"
        argv = [sys.executable, "-m", "granian", f"bare_{interface}:app", "--port", str(port)]
        argv += ["--interface", interface, "--loop", "uvloop", "--http", "1", "--no-ws"]
        argv += ["--log-level", "warning"]
        env["BARE_BLANK_SERVER"] = "1"
    with listening(argv, port, cwd=ROOT / "bench", env=env):
        url = f"http://127.0.0.1:{port}/bench"
        wrk("warm-up", url, seconds=1, connections=args.connections)
        name = f"{server} bare {'RSGI' if server.endswith('rsgi') else 'ASGI'} 302"
        return wrk(name, url, seconds=args.seconds, connections=args.connections)


SERVERS = ("granian", "uvicorn")  # `tagtrail serve --server`, the default (RSGI) first
PROCESS_WRITER = "tagtrail writer process"
# Each round's `tagtrail serve` set-ups by name: the default first, then uvicorn, then the
# default server committing in the writer process instead of on its own loop.
TAGTRAILS = {
    **{f"tagtrail {server}": {"TAGTRAIL_SERVER": server} for server in SERVERS},
    PROCESS_WRITER: {"TAGTRAIL_WRITER": "process"},
}
BARE = ("uvicorn", "granian", "granian-rsgi")
UNSTORED = "tagtrail, clicks not stored"
UNSTORED_COMMAND = (sys.executable, str(ROOT / "bench" / "unstored.py"))


@contextmanager
def tagtrail(setup: dict[str, Any]) -> Iterator[LiveServer]:
    """A fresh `tagtrail serve` (new data dir or database) with `setup`'s options."""
    setup = dict(setup)
    if setup.pop("unstored", False):
        setup["command"] = UNSTORED_COMMAND
    with tempfile.TemporaryDirectory(prefix="tagtrail-bench-") as tmp:
        if setup.pop("postgres", False):
            with postgres_database() as db, start_server(database_url=db, **setup) as server:
                yield server
        else:
            with start_server(data_dir=Path(tmp) / "data", **setup) as server:
                yield server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--runs", type=int, default=5, help="rounds of the same-run comparison")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--no-extra", action="store_true", help="skip NORMAL, 2 workers and PostgreSQL"
    )
    args = parser.parse_args()
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "system-packages.sh"), "wrk", "nginx"], check=True
    )
    started = time.monotonic()
    print(f"wrk -t1 -c{args.connections} -d{args.seconds}s --latency, loopback", flush=True)
    rounds: list[Round] = []
    for number in range(1, args.runs + 1):
        load = os.getloadavg()
        with nginx(LOCATIONS.format(location=TRACKED)) as port:
            url = f"http://127.0.0.1:{port}/bench"
            wrk("warm-up", url, seconds=1, connections=args.connections)
            anchor = wrk(
                "nginx return 302", url, seconds=args.seconds, connections=args.connections
            )
        runs = [anchor] + [bare(server, args) for server in BARE]
        for name, env in TAGTRAILS.items():
            with tagtrail({"env": env}) as live:
                runs.append(measure_top(name, live, args))
        with tagtrail({"unstored": True}) as live:
            ceiling = measure_top(UNSTORED, live, args)
        assert ceiling.stored == 0, f"{UNSTORED}: {ceiling.stored} clicks were stored"
        ceiling.stored = None  # not a stored-click run: out of the durability verdicts
        runs.append(ceiling)
        rounds.append(Round(number, load, runs))
        print_round(rounds[-1])
    half: list[Run] = []
    for name, env in TAGTRAILS.items():
        top = statistics.median(r.rps for rnd in rounds for r in rnd.runs if r.name == name)
        with tagtrail({"env": env}) as live:
            measure_top("warm-up", live, args)
            half.append(measure_half(name, live, args, _at(top)))
    extra: list[Run] = []
    if not args.no_extra:
        normal = {"TAGTRAIL_SQLITE_SYNCHRONOUS": "NORMAL"}
        setups: list[tuple[str, dict[str, Any]]] = [
            ("tagtrail sync=NORMAL", {"env": normal}),
            ("tagtrail sync=NORMAL 2 workers", {"workers": 2, "env": normal}),
        ]
        if not args.no_postgres and postgres_up():
            setups.append(("tagtrail postgresql 1 worker", {"postgres": True}))
            setups.append(("tagtrail postgresql 2 workers", {"workers": 2, "postgres": True}))
        for name, setup in setups:
            with tagtrail(setup) as live:
                top = measure_top(name, live, args)
                extra += [top, measure_half(name, live, args, top)]
    report(rounds, half, extra, time.monotonic() - started)


@dataclass
class Round:
    """One same-run comparison: nginx, the bare apps and tagtrail on each server."""

    number: int
    load: tuple[float, float, float]  # the machine's load average when the round began
    runs: list[Run]

    def ratio(self, name: str) -> float:
        return self.get(name).rps / self.runs[0].rps

    def get(self, name: str) -> Run:
        return next(r for r in self.runs if r.name == name)


HEADER = (
    f"{'':30} {'conns':>5} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    f" {'ratio':>6} {'302s':>8} {'stored':>8}"
)


def _line(run: Run, anchor_rps: float) -> str:
    clicks_ = "" if run.stored is None else f"{run.answered_302:>8,} {run.stored:>8,}"
    return (
        f"{run.name:30} {run.connections:>5} {run.rps:>9,.0f} {run.p50_ms:>7.2f}"
        f" {run.p99_ms:>7.2f} {run.max_ms:>7.1f} {run.rps / anchor_rps:>6.3f} {clicks_}"
    )


def print_round(rnd: Round) -> None:
    load = ", ".join(f"{x:.2f}" for x in rnd.load)
    print(f"run {rnd.number} (load average {load})\n{HEADER}")
    for run in rnd.runs:
        print(_line(run, rnd.runs[0].rps))
    print(flush=True)


def _at(rps: float) -> Run:
    """A stand-in for the median run: its rate and a p50 for the pacing's first guess."""
    return Run("median", 0, 0, 0, rps, 1.0, 0, 0, 0)


def report(rounds: list[Round], half: list[Run], extra: list[Run], elapsed: float) -> None:
    anchor = statistics.median(rnd.runs[0].rps for rnd in rounds)
    names = [r.name for r in rounds[0].runs]
    print(f"median of {len(rounds)} runs (ratio: the median of each run's own ratio)")
    print(f"{'':30} {'req/s':>9} {'ratio':>6}   each run's ratio")
    medians: dict[str, dict[str, Any]] = {}
    for name in names:
        rps = statistics.median(rnd.get(name).rps for rnd in rounds)
        ratios = [rnd.ratio(name) for rnd in rounds]
        medians[name] = {"rps": rps, "ratio": statistics.median(ratios), "ratios": ratios}
        each = " ".join(f"{x:.3f}" for x in ratios)
        print(f"{name:30} {rps:>9,.0f} {statistics.median(ratios):>6.3f}   {each}")
    print(f"\nhalf rate and other set-ups (ratio against the median nginx, {anchor:,.0f})")
    print(HEADER)
    for run in half + extra:
        print(_line(run, anchor))
    default = f"tagtrail {SERVERS[0]}"
    ratio = medians[default]["ratio"]
    tagtrail_runs = [r for rnd in rounds for r in rnd.runs if r.stored is not None]
    tagtrail_runs += half + extra
    default_half = next(r for r in half if r.name == f"{default} @ half")
    verdicts = {
        "rate >= 0.3 x nginx (median)": ratio >= 0.3,
        "every 302 stored": all(r.stored >= r.answered_302 for r in tagtrail_runs),  # type: ignore[operator]
        "0 errors": all(r.bad == 0 for r in tagtrail_runs),
        "p99 <= 5 ms at half rate": default_half.p99_ms <= 5.0,
    }
    print(f"\ndefault ({default}, committing on its loop): {ratio:.3f} x nginx; beside it:")
    for name in (f"tagtrail {SERVERS[1]}", PROCESS_WRITER):
        print(f"  {name}: {medians[name]['ratio']:.3f} x nginx")
    for server in BARE:
        name = next(n for n in names if n.startswith(f"{server} bare"))
        own = f"tagtrail {server.removesuffix('-rsgi')}"  # tagtrail under the same server
        share = medians[own]["rps"] / medians[name]["rps"]
        print(f"  {name}: {medians[name]['ratio']:.3f} x nginx ({own}: {share:.2f} x it)")
    ceiling = medians[UNSTORED]
    print(
        f"  {UNSTORED}: {ceiling['ratio']:.3f} x nginx (the default: "
        f"{medians[default]['rps'] / ceiling['rps']:.2f} x it)"
    )
    print(f"at half ({default_half.rps:,.0f} req/s): p99 {default_half.p99_ms:.2f} ms")
    for what, ok in verdicts.items():
        print(f"target: {what:<30} {'PASS' if ok else 'FAIL'}")
    print(f"({elapsed:.0f} s)")
    OUT.mkdir(exist_ok=True)
    result = {
        "rounds": [{"load": rnd.load, "runs": [asdict(r) for r in rnd.runs]} for rnd in rounds],
        "medians": medians,
        "half": [asdict(r) for r in half],
        "extra": [asdict(r) for r in extra],
        "default": default,
        "ratio": ratio,
        "targets": verdicts,
        "seconds": elapsed,
    }
    (OUT / "redirect.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
