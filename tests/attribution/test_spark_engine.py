"""The Spark engine equals the DuckDB engine (DESIGN §3: "a test asserts it").

One SparkSession (local[2], no UI, 768 MB) serves every test of this module and is stopped with
its JVM at the end; the CLI's `--engine spark` reuses it. Skipped when PySpark or Java is missing.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tagtrail.attribution import duckdb_engine
from tagtrail.attribution.document import run_models
from tagtrail.attribution.path_rules import DAY, PathRules
from tagtrail.attribution.paths import Collected
from tagtrail.attribution.registry import MODEL_NAMES
from tagtrail.errors import InvalidInput
from tests.attribution.helpers import HEADER, iso

pytest.importorskip("pyspark")
if shutil.which("java") is None:  # pragma: no cover
    pytest.skip("the Spark engine needs Java", allow_module_level=True)

from tagtrail.attribution import spark_engine  # noqa: E402

T0 = 1_700_000_000
CHANNELS = ["email", "paid_search", "sms", "direct", "display", "referral"]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """The one SparkSession of the test run (every Spark test is in this module, so the JVM
    stops as soon as they are done rather than at the end of the whole suite)."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = spark_engine.build_session("local[2]", spark_driver_memory="768m")
    from pyspark import SparkContext

    proc = SparkContext._gateway.proc  # type: ignore[union-attr]
    yield session
    spark_engine.stop_session(session)
    assert proc.poll() is not None, "the JVM is still running"


def _events(path: Path, seed: int, users: int = 300, *, bad: bool = True) -> Path:
    """Random events in file order, with malformed rows of every kind sprinkled in."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(users * 5):
        user = f"u{int(rng.integers(0, users))}"
        ts = iso(T0 + int(rng.integers(0, 60)) * int(rng.choice([1, 3_600, DAY])))
        ts = ts if rng.random() < 0.5 else ts[:-1].replace("T", " ")  # no offset: UTC
        kind = str(rng.choice(["touch", "touch", "touch", "conversion", "exposure"]))
        channel = str(rng.choice(CHANNELS))
        campaign = str(rng.choice(["spring", "", "winback"]))
        if kind == "conversion":
            lines.append(f"{user},{ts},conversion,,,,,{rng.gamma(2, 10):.2f}")
        else:
            lines.append(f"{user},{ts},{kind},{channel},src,med,{campaign},")
    if bad:
        broken = [
            "u1,yesterday,touch,email,,,,",
            "u1,2024-01-01T00:00:00Z,touch",
            ",2024-01-01T00:00:00Z,touch,email,,,,",
            "u2,2024-01-01T00:00:00Z,click,email,,,,",
            "u2,2024-01-01T00:00:00Z,touch,,,,,",
            "u3,2024-01-01T00:00:00Z,conversion,,,,,lots",
            "u3,2024-01-01T00:00:00Z,touch,email,a,b,c,,extra",
            'u4,2024-01-01T00:00:00+02:00,touch,"email",src,med,"a,b",',
        ]
        for i, row in enumerate(broken):
            lines.insert(int(rng.integers(0, len(lines))) if i else 3, row)
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _assert_same(spark_side: Collected, duck_side: Collected) -> None:
    assert spark_side.channels == duck_side.channels
    assert spark_side.paths == duck_side.paths
    for name in ("user", "path", "converted", "value"):
        assert np.array_equal(getattr(spark_side, name), getattr(duck_side, name)), name
    assert spark_side.stats == duck_side.stats
    assert spark_side.malformed == duck_side.malformed
    got, want = run_models(spark_side, MODEL_NAMES), run_models(duck_side, MODEL_NAMES)
    for name in MODEL_NAMES:
        assert np.allclose(got[name].conversions, want[name].conversions, rtol=0, atol=1e-9)
        assert np.allclose(got[name].value, want[name].value, rtol=0, atol=1e-9), name


@pytest.mark.parametrize(
    ("by", "rules"),
    [
        ("channel", PathRules()),
        ("campaign", PathRules(lookback=20 * DAY, collapse_repeats=True)),
        ("channel", PathRules(touch_types=("touch", "exposure"), exposure_window=6 * 3600)),
    ],
)
def test_spark_engine_equals_duckdb_on_every_model(
    spark: Any, tmp_path: Path, by: str, rules: PathRules
) -> None:
    del spark
    csv = _events(tmp_path / "events.csv", seed=len(by) + rules.lookback)
    expected = duckdb_engine.load(csv, rules=rules, by=by)
    assert expected.stats["rows_skipped"] == 7  # the quoted row with an offset is valid
    _assert_same(spark_engine.load(csv, rules=rules, by=by), expected)


def test_spark_engine_equals_duckdb_on_edge_inputs(spark: Any, tmp_path: Path) -> None:
    """A BOM, GA4's direct spellings, every ISO 8601 form (and two that are not), a negative
    value, a repeated conversion; then a header-only file and an empty one."""
    del spark
    rows = [
        "u1,2024-01-01T03:04Z,touch,Email,newsletter,email,spring,",
        "u1,2024-01-01 04:00:00,touch,Direct,(direct),(none),,",
        "u1,2024-01-01T05:00:00.250Z,touch,(direct),(direct),(none),,",
        "u1,2024-01-01T07:00:00+01:00,conversion,,,,,10.00",
        "u1,2024-01-01T07:00:00+01:00,conversion,,,,,10.00",
        "u2,2024/01/01 00:00:00,touch,sms,instasent,sms,flash,",
        "u2,2024-01-02,touch, DIRECT ,,,,",
        "u2,2024-01-03T00:00:00Z,conversion,,,,,-5.00",
        "u2,2024-01-04T00:00:00Z,conversion,,,,,7.00",
    ]
    csv = tmp_path / "edge.csv"
    csv.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\n".join(rows) + "\n").encode())
    for by in ("channel", "medium"):
        expected = duckdb_engine.load(csv, by=by)
        assert [m.line for m in expected.malformed] == [7, 9]
        assert expected.stats["duplicate_conversions"] == 1
        _assert_same(spark_engine.load(csv, by=by), expected)
    assert duckdb_engine.load(csv).channels == ("Email", "direct")
    header_only = tmp_path / "header.csv"
    header_only.write_text(HEADER, encoding="utf-8")
    _assert_same(spark_engine.load(header_only), duckdb_engine.load(header_only))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInput, match="the file is empty"):
        spark_engine.load(empty)


def test_parquet_and_line_numbers_across_partitions(spark: Any, tmp_path: Path) -> None:
    csv = _events(tmp_path / "events.csv", seed=5)
    spark.conf.set("spark.sql.files.maxPartitionBytes", "4096")  # many splits of one file
    try:
        _assert_same(spark_engine.load(csv), duckdb_engine.load(csv))
        clean = _events(tmp_path / "clean.csv", seed=6, bad=False)
        parquet = tmp_path / "events.parquet"
        import duckdb

        with duckdb.connect() as con:
            con.execute(f"COPY (SELECT * FROM read_csv('{clean}')) TO '{parquet}'")
        _assert_same(spark_engine.load(parquet), duckdb_engine.load(parquet))
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    with pytest.raises(InvalidInput, match="line 5: timestamp is not ISO 8601"):
        spark_engine.load(csv, strict=True)
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet", encoding="utf-8")
    with pytest.raises(InvalidInput, match="Spark .* cannot read the events"):
        spark_engine.load(broken)


def test_cli_engine_spark_json_equals_duckdb(
    spark: Any, run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    spark.conf.set("spark.sql.session.timeZone", "Europe/Madrid")  # the engine works in UTC
    csv = _events(tmp_path / "events.csv", seed=9)
    args = ("attribute", "--events", str(csv), "--json")
    duck = run_cli(*args).json()
    result = run_cli(*args, "--engine", "spark", "--spark-master", "local[2]")
    assert result.code == 0, result.err
    got = result.json()
    assert got["meta"]["engine"] == "spark"
    for key in ("engine", "seconds"):
        del got["meta"][key], duck["meta"][key]
    assert got["meta"] == duck["meta"]
    assert spark.conf.get("spark.sql.session.timeZone") == "Europe/Madrid"  # restored
    assert list(got["models"]) == list(MODEL_NAMES)
    for name, body in duck["models"].items():
        for kind in ("conversions", "value"):
            for channel, v in body[kind].items():
                assert got["models"][name][kind][channel] == pytest.approx(v, abs=1e-9)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_engine_spark_over_the_collected_store_equals_duckdb(
    spark: Any,  # noqa: ARG001 (the test run's SparkSession, which the engine finds active)
    tmp_path: Path,
    backend: str,
) -> None:
    """`--engine spark` on the store: the journeys built in DuckDB, exported as Parquet, read
    by Spark, give DuckDB's credits under every model (and the same document otherwise)."""
    from datetime import datetime

    from harness.pg import postgres_database

    from tagtrail.service.attribution import AttributionQuery, store_attribution
    from tagtrail.service.keys import ensure_workspace
    from tagtrail.store.database import prepare_store
    from tests.service.test_journeys import random_store

    with postgres_database() if backend == "postgresql" else _sqlite(tmp_path) as url:
        engine = prepare_store(url)
        try:
            ensure_workspace(engine, now=datetime(2026, 5, 1))
            ws = random_store(engine, seed=3, size=400)
            query = AttributionQuery(tuple(MODEL_NAMES))
            duck = store_attribution(engine, ws, query)
            got = store_attribution(engine, ws, query, engine_name="spark")
        finally:
            engine.dispose()
    assert got["meta"]["engine"] == "spark" and duck["meta"]["total_conversions"] > 0
    for key in ("engine", "seconds"):
        del got["meta"][key], duck["meta"][key]
    assert got["meta"] == duck["meta"]
    for name, body in duck["models"].items():
        for kind in ("conversions", "value"):
            for channel, v in body[kind].items():
                assert got["models"][name][kind][channel] == pytest.approx(v, abs=1e-9)


@contextmanager
def _sqlite(folder: Path) -> Iterator[str]:
    yield f"sqlite:///{folder / 'tagtrail.db'}"
