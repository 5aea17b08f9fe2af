"""The Spark engine: the DuckDB engine's reading, checking and sorting on Apache Spark (PySpark).

Spark reads the CSV (as text, so every row keeps its line number) or Parquet, checks rows with
the DuckDB engine's rules (spark_sql.py mirrors duckdb_sql.py), sorts valid touches,
conversions and exposures in R1 order; the sorted columns come back through Arrow
and `vectorised.from_columns` applies R2–R7, exactly as for DuckDB. So every model runs
unchanged ("one definition per model, two engines"); a test asserts both engines agree.

`local[2]` runs Spark inside this machine (a JVM, about 6 s to start); `--spark-master URL`
points at a cluster, whose executors must be able to read the same path.
"""

from __future__ import annotations

import csv
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagtrail.attribution import spark_sql as sql
from tagtrail.attribution.duckdb_engine import (
    COLUMNS,
    DIMENSIONS,
    DIRECT_LABEL,
    ISO_8601,
    MAX_REPORTED,
    check_readable,
    direct_case,
    iso_text,
)
from tagtrail.attribution.path_rules import PathRules
from tagtrail.attribution.paths import Collected, Malformed
from tagtrail.attribution.vectorised import from_columns
from tagtrail.errors import InvalidInput

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MASTER = "local[2]"
_LOCAL = 1 << 33  # monotonically_increasing_id: partition index << 33 | record in partition


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _label(by: str, direct: str) -> str:
    channel = "trim(CAST(channel AS STRING))"
    if by == "channel":
        return direct_case(channel, direct, channel)
    return direct_case(
        channel, direct, f"coalesce(nullif(trim(CAST({by} AS STRING)), ''), '(not set)')"
    )


@contextmanager
def spark_session(master: str = DEFAULT_MASTER) -> Iterator[SparkSession]:
    """The active SparkSession if there is one (left running), else a new one on `master`,
    stopped with its JVM on exit."""
    with warnings.catch_warnings():  # pyspark 4 warns about pandas 3 on import
        warnings.simplefilter("ignore", FutureWarning)
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:  # times without an offset are UTC, as on DuckDB
            zone = active.conf.get("spark.sql.session.timeZone")
            active.conf.set("spark.sql.session.timeZone", "UTC")
            try:
                yield active
            finally:
                active.conf.set("spark.sql.session.timeZone", zone or "UTC")
            return
        spark = build_session(master)
    try:
        yield spark
    finally:
        stop_session(spark)


def build_session(master: str = DEFAULT_MASTER, **conf: str) -> SparkSession:
    """A SparkSession for attribution: UTC, no web UI, few shuffle partitions in local mode."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from pyspark.sql import SparkSession

        builder = (
            SparkSession.builder.master(master)
            .appName("tagtrail-attribute")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        )
        if master.startswith("local"):
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            builder = builder.config("spark.sql.shuffle.partitions", "4").config(
                "spark.driver.memory", "2g"
            )
        for key, value in conf.items():
            builder = builder.config(key.replace("_", "."), value)
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def stop_session(spark: SparkSession) -> None:
    """Stop Spark and the JVM this Python process started for it (no process is left behind)."""
    from pyspark import SparkContext

    spark.stop()
    gateway: Any = SparkContext._gateway
    if gateway is None:
        return
    proc = getattr(gateway, "proc", None)
    gateway.shutdown()
    SparkContext._gateway = None
    SparkContext._jvm = None
    if proc is not None:
        proc.stdin.close()  # the JVM exits when its stdin closes
        try:
            proc.wait(timeout=20)
        except Exception:  # pragma: no cover - a JVM that ignores its stdin
            proc.kill()
            proc.wait()


def load(
    path: Path | str,
    *,
    rules: PathRules | None = None,
    by: str = "channel",
    strict: bool = False,
    master: str = DEFAULT_MASTER,
) -> Collected:
    """Read `path` on Spark and build its paths; the same contract as `duckdb_engine.load`."""
    if by not in DIMENSIONS:
        raise InvalidInput(f"unknown dimension {by!r}", hint=f"use one of {', '.join(DIMENSIONS)}")
    text = str(path)
    if "://" not in text and not Path(text).is_file():
        raise InvalidInput(f"{text}: no such file", hint="pass a CSV or Parquet events file")
    if "://" not in text and not text.lower().endswith((".parquet", ".pq")):
        check_readable(Path(text), text)  # an empty or binary CSV (Spark reads it as text)
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise InvalidInput(
            "the Spark engine needs PySpark",
            hint="pip install 'tagtrail[spark]' (and Java 17), or use --engine duckdb",
        ) from exc
    from py4j.protocol import Py4JError  # type: ignore[import-untyped]
    from pyspark.errors import PySparkException

    failures = (PySparkException, Py4JError)
    try:
        with spark_session(master) as spark:
            try:
                return _load(spark, text, rules or PathRules(), by, strict)
            except failures as exc:  # read the message while the JVM is still up
                raise _unreadable(text, master, exc) from None
    except failures as exc:  # Spark did not start (no Java, a master that does not answer)
        raise _unreadable(text, master, exc) from None


def _unreadable(path: str, master: str, exc: BaseException) -> InvalidInput:
    java = getattr(exc, "java_exception", None)  # Py4JJavaError: the Java side's message
    lines = (str(java.toString()) if java is not None else str(exc)).strip().splitlines()
    return InvalidInput(
        f"{path}: Spark ({master}) cannot read the events: "
        + (lines[0] if lines else type(exc).__name__),
        hint="check Java 17 (java -version), the master URL and that every executor can read "
        "the path; or use --engine duckdb",
    )


def _numbered(spark: SparkSession, frame: DataFrame) -> DataFrame:
    """`frame` with `rn`: its 1-based row number in the file (partitions are file splits in
    file order; each one's offset is the number of rows before it)."""
    from pyspark.sql import functions as F

    frame = frame.withColumn("_mid", F.monotonically_increasing_id())
    part = F.shiftright(F.col("_mid"), 33)
    counts = sorted(frame.groupBy(part.alias("p")).count().collect())
    offsets, total = [], 0
    for p, n in counts:
        offsets.append((int(p), total))
        total += int(n)
    table = spark.createDataFrame(offsets or [(0, 0)], "p BIGINT, off BIGINT")
    return (
        frame.withColumn("p", part)
        .join(F.broadcast(table), "p")
        .withColumn("rn", F.col("off") + F.col("_mid").bitwiseAND(_LOCAL - 1) + 1)
        .drop("_mid", "p", "off")
    )


def _read(spark: SparkSession, path: str, need: list[str]) -> DataFrame:
    """Every row with `rn`, `csv_problem` (why a CSV row does not parse) and the needed
    columns (null in a row that does not parse)."""
    from pyspark.sql import functions as F

    def missing_check(names: list[str]) -> None:
        missing = [c for c in need if c not in names]
        if missing:
            raise InvalidInput(
                f"{path}: missing column(s) {', '.join(missing)}",
                hint="the header is " + ",".join(need),
            )

    if path.lower().endswith((".parquet", ".pq")):
        frame = spark.read.parquet(path)
        missing_check(list(frame.columns))
        frame = frame.select(*need, F.lit(None).cast("string").alias("csv_problem"))
        return _numbered(spark, frame)
    lines = spark.read.text(path)
    first = lines.first()
    header = next(csv.reader([first[0].removeprefix("\ufeff") if first else ""]), [])
    names = [h.strip() for h in header]
    missing_check(names)
    schema = ", ".join(f"c{i} STRING" for i in range(len(names))) + ", _corrupt STRING"
    options = {"columnNameOfCorruptRecord": "_corrupt", "mode": "PERMISSIVE"}
    rows = (
        _numbered(spark, lines)
        .where((F.col("rn") > 1) & (F.trim("value") != ""))
        .select("rn", "value", F.from_csv("value", schema, options).alias("r"))
    )
    fields = F.size(F.split(F.regexp_replace("value", '"([^"]|"")*"', ""), ",", -1))
    corrupt = F.col("r._corrupt").isNotNull()
    reason = (
        F.when(fields < len(names), "malformed CSV row: too few columns")
        .when(fields > len(names), "malformed CSV row: too many columns")
        .otherwise("malformed CSV row: cannot parse")
    )
    return rows.select(
        "rn",
        F.when(corrupt, reason).alias("csv_problem"),
        *(F.when(~corrupt, F.col(f"r.c{names.index(c)}")).alias(c) for c in need),
    )


def _load(spark: SparkSession, path: str, rules: PathRules, by: str, strict: bool) -> Collected:
    from pyspark.sql import functions as F

    need = [*COLUMNS, *(("content",) if by == "content" else ())]
    _read(spark, path, need).createOrReplaceTempView("src")
    direct = DIRECT_LABEL[by] if by != "channel" else rules.direct
    touch_types = ", ".join(_quote(t) for t in rules.touch_types) or "''"
    problem = sql.PROBLEM.format(touch_types=touch_types)
    stamp = "trim(CAST(`timestamp` AS STRING))"
    events = sql.EVENTS.format(
        problem=problem,
        label=_label(by, direct),
        iso=_quote(ISO_8601),
        iso_text=iso_text(stamp, stamp + " RLIKE {}"),
    )
    ev = spark.sql(events).cache()
    ev.createOrReplaceTempView("ev")
    try:  # one pass over the file fills the cache; every later step reads `ev`
        bad = ev.where(F.col("problem").isNotNull()).select("rn", "problem")
        n_bad = bad.count()
        first_bad = bad.orderBy("rn").limit(MAX_REPORTED).collect() if n_bad else []
        malformed = [Malformed(int(r["rn"]), str(r["problem"])) for r in first_bad]
        if strict and malformed:
            raise InvalidInput(
                f"{path}: line {malformed[0].line}: {malformed[0].reason}",
                hint="fix the row, or run without --strict to skip and count malformed rows",
            )
        names = {str(r["ch"]) for r in spark.sql(sql.CHANNELS).collect()} | {direct}
        channels = tuple(sorted(names))
        spark.createDataFrame(
            list(enumerate(channels)), "cid BIGINT, ch STRING"
        ).createOrReplaceTempView("channels")
        direct_id = channels.index(direct)
        rows = spark.sql(sql.SORTED.format(touch_types=touch_types)).toArrow()
        counts = spark.sql(sql.COUNTS).first()
        assert counts is not None
    finally:
        ev.unpersist()
    collected = from_columns(
        {name: rows.column(name).to_numpy(zero_copy_only=False) for name in rows.column_names},
        channels,
        rules,
        direct_id=direct_id,
    )
    stats = {
        "rows_read": int(counts["n"]),
        "rows_skipped": n_bad,
        **collected.stats,
    }
    return replace(collected, stats=stats, malformed=tuple(malformed))
