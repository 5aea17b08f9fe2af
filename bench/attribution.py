"""Attribution: tagtrail end to end beside ChannelAttribution and Nova MAM (issue 6).

    python bench/attribution.py [--users 1000000]

Generates 1,000,000 users (~2.6M rows) with bench/attribution_data.py, then prints in one run:
- tagtrail `attribute --model all --json` end to end in a child process (read → paths → all 16
  models): wall time and peak RSS (wait4 of the child), on DuckDB and then on Spark local[2]
  (JVM start included), and the largest difference between the two engines;
- ChannelAttribution `heuristic_models` and `markov_model` (orders 1–3) on the same paths
  (aggregated from tagtrail's own path building), and how far they are from tagtrail's exact
  answer; marketing-attribution-models (Nova MAM 2.x, grouped_journey format) likewise.
ChannelAttribution (GPL) and MAM are installed into the venv here when missing, never imported
by tagtrail. Targets: tagtrail ≤ 5 s (DESIGN: ≤ 10 s) and ≤ 2 GB.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from attribution_data import generate  # noqa: E402

OUT = Path(__file__).parent / "out"
BIN = Path(sys.executable).parent


def _ensure(module: str, *packages: str) -> bool:
    if importlib.util.find_spec(module) is not None:
        return True
    print(f"installing {' '.join(packages)} (bench only) …")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", *packages], check=False
    )
    if done.returncode != 0:
        print(f"  could not install {' '.join(packages)}; skipping it")
        return False
    return importlib.util.find_spec(module) is not None


def _child(argv: list[str]) -> tuple[str, float, int]:
    """Run argv; (stdout, wall seconds, peak RSS in KB of it and the processes it waited for,
    e.g. Spark's JVM)."""
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}")
    return text, wall, usage.ru_maxrss


def run_tagtrail(events: Path, engine: str = "duckdb") -> dict[str, Any]:
    argv = [str(BIN / "tagtrail"), "attribute", "--events", str(events), "--json"]
    if engine == "spark":
        argv += ["--engine", "spark", "--spark-master", "local[2]"]
    text, wall, peak = _child(argv)
    doc: dict[str, Any] = json.loads(text)
    target = " — target ≤ 5 s, ≤ 2048 MB" if engine == "duckdb" else " (JVM start included)"
    print(
        f"tagtrail attribute --model all --engine {engine} (16 models, end to end, own process): "
        f"{wall:.2f} s wall ({doc['meta']['seconds']:.2f} s inside), peak RSS "
        f"{peak / 1024:.0f} MB{target}"
    )
    meta = doc["meta"]
    print(
        f"  {meta['rows_read']:,} rows, {meta['n_users']:,} users, {meta['n_paths']:,} paths "
        f"({meta['n_converting_paths']:,} converting), {meta['n_distinct_paths']:,} distinct"
    )
    return doc


def largest_difference(duck: dict[str, Any], spark: dict[str, Any]) -> float:
    """The largest |Δ| between two documents' credits, over every model, metric and channel."""
    return max(
        abs(v - spark["models"][name][kind][channel])
        for name, body in duck["models"].items()
        for kind in ("conversions", "value")
        for channel, v in body[kind].items()
    )


def compare_engines(duck: dict[str, Any], spark: dict[str, Any]) -> None:
    worst = largest_difference(duck, spark)
    total = max(duck["meta"]["total_value"], 1.0)
    print(
        f"  Spark vs DuckDB: max |Δ| over every model and channel {worst:.2e} "
        f"({worst / total:.1e} of the total value)"
    )


def aggregated(events: Path) -> list[tuple[str, int, float, int]]:
    from tagtrail.attribution import duckdb_engine

    collected = duckdb_engine.load(events)
    table = collected.table()
    return [
        (">".join(collected.channels[c] for c in seq), int(conv), float(val), int(nulls))
        for seq, conv, val, nulls in zip(
            table.paths, table.conversions, table.values, table.nulls, strict=True
        )
    ]


def run_channelattribution(rows: list[tuple[str, int, float, int]], doc: dict[str, Any]) -> None:
    if not _ensure("ChannelAttribution", "channelattribution", "matplotlib", "pandas"):
        return
    import pandas as pd
    from ChannelAttribution import heuristic_models, markov_model

    df = pd.DataFrame(rows, columns=["path", "conv", "value", "nulls"])
    start = time.perf_counter()
    h = heuristic_models(df, "path", "conv", var_value="value", sep=">", flg_pro=False)
    print(
        f"ChannelAttribution heuristic_models ({len(df):,} aggregated paths): "
        f"{time.perf_counter() - start:.2f} s"
    )
    for ca, ours in (("first_touch", "first_touch"), ("last_touch", "last_touch"),
                     ("linear_touch", "linear")):  # fmt: skip
        mine = doc["models"][ours]["conversions"]
        diff = max(abs(float(r[f"{ca}_conversions"]) - mine[r["channel_name"]])
                   for _, r in h.iterrows())  # fmt: skip
        print(f"  {ca}: max |Δ| vs tagtrail {diff:.2e}")
    for order in (1, 2, 3):
        start = time.perf_counter()
        m = markov_model(df, "path", "conv", var_value="value", var_null="nulls", order=order,
                         sep=">", flg_pro=False)  # fmt: skip
        took = time.perf_counter() - start
        mine = doc["models"][f"markov_o{order}"]["conversions"]
        diff = max(abs(float(r["total_conversions"]) - mine[r["channel_name"]])
                   for _, r in m.iterrows())  # fmt: skip
        print(
            f"ChannelAttribution markov_model order {order} (simulated, nsim 1e5): "
            f"{took:.2f} s; max |Δ conversions| vs tagtrail's exact {diff:.1f} "
            f"of {doc['meta']['total_conversions']:,}"
        )


def run_mam(rows: list[tuple[str, int, float, int]], doc: dict[str, Any]) -> None:
    """Nova MAM 2.x on the same aggregated paths, in its `grouped_journey` format (a path, a
    converted flag, its occurrences and their total value); it reports value per channel."""
    if not _ensure("mam", "marketing-attribution-models"):
        return
    try:
        import pandas as pd
        from mam import MAM

        grouped = []
        for path, conv, value, nulls in rows:
            journey = path.replace(">", " > ")
            if conv:
                grouped.append((journey, True, conv, value))
            if nulls:
                grouped.append((journey, False, nulls, 0.0))
        df = pd.DataFrame(grouped, columns=["channels", "conv", "occurrences", "value"])
        start = time.perf_counter()
        model = MAM(df, format_type="grouped_journey", channels_colname="channels",
                    journey_with_conv_colname="conv", occurrences_colname="occurrences",
                    conversion_value_colname="value", path_separator=" > ")  # fmt: skip
        results = {
            "last_touch": model.run_last_click(),
            "linear": model.run_linear(),
            "markov_o1": model.run_markov(transition_to_same_state=False),
        }
        took = time.perf_counter() - start
        print(
            f"Nova MAM (grouped_journey, {len(df):,} rows): last click + linear + markov "
            f"{took:.2f} s"
        )
        for ours, result in results.items():
            frame = result.to_pandas()
            mine = doc["models"][ours]["value"]
            diff = max(abs(float(r["attribution"]) - mine[r["channels"]])
                       for _, r in frame.iterrows())  # fmt: skip
            note = " (MAM splits Markov credit per journey, tagtrail globally)" * (
                ours == "markov_o1"
            )
            print(
                f"  {ours}: max |Δ value| vs tagtrail {diff:.2e} "
                f"of {doc['meta']['total_value']:,.0f}{note}"
            )
    except Exception as exc:  # an anchor that fails is reported, not fatal
        print(f"Nova MAM failed: {type(exc).__name__}: {exc}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1_000_000)
    args = parser.parse_args()
    events = OUT / f"attribution_{args.users}.csv"
    if not events.exists():
        start = time.perf_counter()
        rows = generate(events, args.users)
        print(f"generated {rows:,} rows in {time.perf_counter() - start:.1f} s → {events}")
    doc = run_tagtrail(events)
    if importlib.util.find_spec("pyspark") is not None:
        compare_engines(doc, run_tagtrail(events, "spark"))
    else:
        print("Spark: pyspark is not installed (pip install -e '.[spark]')")
    rows = aggregated(events)
    run_channelattribution(rows, doc)
    run_mam(rows, doc)


if __name__ == "__main__":
    main()
