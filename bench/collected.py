"""Attribution over the collected journeys of a store (issue 20): the journeys built in DuckDB.

    python bench/collected.py [--clicks 1700000] [--recipients 800000] [--anchor-clicks 200000]
                              [--postgresql] [--spark]

Seeds a store with bench/dashboard_data.py (1.7M clicks of 800k recipients and anonymous
visitors, plus the 5,000 users' identifies, visits and orders: about 1M identities), writes
its identity mapping (`identity_nodes`, as the writer's fold leaves it: the seed knows who is
who), then prints, each in its own process (wall time, peak RSS by wait4):
- `tagtrail attribute --model all --json` on the store (read → journeys → paths → 16 models),
  target ≤ 10 s and ≤ 2 GB; with --spark also `--engine spark` and the largest difference of
  its credits from DuckDB's;
- the anchor: the from-scratch path (`load_collected` + a CSV through the same engine) on a
  smaller store (`--anchor-clicks`: at 1M identities it takes minutes and gigabytes), beside
  the engine path on that same store, and whether their documents are equal;
- `tagtrail export --journeys FILE.csv` on the store, and on the anchor store beside the former
  export (`load_collected` + `journey_csv`), and whether the two files are equal.
SQLite always; PostgreSQL too with --postgresql (the server on 127.0.0.1:5432, harness/pg.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]
from sqlalchemy import Engine, text  # noqa: E402

from attribution import BIN, OUT, _child, largest_difference  # noqa: E402
from dashboard_data import USERS, _bulk, seed  # noqa: E402
from tagtrail.service.keys import ensure_workspace  # noqa: E402
from tagtrail.store.database import prepare_store  # noqa: E402
from tagtrail.store.identities import SOURCES  # noqa: E402

#: The former path, in a child process: read everything into Python, resolve, sessionize, CSV.
ANCHOR = """
import json, sys, time
from tagtrail.attribution.registry import MODELS
from tagtrail.service.attribution import AttributionQuery, collected_attribution
from tagtrail.service.collected import load_collected
from tagtrail.store.database import prepare_store
started = time.perf_counter()
engine = prepare_store(sys.argv[1])
document = collected_attribution(load_collected(engine, 1), AttributionQuery(tuple(MODELS)))
document["meta"]["seconds"] = round(time.perf_counter() - started, 3)
print(json.dumps(document))
"""

#: The former export, in a child process: everything read into Python, then `journey_csv`.
EXPORT_ANCHOR = """
import sys
from pathlib import Path
from tagtrail.collect import journey_csv
from tagtrail.service.collected import load_collected
from tagtrail.store.database import prepare_store
engine = prepare_store(sys.argv[1])
Path(sys.argv[2]).write_text(journey_csv(load_collected(engine, 1).journey_rows()))
"""


def write_identities(engine: Engine, workspace_id: int = 1) -> None:
    """The mapping the fold would write for the seed: each user's id, anonymous id and
    recipient → the user id (every other id maps to itself); the fold marks at the top."""
    rows = []
    for u in range(1, USERS + 1):
        who = f"u{u}"
        for kind, node in (("user", who), ("anon", f"anon-{u}"), ("recipient", f"r{u:07d}")):
            rows.append((workspace_id, kind, node, who, u))
    _bulk(engine, "identity_nodes", ("workspace_id", "kind", "id", "identity", "cluster"), rows)
    with engine.begin() as conn:
        for source in SOURCES:
            conn.execute(
                text(
                    f"UPDATE rollup_marks SET mark = (SELECT coalesce(max(id), 0) FROM {source}) "
                    f"WHERE name = 'identity:{source}'"
                )
            )


def make_store(url: str, clicks: int, recipients: int) -> None:
    engine = prepare_store(url)
    try:
        ensure_workspace(engine, now=datetime.now(UTC).replace(tzinfo=None))
        started = time.perf_counter()
        counts = seed(engine, clicks=clicks, recipients=recipients)
        write_identities(engine)
        print(f"  seeded {counts} in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        engine.dispose()


def attribute(url: str, *extra: str) -> tuple[dict[str, Any], float, int]:
    os.environ["TAGTRAIL_DATABASE_URL"] = url
    argv = [str(BIN / "tagtrail"), "attribute", "--model", "all", "--json", *extra]
    out, wall, peak = _child(argv)
    return json.loads(out), wall, peak


def anchor(url: str) -> tuple[dict[str, Any], float, int]:
    out, wall, peak = _child([sys.executable, "-c", ANCHOR, url])
    return json.loads(out), wall, peak


def export(url: str, path: Path, *, anchor: bool = False) -> tuple[int, float, int]:
    """`tagtrail export --journeys path` on the store (the anchor: the former export); (rows,
    wall seconds, peak RSS in KB)."""
    if anchor:
        argv = [sys.executable, "-c", EXPORT_ANCHOR, url, str(path)]
    else:
        os.environ["TAGTRAIL_DATABASE_URL"] = url
        argv = [str(BIN / "tagtrail"), "export", "--journeys", str(path), "--json"]
    _, wall, peak = _child(argv)
    with path.open("rb") as written:
        rows = sum(1 for _ in written) - 1
    return rows, wall, peak


def _exported(what: str, rows: int, wall: float, peak: int) -> None:
    print(f"  {what}: {wall:.2f} s wall, peak RSS {peak / 1024:.0f} MB; {rows:,} journey rows")


def _line(what: str, doc: dict[str, Any], wall: float, peak: int, target: str = "") -> None:
    meta = doc["meta"]
    print(
        f"  {what}: {wall:.2f} s wall ({meta['seconds']:.2f} s inside), peak RSS "
        f"{peak / 1024:.0f} MB; {meta['n_users']:,} identities, {meta['rows_read']:,} journey "
        f"rows, {meta['total_conversions']:,} conversions{target}"
    )


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    strip = [{**d, "meta": {k: v for k, v in d["meta"].items() if k != "seconds"}} for d in (a, b)]
    return strip[0] == strip[1]


@contextmanager
def stores(backend: str, sizes: list[tuple[str, int, int]]) -> Iterator[dict[str, str]]:
    """A store per (name, clicks, recipients): SQLite files kept in bench/out (seeded once),
    PostgreSQL databases made and dropped."""
    if backend == "sqlite":
        urls = {}
        for name, clicks, recipients in sizes:
            path = OUT / f"collected_{clicks}_{recipients}.db"
            if not path.exists():
                OUT.mkdir(exist_ok=True)
                print(f"seeding {path.name} …", flush=True)
                make_store(f"sqlite:///{path}", clicks, recipients)
            urls[name] = f"sqlite:///{path}"
        yield urls
        return
    from harness.pg import postgres_database

    with postgres_database() as big, postgres_database() as small:
        urls = dict(zip((s[0] for s in sizes), (big, small), strict=True))
        for name, clicks, recipients in sizes:
            print(f"seeding PostgreSQL ({name}) …", flush=True)
            make_store(urls[name], clicks, recipients)
        yield urls


def csv(name: str) -> Path:
    return OUT / f"collected_export_{name}.csv"


def run(backend: str, args: argparse.Namespace) -> None:
    sizes = [
        ("large", args.clicks, args.recipients),
        ("anchor", args.anchor_clicks, max(args.recipients * args.anchor_clicks // args.clicks, 1)),
    ]
    with stores(backend, sizes) as urls:
        print(f"{backend}, {os.getloadavg()[0]:.2f} load:")
        duck, wall, peak = attribute(urls["large"])
        _line("tagtrail attribute (store, DuckDB)", duck, wall, peak, " — target ≤ 10 s, ≤ 2048 MB")
        if args.spark:
            spark, wall, peak = attribute(urls["large"], "--engine", "spark")
            _line("tagtrail attribute --engine spark (JVM start included)", spark, wall, peak)
            print(f"    Spark vs DuckDB: max |Δ credit| {largest_difference(duck, spark):.2e}")
        small, wall, peak = attribute(urls["anchor"])
        _line(f"engine path on the anchor store ({args.anchor_clicks:,} clicks)", small, wall, peak)
        old, wall, peak = anchor(urls["anchor"])
        _line("anchor: load_collected + CSV, same store", old, wall, peak)
        print(f"    documents equal: {_same(small, old)}")
        large = export(urls["large"], csv("large"))
        _exported("tagtrail export --journeys (store, DuckDB)", *large)
        _exported(
            f"engine export on the anchor store ({args.anchor_clicks:,} clicks)",
            *export(urls["anchor"], csv("anchor")),
        )
        _exported("anchor: load_collected + journey_csv, same store", *export(
            urls["anchor"], csv("former"), anchor=True))  # fmt: skip
        print(f"    files equal: {csv('anchor').read_bytes() == csv('former').read_bytes()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clicks", type=int, default=1_700_000)
    parser.add_argument("--recipients", type=int, default=800_000)
    parser.add_argument("--anchor-clicks", type=int, default=200_000)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--spark", action="store_true")
    args = parser.parse_args()
    run("sqlite", args)
    if args.postgresql:
        run("postgresql", args)


if __name__ == "__main__":
    main()
