"""`tagtrail attribute`: credit per channel under every model, from an events file or the
store's collected journeys."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from tagtrail.attribution import duckdb_engine
from tagtrail.attribution.chart import render_html
from tagtrail.attribution.document import bootstrap, result_document, run_meta, run_models
from tagtrail.attribution.path_rules import PathRules
from tagtrail.attribution.registry import parse_models
from tagtrail.cli.output import emit_json, json_option, stderr_console, stdout_console
from tagtrail.cli.targets import backend_options, open_local_store
from tagtrail.client import Client
from tagtrail.service.attribution import AttributionQuery, store_attribution
from tagtrail.service.backends import Target
from tagtrail.service.options import check_range, path_rules


@click.command("attribute")
@click.option(
    "--events",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Events file: CSV (DESIGN §7 header) or Parquet with the same columns. Without it, "
    "the store's collected journeys (--data-dir, --database-url, or --api/--key).",
)
@click.option(
    "--from",
    "start",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Without --events: the first day (UTC) of the conversions attributed.",
)
@click.option(
    "--to",
    "end",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Without --events: the last day (UTC) of the conversions attributed.",
)
@click.option(
    "--goal", help="Without --events: the goal attributed (default: the goal with revenue)."
)
@backend_options
@click.option(
    "--model",
    "model_spec",
    default="all",
    show_default=True,
    help="all, or model names separated by commas.",
)
@click.option(
    "--lookback", default="30d", show_default=True, help="R3 lookback window (30d, 72h…)."
)
@click.option(
    "--by",
    type=click.Choice(duckdb_engine.DIMENSIONS),
    default="channel",
    show_default=True,
    help="Dimension that earns the credit.",
)
@click.option(
    "--touch-types",
    default="touch",
    show_default=True,
    help="Event types that are touches of a path (comma-separated; add exposure to let sends in).",
)
@click.option(
    "--collapse-repeats",
    is_flag=True,
    help="Keep only the last touch of each run of one channel (R7 keeps repeats).",
)
@click.option("--half-life", default="7d", show_default=True, help="time_decay's half-life.")
@click.option(
    "--exposure-window",
    default="24h",
    show_default=True,
    help="billboard: window after a send or impression.",
)
@click.option(
    "--click-window", default="3d", show_default=True, help="billboard: window after a click."
)
@click.option(
    "--ci",
    "ci_level",
    type=click.FloatRange(0.5, 0.999),
    help="Add bootstrap intervals at this level (e.g. 0.95).",
)
@click.option(
    "--ci-samples",
    type=click.IntRange(10, 100_000),
    default=200,
    show_default=True,
    help="Bootstrap draws for --ci.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the bootstrap (same seed, same intervals).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Fail on the first malformed row instead of skipping and counting it.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a model-comparison chart (self-contained HTML) to this file.",
)
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="Engine that reads, checks and sorts the events (spark needs tagtrail[spark], Java 17).",
)
@click.option(
    "--spark-master",
    help="Spark master URL for --engine spark (default local[2]; spark://HOST:7077 for a cluster).",
)
@json_option
def attribute(
    events: Path | None,
    start: datetime | None,
    end: datetime | None,
    goal: str | None,
    target: Target,
    model_spec: str,
    lookback: str,
    by: str,
    touch_types: str,
    collapse_repeats: bool,
    half_life: str,
    exposure_window: str,
    click_window: str,
    ci_level: float | None,
    ci_samples: int,
    seed: int,
    strict: bool,
    html_path: Path | None,
    engine: str,
    spark_master: str | None,
    as_json: bool,
) -> None:
    """Attribute conversions to channels under every model, side by side (DESIGN §7).

    Reads events, builds paths with rules R1–R7 (each a setting below) and prints a channel ×
    model table, or with --json the document {"meta": …, "models": …}. docs/models.md defines
    every model.
    """
    names = parse_models(model_spec)
    if spark_master is not None and engine != "spark":
        raise click.UsageError("--spark-master needs --engine spark")
    rules = path_rules(
        lookback=lookback,
        touch_types=touch_types.split(","),
        collapse_repeats=collapse_repeats,
        half_life=half_life,
        exposure_window=exposure_window,
        click_window=click_window,
    )
    if html_path is not None and not html_path.parent.is_dir():
        raise click.BadParameter(
            f"the folder {str(html_path.parent)!r} does not exist: create it or pick another path",
            param_hint="--html",
        )
    check_range(start, end)
    if events is None:
        document = _from_store(
            target, names, rules, by, start, end, goal, engine, spark_master, ci_level
        )
        _finish(document, html_path)
        if as_json:
            emit_json(document)
        else:
            _render(document, html_path)
        return
    if start is not None or end is not None or goal is not None:
        raise click.UsageError("--from, --to and --goal select the store's data: drop --events")
    started = time.perf_counter()
    if engine == "spark":
        from tagtrail.attribution import spark_engine

        master = spark_master or spark_engine.DEFAULT_MASTER
        collected = spark_engine.load(events, rules=rules, by=by, strict=strict, master=master)
    else:
        collected = duckdb_engine.load(events, rules=rules, by=by, strict=strict)
    credits = run_models(collected, names)
    ci = None
    if ci_level is not None:
        ci = bootstrap(collected, names, level=ci_level, samples=ci_samples, seed=seed)
    meta = run_meta(collected, rules, by=by, engine=engine)
    if ci is not None:
        meta["ci"] = {"level": ci_level, "samples": ci_samples, "seed": seed}
    document = result_document(collected, credits, meta, ci)
    document["meta"]["seconds"] = round(time.perf_counter() - started, 3)
    _finish(document, html_path)
    if as_json:
        emit_json(document)
        return
    _render(document, html_path)


def _from_store(
    target: Target,
    names: tuple[str, ...],
    rules: PathRules,
    by: str,
    start: datetime | None,
    end: datetime | None,
    goal: str | None,
    engine: str,
    spark_master: str | None,
    ci_level: float | None,
) -> dict[str, Any]:
    """The collected journeys of the local store, or of the --api server, attributed."""
    if ci_level is not None:
        raise click.UsageError("--ci works on an --events file")
    if engine != "duckdb" and target.api is not None and target.key is not None:
        raise click.UsageError("--engine spark works on an --events file or the local store")
    first = start.date() if start else None
    last = end.date() if end else None
    if target.api is not None and target.key is not None:
        params = {
            "model": ",".join(names),
            "by": by,
            "lookback_days": str(rules.lookback // 86_400),
        }
        if first:
            params["from"] = first.isoformat()
        if last:
            params["to"] = last.isoformat()
        if goal:
            params["goal"] = goal
        with Client(target.api, target.key) as client:
            return client.attribution(params)
    engine_, workspace_id = open_local_store(target.settings)
    try:
        query = AttributionQuery(names, rules, by, first, last, goal)
        timeout = timedelta(minutes=target.settings.session_timeout_minutes)
        return store_attribution(
            engine_, workspace_id, query, session_timeout=timeout, engine_name=engine,
            spark_master=spark_master,
        )  # fmt: skip
    finally:
        engine_.dispose()


def _finish(document: dict[str, Any], html_path: Path | None) -> None:
    """Write the --html chart, and warn on stderr of duplicated conversion rows."""
    if html_path is not None:
        try:
            html_path.write_text(render_html(document), encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(
                f"cannot write the chart to {html_path}: {exc.strerror or exc}"
            ) from None
    duplicates = document["meta"].get("duplicate_conversions", 0)
    if duplicates:
        stderr_console().print(
            f"Warning: {duplicates:,} conversion row(s) repeat an earlier one (same user, "
            "second and value); each counts as a conversion. Remove the copies if they are "
            "one conversion sent twice.",
            markup=False,
        )


def _render(document: dict[str, Any], html_path: Path | None) -> None:
    meta = document["meta"]
    console = stdout_console()
    for metric in ("conversions", "value"):
        table = Table(title=f"{metric} by {meta['by']} and model", title_justify="left")
        table.add_column(meta["by"])
        for name in document["models"]:
            table.add_column(name, justify="right")
        for channel in meta["channels"]:
            cells = [f"{document['models'][m][metric][channel]:,.2f}" for m in document["models"]]
            table.add_row(channel, *cells)
        console.print(table)
    console.print(
        f"{meta['total_conversions']:,} conversions, value {meta['total_value']:,.2f}; "
        f"{meta['n_paths']:,} paths ({meta['n_converting_paths']:,} converting, "
        f"{meta['conversions_without_touch']:,} without a touch → direct); "
        f"lookback {meta['lookback_days']:g} days; {meta['seconds']:.2f} s"
    )
    for name, check in meta.get("markov_self_check", {}).items():
        console.print(
            f"{name}: P(conversion) {check['p_conversion']:.6f} = observed "
            f"{check['observed_conversion_rate']:.6f}"
        )
    if meta["rows_skipped"]:
        err = stderr_console()
        err.print(f"skipped {meta['rows_skipped']:,} malformed row(s) of {meta['rows_read']:,}:")
        for row in meta["malformed"]:
            err.print(f"  line {row['line']}: {row['reason']}", markup=False)
    if html_path is not None:
        console.print(f"chart written to {html_path}")
