"""`tagtrail report --html FILE`: the dashboard's charts and tables in one self-contained file;
`--json`: the same figures as one JSON document."""

from __future__ import annotations

from pathlib import Path

import click

from tagtrail.cli.output import emit_json, json_option, stdout_console
from tagtrail.errors import InvalidInput


@click.command("report")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report (one self-contained HTML file) here.",
)
@click.option("--from", "start", help="First day (YYYY-MM-DD, UTC).")
@click.option("--to", "end", help="Last day, included (YYYY-MM-DD, UTC).")
@click.option("--campaign", help="Only this campaign's clicks and links.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Data folder.")
@click.option("--database-url", help="PostgreSQL URL (instead of the data folder's SQLite).")
@json_option
def report(
    html_path: Path | None,
    start: str | None,
    end: str | None,
    campaign: str | None,
    data_dir: Path | None,
    database_url: str | None,
    as_json: bool,
) -> None:
    """Write the overview, campaigns and links, channels and the attribution model comparison
    of the local store as one HTML file (styles inline, charts as SVG, no script); with --json,
    print the same figures as JSON (and still write --html when given)."""
    from tagtrail.cli.targets import open_local_store
    from tagtrail.service.reports import parse_window
    from tagtrail.service.workspace_report import render_html, report_context, report_document
    from tagtrail.settings import load_settings

    if html_path is None and not as_json:
        raise click.UsageError("give --html FILE for the report (or --json for its figures)")
    try:
        window = parse_window(start, end, campaign)
    except InvalidInput as exc:  # a bad --from/--to is a usage error (exit 2), as documented
        raise click.UsageError(f"{exc.message} ({exc.hint})" if exc.hint else exc.message) from None
    if html_path is not None and not html_path.resolve().parent.is_dir():
        raise InvalidInput(
            f"cannot write {html_path}: the folder {html_path.resolve().parent} does not exist",
            hint="create it first, or choose another --html path",
        )
    settings = load_settings(data_dir=data_dir, database_url=database_url)
    engine, workspace_id = open_local_store(settings)
    try:
        context = report_context(engine, workspace_id, settings, window)
    finally:
        engine.dispose()
    if html_path is not None:
        try:
            html_path.write_text(render_html(context, window), encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot write {html_path}: {exc.strerror}") from None
    if as_json:
        emit_json(
            {**report_document(context, window), "html": str(html_path) if html_path else None}
        )
    else:
        stdout_console().print(f"report written to {html_path}")
