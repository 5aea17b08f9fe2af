"""The DuckDB engine: read events (CSV or Parquet), check rows and sort them in SQL (R1).

DuckDB does only what scales with the rows: parsing, validation and ordering. The sorted
columns go to `vectorised.from_columns` (R2–R7 and billboard winners with numpy), which
returns a `Collected` (paths.py), the same value the pure reference (`journeys.build_paths` +
`paths.collect`) produces, so the models never know which engine ran; a test checks both
agree under every model. spark_engine.py does the same on Spark.
"""

from __future__ import annotations

import codecs
import csv
import logging
from dataclasses import replace
from pathlib import Path

import duckdb

from tagtrail.attribution import duckdb_sql as sql
from tagtrail.attribution.path_rules import PathRules
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
#: Spellings of the direct channel read as `direct` (case-insensitive): GA4 exports `Direct`
#: and `(direct)`; R6 knows only `direct`, so they are normalised as the rows are read.
DIRECT_SPELLINGS = ("direct", "(direct)")
#: ISO 8601 as the format documents it: a date, optionally a time to the minute or second
#: (with a fraction), then `Z`, `±hh:mm`, `±hhmm` or `±hh` (a typed Parquet timestamp reads as
#: `2024-01-01 00:00:00+00`). `2024/01/01` or `01/02/2024` are refused.
ISO_8601 = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    "([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?$"
)
#: A time without seconds (`T03:04Z`): the casts get `:00` added (Spark's refuses it as is).
_NO_SECONDS = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$"
MAX_REPORTED = 20
_SNIFF = 8192
_TIMESTAMP = 'trim(CAST("timestamp" AS VARCHAR))'
_REJECTS = {"MISSING COLUMNS": "too few columns", "TOO MANY COLUMNS": "too many columns"}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file's first line (a UTF-8 byte order mark is skipped)."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
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


def direct_case(channel: str, direct: str, otherwise: str) -> str:
    """SQL (DuckDB and Spark alike): `direct` when `channel` (trimmed text) is a spelling of
    the direct channel, else `otherwise`."""
    spellings = ", ".join(_quote(s) for s in DIRECT_SPELLINGS)
    return f"CASE WHEN lower({channel}) IN ({spellings}) THEN {_quote(direct)} ELSE {otherwise} END"


def _label(by: str, direct: str) -> str:
    channel = "trim(CAST(channel AS VARCHAR))"
    if by == "channel":
        return direct_case(channel, direct, channel)
    return direct_case(
        channel, direct, f"coalesce(nullif(trim(CAST({by} AS VARCHAR)), ''), '(not set)')"
    )


def iso_text(text: str, matches: str) -> str:
    """SQL (DuckDB and Spark alike): the ISO 8601 timestamp `text` with its seconds, for the
    cast; `matches` is the engine's regex test with `{}` for the pattern."""
    pattern = _quote(_NO_SECONDS)
    return (
        f"CASE WHEN {matches.format(pattern)} "
        f"THEN concat(substr({text}, 1, 16), ':00', substr({text}, 17)) ELSE {text} END"
    )


def check_readable(path: Path, name: str) -> None:
    """Refuse an empty file, a CSV that is not UTF-8 text or a Parquet file without its
    magic number, with a message a person can act on (DuckDB's own is SQL text)."""
    hint = "an events file is CSV (UTF-8 text) with the header " + ",".join(COLUMNS)
    hint += ", or Parquet (.parquet) with the same columns"
    with path.open("rb") as handle:
        head = handle.read(_SNIFF)
    if not head:
        raise InvalidInput(f"{name}: the file is empty", hint=hint)
    if path.suffix.lower() in (".parquet", ".pq"):
        if not head.startswith(b"PAR1"):
            raise InvalidInput(f"{name}: not a Parquet file", hint=hint)
        return
    try:  # a multi-byte character cut at the end of the sample is not an error
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        binary = True
    else:
        binary = b"\0" in head
    if binary:
        raise InvalidInput(f"{name}: not a CSV text file (binary or not UTF-8)", hint=hint)


def _problem(touch_types: str) -> str:
    return f"""CASE
      WHEN user_id IS NULL OR trim(CAST(user_id AS VARCHAR)) = '' THEN 'empty user_id'
      WHEN ts IS NULL THEN 'timestamp is not ISO 8601 (2024-01-03T14:05:09Z)'
      WHEN typ IS NULL OR typ NOT IN ('conversion', 'exposure', {touch_types}) THEN 'unknown type'
      WHEN typ <> 'conversion' AND (channel IS NULL OR trim(CAST(channel AS VARCHAR)) = '')
        THEN 'touch without channel'
      WHEN typ = 'conversion' AND nullif(trim(CAST(value AS VARCHAR)), '') IS NOT NULL
        AND (val IS NULL OR NOT isfinite(val)) THEN 'value is not a number'
      WHEN typ = 'conversion' AND val < 0 THEN 'value is negative'
    END"""


def load(
    path: Path,
    *,
    rules: PathRules | None = None,
    by: str = "channel",
    strict: bool = False,
    name: str | None = None,
) -> Collected:
    """Read `path` and build its paths; malformed rows are skipped and counted (or, `strict`,
    the first one raises `InvalidInput` with its line number). Errors name the file `name`
    (default: the path), so a server can keep its own paths out of them."""
    if by not in DIMENSIONS:
        raise InvalidInput(f"unknown dimension {by!r}", hint=f"use one of {', '.join(DIMENSIONS)}")
    label = str(path) if name is None else name
    if not path.is_file():
        raise InvalidInput(f"{label}: no such file", hint="pass a CSV or Parquet events file")
    check_readable(path, label)
    con = duckdb.connect()
    try:
        return _load(con, _source(path), rules or PathRules(), by, strict, label)
    except duckdb.Error as exc:
        logger.debug("DuckDB cannot read %s: %s", label, exc)
        raise InvalidInput(
            f"{label}: not a readable events file",
            hint="the file must be CSV with the header " + ",".join(COLUMNS) + ", or Parquet",
        ) from exc
    finally:
        con.close()


def load_relation(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    rules: PathRules | None = None,
    by: str = "channel",
    name: str,
) -> Collected:
    """Build the paths of `table`, a relation of `con` with the events-file columns, `timestamp`
    in whole seconds since the epoch (BIGINT), and `line` (the row's line in the file it stands
    for): what `load` does once the file is read, so the same rows give the same paths, skipped
    rows and line numbers. `con` is left open; its
    settings are the engine's afterwards (UTC, insertion order not kept), and a second call
    replaces the first one's tables."""
    if by not in DIMENSIONS:
        raise InvalidInput(f"unknown dimension {by!r}", hint=f"use one of {', '.join(DIMENSIONS)}")
    con.execute(sql.CLEAR)
    return _load(
        con, (table, True), rules or PathRules(), by, False, name, row="line",
        ts='CAST("timestamp" AS BIGINT)',
    )  # fmt: skip


def _load(
    con: duckdb.DuckDBPyConnection,
    read: tuple[str, bool],
    rules: PathRules,
    by: str,
    strict: bool,
    label: str,
    *,
    row: str = "file_row_number + 1",
    ts: str | None = None,
) -> Collected:
    """`read` is (the SQL that reads the rows, whether they carry their own line numbers);
    `ts` the SQL of a row's time in epoch seconds (None: its ISO 8601 `timestamp`, checked)."""
    con.execute("SET TimeZone = 'UTC'")
    # Keep freed buffers for reuse instead of handing them back to the OS between statements
    # (each return meant page faults again on the next one); the connection frees all at close.
    con.execute("SET allocator_flush_threshold = '4GB'")
    con.execute("SET allocator_bulk_deallocation_flush_threshold = '4GB'")
    source, parquet = read
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    need = [*COLUMNS, *(("content",) if by == "content" else ())]
    missing = [c for c in need if c not in names]
    if missing:
        raise InvalidInput(
            f"{label}: missing column(s) {', '.join(missing)}",
            hint="the header is " + ",".join(COLUMNS) + (",content" if by == "content" else ""),
        )
    direct = DIRECT_LABEL[by] if by != "channel" else rules.direct
    touch_types = ", ".join(_quote(t) for t in rules.touch_types) or "''"
    con.execute(
        sql.EVENTS.format(
            row=row if parquet else "CAST(NULL AS BIGINT)",
            source=source,
            label=_label(by, direct),
            problem=_problem(touch_types),
            ts=ts
            or sql.TIMESTAMP.format(
                iso=_quote(ISO_8601),
                iso_text=iso_text(_TIMESTAMP, f"regexp_full_match({_TIMESTAMP}, {{}})"),
            ),
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
            f"{label}: line {first.line}: {first.reason}",
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
