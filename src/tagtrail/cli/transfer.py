"""`tagtrail import FILE` and `tagtrail export --journeys FILE` (DESIGN §7 journeys)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tagtrail.cli.output import emit_json, json_option
from tagtrail.cli.targets import backend_options, open_collect
from tagtrail.errors import InvalidInput
from tagtrail.service.backends import Target
from tagtrail.service.transfer import (
    detect_format,
    import_events,
    import_journeys,
    parse_lines,
    write_journeys,
)

_BATCH = 200


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text") from None


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "journeys", "segment"]),
    default="auto",
    show_default=True,
    help="journeys: the DESIGN §7 CSV; segment: JSON lines (auto: by suffix or content).",
)
@backend_options
@json_option
def import_(file: Path, fmt: str, target: Target, as_json: bool) -> None:
    """Store FILE: a journey CSV (user_id,timestamp,type,channel,...) or Segment JSON lines.

    Importing the same file again stores nothing new. With --api, JSON lines are sent to the
    server's /v1/batch; a journey CSV is imported on a local store only."""
    text = _read(file)
    kind = detect_format(file, text) if fmt == "auto" else fmt
    with open_collect(target, create=True) as backend:
        if backend.client is not None:
            if kind == "journeys":
                raise click.UsageError(
                    "a journey CSV is imported on the store itself: use --data-dir or "
                    "--database-url on the server's machine (JSON lines work with --api)"
                )
            lines = [line for line in text.splitlines() if line.strip()]
            parse_lines(text)  # refuse a bad file before sending any of it
            for start in range(0, len(lines), _BATCH):
                block = [json.loads(line) for line in lines[start : start + _BATCH]]
                backend.client.send_events({"batch": block})
            result = {"format": "segment", "events": len(lines)}
        elif kind == "journeys":
            result = import_journeys(backend.engine, backend.workspace_id, text)
        else:
            hosts = tuple(target.settings.site_hosts)
            result = import_events(backend.engine, backend.workspace_id, text, site_hosts=hosts)
    if as_json:
        emit_json(result)
        return
    if result["format"] == "journeys":
        click.echo(f"imported {result['touches']} touches and {result['conversions']} conversions")
    else:
        click.echo(f"imported {result['events']} events")


@click.command()
@click.option(
    "--journeys",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the journeys here: .csv, or .parquet (through DuckDB).",
)
@backend_options
@json_option
def export(out: Path, target: Target, as_json: bool) -> None:
    """Write every identity's arrivals and conversions in the DESIGN §7 format, what
    `tagtrail attribute --events` reads."""
    with open_collect(target) as backend:
        text = backend.journeys_csv()
    written = write_journeys(text, out)
    rows = max(len(text.splitlines()) - 1, 0)
    if as_json:
        emit_json({"path": str(out), "format": written, "rows": rows})
        return
    click.echo(f"wrote {rows} journey rows to {out} ({written})")
