"""shapley_conv_rate on converting paths with many distinct channels (issue 16, item 4).

    python bench/shapley.py

Before: the game was filled on all 2^n subsets (26 channels: 45 s and 2.3 GB; 30: MemoryError;
200: an internal error). Now φ costs O(observed sets × n). Prints, per n, the model alone (best
of 5) and `tagtrail attribute --model all --json` end to end on a one-user file (one run).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tagtrail.attribution import shapley
from tagtrail.attribution.path_rules import Path as Journey
from tagtrail.attribution.paths import PathTable, collect

BIN = Path(sys.executable).parent
HEADER = "user_id,timestamp,type,channel,source,medium,campaign,value\n"


def _events(n: int) -> str:
    rows = [f"u1,2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z,touch,c{i},s,m,," for i in range(n)]
    return HEADER + "\n".join([*rows, "u1,2024-01-02T00:00:00Z,conversion,,,,,49.90"]) + "\n"


def main() -> None:
    for n in (26, 30, 200, 1000):
        names = tuple(f"c{i}" for i in range(n))
        journeys = [Journey("u1", names, (0,) * n, True, 49.9)]
        journeys += [
            Journey(f"u{k}", names[:k], (0,) * k, k % 2 == 0, 1.0) for k in range(2, min(n, 40))
        ]
        table = collect(journeys).table()
        best = min(_timed(shapley.shapley_conv_rate, table) for _ in range(5))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "events.csv"
            path.write_text(_events(n), encoding="utf-8")
            start = time.perf_counter()
            subprocess.run(
                [str(BIN / "tagtrail"), "attribute", "--events", str(path), "--json"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            wall = time.perf_counter() - start
        print(
            f"{n:5d} channels: shapley_conv_rate {best * 1000:8.2f} ms; "
            f"attribute --model all {wall:.2f} s"
        )


def _timed(run: Callable[[PathTable], object], table: PathTable) -> float:
    start = time.perf_counter()
    run(table)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
