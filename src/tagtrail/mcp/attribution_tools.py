"""The `attribute` tool and the `tagtrail://models` resource.

`attribute` runs what `tagtrail attribute --json` runs (the DuckDB engine's `load`, then
`run_models` and `result_document`) and answers the same DESIGN §7 document. A date range
(`start`, `end`) first copies the events of those days (and every row whose timestamp cannot
be read, so it is still reported as malformed) to a temporary CSV file; malformed rows' line
numbers then count lines of that range.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from tagtrail.attribution import billboard, duckdb_engine, heuristics, markov, shapley
from tagtrail.attribution.document import result_document, run_meta, run_models
from tagtrail.attribution.path_rules import PathRules
from tagtrail.attribution.registry import MODEL_NAMES, parse_models
from tagtrail.errors import InvalidInput
from tagtrail.mcp.errors import cli_errors, json_tool
from tagtrail.service.options import check_range, path_rules

Dimension = Literal["channel", "source", "medium", "campaign", "content"]
assert set(duckdb_engine.DIMENSIONS) == {"channel", "source", "medium", "campaign", "content"}

Duration = Annotated[str, Field(pattern=r"^\s*\d+\s*[smhdw]\s*$")]


def attribution_document(
    events: Path, names: tuple[str, ...], rules: PathRules, by: str
) -> dict[str, Any]:
    """`tagtrail attribute --json --events EVENTS` with these models, rules and dimension."""
    started = time.perf_counter()
    collected = duckdb_engine.load(events, rules=rules, by=by)
    credits = run_models(collected, names)
    meta = run_meta(collected, rules, by=by, engine="duckdb")
    document = result_document(collected, credits, meta, None)
    document["meta"]["seconds"] = round(time.perf_counter() - started, 3)
    return document


def events_between(events: Path, start: date | None, end: date | None, folder: Path) -> Path:
    """A CSV of the rows of `events` from `start` to `end` (whole UTC days, both included)."""
    if not events.is_file():
        raise InvalidInput(f"{events}: no such file", hint="pass a CSV or Parquet events file")
    quoted = "'" + str(events).replace("'", "''") + "'"
    if events.suffix.lower() in (".parquet", ".pq"):
        source = f"read_parquet({quoted})"
    else:
        source = f"read_csv({quoted}, header = true, all_varchar = true, delim = ',')"
    when = 'TRY_CAST(CAST("timestamp" AS VARCHAR) AS TIMESTAMPTZ)'
    tests = [f"{when} IS NULL"]
    inside = []
    if start is not None:
        inside.append(f"{when} >= TIMESTAMPTZ '{start.isoformat()} 00:00:00+00'")
    if end is not None:
        inside.append(f"{when} < TIMESTAMPTZ '{(end + timedelta(days=1)).isoformat()} 00:00:00+00'")
    tests.append(" AND ".join(inside) or "TRUE")
    out = folder / "events.csv"
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            f"COPY (SELECT * FROM {source} WHERE {' OR '.join(f'({t})' for t in tests)}) "
            f"TO '{out}' (HEADER, DELIMITER ',')"
        )
    except duckdb.Error as exc:
        raise InvalidInput(f"{events}: cannot read events: {exc}") from exc
    finally:
        con.close()
    return out


def model_definitions() -> list[dict[str, str]]:
    """Every model name with the first paragraph of its function's docstring."""
    found = []
    for name in MODEL_NAMES:
        order = name.removeprefix("markov_o")
        if order != name:
            text = f"{markov.markov.__doc__} (order {order})"
        else:
            defined = (getattr(m, name, None) for m in (heuristics, shapley, billboard))
            function = next((f for f in defined if callable(f)), None)
            text = (function.__doc__ if function is not None else None) or ""
        found.append({"name": name, "definition": " ".join(text.split("\n\n")[0].split())})
    return found


def register(server: MCPServer) -> None:
    @server.tool(annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False))
    @json_tool
    def attribute(
        events: Annotated[
            str,
            Field(description="Path of an events file: CSV with the DESIGN §7 header, or Parquet."),
        ],
        models: Annotated[
            list[str] | None,
            Field(description="Model names (see the tagtrail://models resource); all if absent."),
        ] = None,
        by: Annotated[Dimension, Field(description="The dimension that earns the credit.")] = (
            "channel"
        ),
        lookback: Annotated[Duration, Field(description="R3 lookback window: 30d, 72h, …")] = "30d",
        start: Annotated[
            date | None, Field(description="First day of events to read (UTC, included).")
        ] = None,
        end: Annotated[
            date | None, Field(description="Last day of events to read (UTC, included).")
        ] = None,
        touch_types: Annotated[
            list[str] | None,
            Field(description="Event types that are touches (default touch; add exposure)."),
        ] = None,
        collapse_repeats: Annotated[
            bool, Field(description="Keep only the last touch of each run of one channel.")
        ] = False,
        half_life: Annotated[Duration, Field(description="time_decay's half-life.")] = "7d",
        exposure_window: Annotated[Duration, Field(description="billboard's send window.")] = (
            "24h"
        ),
        click_window: Annotated[Duration, Field(description="billboard's click window.")] = "3d",
    ) -> dict[str, Any]:
        """Attribute conversions to channels under several models side by side (DESIGN §7).

        Returns {"meta": {...}, "models": {model: {"conversions": {channel: x}, "value": …}}},
        as `tagtrail attribute --json`. Malformed rows are skipped and listed in meta."""
        with cli_errors():
            names = parse_models(",".join(models) if models else "all")
            check_range(start, end)
            rules = path_rules(
                lookback=lookback,
                touch_types=touch_types or ["touch"],
                collapse_repeats=collapse_repeats,
                half_life=half_life,
                exposure_window=exposure_window,
                click_window=click_window,
            )
            path = Path(events).expanduser()
            if start is None and end is None:
                return attribution_document(path, names, rules, by)
            with tempfile.TemporaryDirectory(prefix="tagtrail-mcp-") as folder:
                ranged = events_between(path, start, end, Path(folder))
                document = attribution_document(ranged, names, rules, by)
            document["meta"]["date_range"] = {
                "start": None if start is None else start.isoformat(),
                "end": None if end is None else end.isoformat(),
            }
            return document

    @server.resource(
        "tagtrail://models",
        name="models",
        description="Every attribution model the attribute tool knows, with its definition.",
        mime_type="application/json",
    )
    def models_resource() -> str:
        return json.dumps({"models": model_definitions()}, ensure_ascii=False, indent=2)
