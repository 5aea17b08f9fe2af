"""Lift of a campaign of 1,000,000 recipients (10 % held out) from the store (issue 19: <= 2 s).

    python bench/lift.py [--recipients 1000000] [--repeat 5] [--postgres]

In this one run, on the same machine: a store (SQLite in a folder under bench/out; also a
throw-away database on the local PostgreSQL with --postgres) gets one campaign with a 10 %
holdout, its recipients (user ids) and one send each, held out by the real keyed assignment
(`lift.is_held_out`); ~5.4 % of them convert on the goal within a week (6 % treated, 5 % held
out), a third of the treated converters after a page view of the campaign, through the real
event parser. Then, `--repeat` times each:

- the command itself, `tagtrail lift --campaign … --goal … --json` on the store, a process of
  its own: wall time, CPU and peak RSS (the whole §10 document: sends into DuckDB, recipients
  matched to conversions, outcome, statistics, and the attribution engine over the
  recipients' collected journeys);
- in this process, `service.lift.store_lift` without the attribution (the §10 figures: the
  issue's <= 2 s), and the whole document; the phases of one run are timed apart.

Anchors, same run, same rows: a process that opens the store and counts the campaign's sends
by group (`SELECT held_out, count(*) … GROUP BY held_out`: what a process start and the store's
own reading cost), the same count in this process, the same rows read into DuckDB and counted
there, and statsmodels' two-proportion z-test on the document's counts. Prints a table and
writes bench/out/lift.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for harness.pg

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
from harness.pg import postgres_database  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402

from dashboard_data import _bulk  # noqa: E402  (bench/dashboard_data.py)
from tagtrail.attribution.registry import MODEL_NAMES  # noqa: E402
from tagtrail.collect import normalize, parse_event  # noqa: E402
from tagtrail.lift import is_held_out  # noqa: E402
from tagtrail.service import lift as lift_service  # noqa: E402
from tagtrail.service import lift_matching  # noqa: E402
from tagtrail.service.collect import event_row  # noqa: E402
from tagtrail.service.keys import ensure_workspace  # noqa: E402
from tagtrail.store.database import prepare_store  # noqa: E402
from tagtrail.store.identities import fold_all  # noqa: E402

OUT = ROOT / "bench" / "out"
TARGET_S = 2.0
GOAL = "Order Completed"
CAMPAIGN = "bench-lift"
SECRET = b"bench-lift-secret-" + b"x" * 14


def seed(engine: Engine, recipients: int, rng: random.Random) -> dict[str, int]:
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    sent = now - timedelta(days=14)
    _, _key = ensure_workspace(engine, now=now)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO campaigns (id, workspace_id, name, default_utm, created_at, holdout) "
                "VALUES (1, 1, :name, '{}', :now, 0.1)"
            ),
            {"name": CAMPAIGN, "now": now},
        )
        conn.execute(
            text(
                "INSERT INTO goals (workspace_id, event, revenue, created_at) "
                "VALUES (1, :g, :r, :n)"
            ),
            {"g": GOAL, "r": "revenue", "n": now},
        )
    users = [f"user{i:07d}" for i in range(recipients)]
    held = [is_held_out(SECRET, f"user:{u}", campaign=CAMPAIGN, share=0.1) for u in users]
    counts = {
        "recipients": _bulk(
            engine,
            "recipients",
            ("id", "workspace_id", "public_id", "kind", "key", "created_at"),
            ((i + 1, 1, f"p{i:07d}", "user", u, now) for i, u in enumerate(users)),
        ),
        "sends": _bulk(
            engine,
            "sends",
            (
                "id",
                "workspace_id",
                "recipient_id",
                "campaign_id",
                "message",
                "channel",
                "sent_at",
                "held_out",
            ),  # fmt: skip
            (
                (i + 1, 1, i + 1, 1, "welcome", "email", sent + timedelta(seconds=i % 3600), h)
                for i, h in enumerate(held)
            ),
        ),
    }
    rows: list[dict[str, Any]] = []
    page = "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=" + CAMPAIGN
    for i, (user, h) in enumerate(zip(users, held, strict=True)):
        if rng.random() >= (0.05 if h else 0.06):
            continue
        at = sent + timedelta(seconds=i % 3600 + rng.randrange(6 * 86_400))
        if not h and rng.random() < 1 / 3:
            body = {"messageId": f"pv-{i}", "userId": user, "context": {"page": {"url": page}}}
            body["timestamp"] = (at - timedelta(hours=1)).isoformat() + "Z"
            event = normalize(parse_event(body, kind="page"), received_at=datetime.now(UTC))
            rows.append(event_row(1, event))
        body = {
            "messageId": f"order-{i}",
            "userId": user,
            "event": GOAL,
            "timestamp": at.isoformat() + "Z",
            "properties": {"revenue": round(rng.gammavariate(2.0, 40.0), 2)},
        }
        event = normalize(parse_event(body, kind="track"), received_at=datetime.now(UTC))
        rows.append(event_row(1, event))
    columns = list(rows[0])
    counts["events"] = _bulk(
        engine, "events", columns, (tuple(r[c] for c in columns) for r in rows)
    )
    fold_all(engine)  # the mapping the server's writer keeps (a bulk load bypasses it)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("recipients", "sends", "campaigns"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
            conn.execute(text("ANALYZE"))
    return counts


def _lift(engine: Engine, models: tuple[str, ...] = MODEL_NAMES) -> dict[str, Any]:
    return lift_service.store_lift(
        engine,
        1,
        campaign=CAMPAIGN,
        goal=GOAL,
        secret=SECRET,
        now=datetime.now(UTC).replace(tzinfo=None),
        models=models,
    ).document


def _timed(call: Any) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process and its threads, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _phases(engine: Engine) -> dict[str, tuple[float, float]]:
    """The steps of store_lift, timed apart (the same calls, in order): (wall, CPU)."""
    times: dict[str, tuple[float, float]] = {}
    con = lift_service._connect()
    now = datetime.now(UTC).replace(tzinfo=None)
    goals = lift_service.list_goals(engine, 1)
    window = 7 * 86_400
    totals: list[Any] = []
    steps = {
        "recipients matched (DuckDB)": lambda: lift_matching.load_store_conversions(
            con, engine, 1, goals=goals, goal=GOAL, secret=SECRET
        ),
        "sends counted, matched ones read": lambda: totals.append(
            lift_matching.load_store_sends(con, engine, 1, window=window, data_end=now)
        ),
        "outcome (DuckDB)": lambda: lift_service.compute_outcome(
            con, window=window, data_end=now, totals=totals[0]
        ),
        "attributed (16 models)": lambda: lift_service._store_attributed(
            con, engine, 1, campaign=CAMPAIGN, goal=GOAL, window=7 * 86_400
        ),
    }
    try:
        for name, step in steps.items():
            wall, cpu, _ = _timed(step)
            times[name] = (wall, cpu)
    finally:
        con.close()
    return times


def _group_by(engine: Engine) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT held_out, count(*) FROM sends WHERE campaign_id = 1 GROUP BY held_out")
        ).all()


def _duckdb_count(engine: Engine) -> Any:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT recipient_id, held_out FROM sends WHERE campaign_id = 1")
        table = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 2)
    finally:
        raw.close()
    con = duckdb.connect()
    con.register("s", {"r": table[:, 0], "h": table[:, 1]})
    counted = con.execute("SELECT h, count(*) FROM s GROUP BY h").fetchall()
    con.close()
    return counted


def _anchors(engine: Engine) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for name, call in {
        "store GROUP BY held_out": lambda: _group_by(engine),
        "same rows into DuckDB, counted": lambda: _duckdb_count(engine),
    }.items():
        wall, cpu, _ = _timed(call)
        out[name] = (wall, cpu)
    return out


_ANCHOR = """
import sys
from sqlalchemy import text
from tagtrail.store.database import open_store
engine = open_store(sys.argv[1])
query = "SELECT held_out, count(*) FROM sends WHERE campaign_id = 1 GROUP BY held_out"
with engine.connect() as conn:
    conn.execute(text(query)).all()
"""


_TIME = Path("/usr/bin/time")  # GNU time: the peak RSS of the command alone


def _process(args: list[str]) -> tuple[float, float, float]:
    """Run a process to its end: (wall s, CPU s, peak RSS MB). Through GNU time when there is
    one: the rusage of a child of this (large) process counts the pages it shared before exec."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAGTRAIL_")}
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        timed = [str(_TIME), "-f", "%M", "-o", report.name] if _TIME.exists() else []
        wall = time.perf_counter()
        proc = subprocess.Popen(
            [*timed, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - wall
        if os.waitstatus_to_exitcode(status) != 0:
            error = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"{args[:2]} failed: {error}")
        peak_kb = int(report.read().split()[-1]) if timed else usage.ru_maxrss
    return wall, usage.ru_utime + usage.ru_stime, peak_kb / 1024


def _command(url: str, folder: str) -> list[str]:
    tagtrail = str(Path(sys.executable).parent / "tagtrail")
    return [
        tagtrail, "lift", "--campaign", CAMPAIGN, "--goal", GOAL, "--json",
        "--database-url", url, "--data-dir", folder,
    ]  # fmt: skip


def _proportions_anchor(document: dict[str, Any]) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportions_ztest

    t, c = document["treatment"], document["control"]
    counts = np.array([t["converters"], c["converters"]])
    sizes = np.array([t["recipients"], c["recipients"]])
    wall, cpu, _ = _timed(lambda: proportions_ztest(counts, sizes))
    return wall, cpu


def stores(postgres: bool) -> Iterator[tuple[str, str, str]]:
    """(backend, store URL, data folder) of each store to measure."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT, prefix="lift-") as folder:
        yield "sqlite", f"sqlite:///{folder}/tagtrail.db", folder
        if postgres:
            with postgres_database() as url:
                yield "postgresql", url, folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"recipients": args.recipients, "target_s": TARGET_S, "stores": {}}
    ok = True
    for backend, url, folder in stores(args.postgres):
        engine = prepare_store(url)
        try:
            t = time.perf_counter()
            counts = seed(engine, args.recipients, random.Random(19))
            seeded = time.perf_counter() - t
            runs: list[tuple[float, float]] = []
            figures: list[tuple[float, float]] = []
            document: dict[str, Any] = {}
            commands: list[tuple[float, float, float]] = []
            processes: list[tuple[float, float, float]] = []
            for _ in range(args.repeat):
                commands.append(_process(_command(url, folder)))
                processes.append(_process([sys.executable, "-c", _ANCHOR, url]))
                wall, cpu, document = _timed(partial(_lift, engine))
                runs.append((wall, cpu))
                wall, cpu, _ = _timed(partial(_lift, engine, ()))
                figures.append((wall, cpu))
            phases = _phases(engine)
            anchors = _anchors(engine)
            anchors["statsmodels proportions_ztest"] = _proportions_anchor(document)
        finally:
            engine.dispose()
        median_command = statistics.median(r[0] for r in commands)
        median_process = statistics.median(r[0] for r in processes)
        median = statistics.median(r[0] for r in runs)
        median_figures = statistics.median(r[0] for r in figures)
        ok = ok and median_figures <= TARGET_S
        results["stores"][backend] = {
            "rows": counts,
            "seed_s": seeded,
            "command": " ".join(_command(url, "DIR")[1:]),
            "command_wall_cpu_s_rss_mb": commands,
            "command_median_s": median_command,
            "anchor_process_wall_cpu_s_rss_mb": processes,
            "anchor_process_median_s": median_process,
            "lift_wall_cpu_s": runs,
            "lift_median_s": median,
            "figures_wall_cpu_s": figures,
            "figures_median_s": median_figures,
            "phases_s": phases,
            "anchors_s": anchors,
            "treatment": document["treatment"],
            "control": document["control"],
            "incremental": document["incremental"],
        }
        print(f"\n{backend}: {counts} (seeded in {seeded:.1f} s)")

        def show(label: str, median: float, rows: list[tuple[float, float]]) -> None:
            listed = ", ".join(f"{w:.3f}/{c:.3f}" for w, c in rows)
            print(f"  {label:<44} median {median:6.3f} s wall (wall/CPU: {listed})")

        def shown(label: str, median: float, rows: list[tuple[float, float, float]]) -> None:
            listed = ", ".join(f"{w:.2f}/{c:.2f}/{m:.0f}" for w, c, m in rows)
            print(f"  {label:<44} median {median:6.3f} s wall (wall/CPU/peak RSS MB: {listed})")

        shown("`tagtrail lift --json`, a process", median_command, commands)
        shown("anchor: a process counting the sends", median_process, processes)
        show("lift, whole §10 document (in process)", median, runs)
        show(f"lift figures, no attribution (<= {TARGET_S} s)", median_figures, figures)
        for name, (wall, cpu) in phases.items():
            print(f"    {name:<42} {wall:6.3f} s wall {cpu:6.3f} s CPU")
        for name, (wall, cpu) in anchors.items():
            print(f"  anchor: {name:<36} {wall:6.3f} s wall {cpu:6.3f} s CPU")
        t, c = document["treatment"], document["control"]
        print(
            f"  treatment {t['recipients']:,} ({t['rate']:.4f}), control {c['recipients']:,} "
            f"({c['rate']:.4f}); incremental {document['incremental']['conversions']:.0f}"
        )
    (OUT / "lift.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
