"""The DuckDB engine: read events (CSV or Parquet), check rows and sort them in SQL (R1).

DuckDB does only what scales with the rows: parsing, validation and ordering. The sorted
columns go to `vectorised.from_columns` (R2–R7 and billboard winners with numpy), which
returns a `Collected` (paths.py), the same value the pure reference (`journeys.build_paths` +
`paths.collect`) produces, so the models never know which engine ran; a test checks both
agree under every model. spark_engine.py does the same on Spark.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import replace
from pathlib import Path

import duckdb

from tagtrail.attribution import duckdb_sql as sql
from tagtrail.attribution.journeys import PathRules
from tagtrail.attribution.paths import Collected, Malformed
from tagtrail.attribution.vectorised import from_columns
from tagtrail.errors import InvalidInput

logger = logging.getLogger(__name__)

COLUMNS = ("user_id", "timestamp", "type", "channel", "source", "medium", "campaign", "value")
DIMENSIONS = ("channel", "source", "medium", "campaign", "content")
#: The label of a direct touch (channel `direct`) in each dimension (R6).
DIRECT_LABEL = {
    "channel": "direct",
    "source": "(direct)",
    "medium": "(none)",
    "campaign": "(direct)",
    "content": "(direct)",
}
MAX_REPORTED = 20
_REJECTS = {"MISSING COLUMNS": "too few columns", "TOO MANY COLUMNS": "too many columns"}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file's first line."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        return [name.strip() for name in next(csv.reader(handle), [])]


def _source(path: Path) -> tuple[str, bool]:
    name = _quote(str(path))
    if path.suffix.lower() in (".parquet", ".pq"):
        return f"read_parquet({name}, file_row_number = true)", True
    # The dialect and types are given, so DuckDB sniffs nothing and reads in one pass.
    columns = ", ".join(f"{_quote(c)}: 'VARCHAR'" for c in csv_header(path))
    return (
        f"read_csv({name}, header = true, delim = ',', quote = '\"', escape = '\"', "
        f"columns = {{{columns}}}, store_rejects = true)",
        False,
    )


def _label(by: str, direct: str) -> str:
    if by == "channel":
        return "trim(channel)"
    return (
        f"CASE WHEN trim(channel) = 'direct' THEN {_quote(direct)} "
        f"ELSE coalesce(nullif(trim(CAST({by} AS VARCHAR)), ''), '(not set)') END"
    )


def _problem(touch_types: str) -> str:
    return f"""CASE
      WHEN user_id IS NULL OR trim(CAST(user_id AS VARCHAR)) = '' THEN 'empty user_id'
      WHEN ts IS NULL THEN 'timestamp is not ISO 8601'
      WHEN typ IS NULL OR typ NOT IN ('conversion', 'exposure', {touch_types}) THEN 'unknown type'
      WHEN typ <> 'conversion' AND (channel IS NULL OR trim(CAST(channel AS VARCHAR)) = '')
        THEN 'touch without channel'
      WHEN typ = 'conversion' AND nullif(trim(CAST(value AS VARCHAR)), '') IS NOT NULL
        AND (val IS NULL OR NOT isfinite(val)) THEN 'value is not a number'
    END"""


def load(
    path: Path, *, rules: PathRules | None = None, by: str = "channel", strict: bool = False
) -> Collected:
    """Read `path` and build its paths; malformed rows are skipped and counted (or, `strict`,
    the first one raises `InvalidInput` with its line number)."""
    if by not in DIMENSIONS:
        raise InvalidInput(f"unknown dimension {by!r}", hint=f"use one of {', '.join(DIMENSIONS)}")
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", hint="pass a CSV or Parquet events file")
    con = duckdb.connect()
    try:
        return _load(con, path, rules or PathRules(), by, strict)
    except duckdb.Error as exc:
        raise InvalidInput(
            f"{path}: cannot read events: {exc}",
            hint="the file must be CSV with the header " + ",".join(COLUMNS) + ", or Parquet",
        ) from exc
    finally:
        con.close()


def _load(
    con: duckdb.DuckDBPyConnection, path: Path, rules: PathRules, by: str, strict: bool
) -> Collected:
    con.execute("SET TimeZone = 'UTC'")
    # Keep freed buffers for reuse instead of handing them back to the OS between statements
    # (each return meant page faults again on the next one); the connection frees all at close.
    con.execute("SET allocator_flush_threshold = '4GB'")
    con.execute("SET allocator_bulk_deallocation_flush_threshold = '4GB'")
    source, parquet = _source(path)
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    need = [*COLUMNS, *(("content",) if by == "content" else ())]
    missing = [c for c in need if c not in names]
    if missing:
        raise InvalidInput(
            f"{path}: missing column(s) {', '.join(missing)}",
            hint="the header is " + ",".join(COLUMNS) + (",content" if by == "content" else ""),
        )
    direct = DIRECT_LABEL[by] if by != "channel" else rules.direct
    touch_types = ", ".join(_quote(t) for t in rules.touch_types) or "''"
    row = "file_row_number + 1" if parquet else "CAST(NULL AS BIGINT)"
    con.execute(
        sql.EVENTS.format(
            row=row,
            source=source,
            label=_label(by, direct),
            problem=_problem(touch_types),
        )
    )
    # Row numbers are fixed now; later statements sort explicitly, so let them run unordered.
    con.execute("SET preserve_insertion_order = false")
    rejected = [] if parquet else _rejected(con)
    problems = con.execute(
        "SELECT rn, problem FROM ev WHERE problem IS NOT NULL ORDER BY rn"
    ).fetchall()
    malformed = _malformed(problems, rejected, parquet)
    if strict and malformed:
        first = malformed[0]
        raise InvalidInput(
            f"{path}: line {first.line}: {first.reason}",
            hint="fix the row, or run without --strict to skip and count malformed rows",
        )
    return _paths(con, rules, direct, touch_types, malformed, len(rejected))


def _rejected(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    rows = con.execute(
        "SELECT line, any_value(error_type) FROM reject_errors GROUP BY line ORDER BY line"
    ).fetchall()
    return [(int(line), _REJECTS.get(str(kind), str(kind).lower())) for line, kind in rows]


def _malformed(
    problems: list[tuple[int, str]], rejected: list[tuple[int, str]], parquet: bool
) -> list[Malformed]:
    """Line numbers in the file: a parsed row's ordinal skips the header and rejected lines
    (a quoted field holding a newline would shift later numbers; the format has none)."""
    out = [Malformed(line, f"malformed CSV row: {kind}") for line, kind in rejected]
    if parquet:
        out += [Malformed(int(rn), reason) for rn, reason in problems]
        return sorted(out, key=lambda m: m.line)
    skipped = sorted(line for line, _ in rejected)
    for rn, reason in problems:
        line = int(rn) + 1
        for s in skipped:  # rejected lines before this row shift it down
            if s <= line:
                line += 1
        out.append(Malformed(line, reason))
    return sorted(out, key=lambda m: m.line)


def _paths(
    con: duckdb.DuckDBPyConnection,
    rules: PathRules,
    direct: str,
    touch_types: str,
    malformed: list[Malformed],
    n_rejected: int,
) -> Collected:
    con.execute(sql.CHANNELS.format(direct=_quote(direct)))
    found = con.execute(f"SELECT cid FROM channels WHERE ch = {_quote(direct)}").fetchone()
    assert found is not None
    direct_id = int(found[0])
    channels = tuple(r[0] for r in con.execute("SELECT ch FROM channels ORDER BY cid").fetchall())
    rows = con.execute(sql.SORTED.format(touch_types=touch_types)).fetchnumpy()
    counts = con.execute(sql.COUNTS).fetchone()
    assert counts is not None
    collected = from_columns(rows, channels, rules, direct_id=direct_id)
    stats = {
        "rows_read": int(counts[0]) + n_rejected,
        "rows_skipped": len(malformed),
        **collected.stats,
    }
    return replace(collected, stats=stats, malformed=tuple(malformed[:MAX_REPORTED]))
