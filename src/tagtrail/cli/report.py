"""`tagtrail report --html FILE`: the dashboard's charts and tables in one self-contained file."""

from __future__ import annotations

from pathlib import Path

import click

from tagtrail.cli.output import stdout_console


@click.command("report")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Write the report (one self-contained HTML file) here.",
)
@click.option("--from", "start", help="First day (YYYY-MM-DD, UTC).")
@click.option("--to", "end", help="Last day, included (YYYY-MM-DD, UTC).")
@click.option("--campaign", help="Only this campaign's clicks and links.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Data folder.")
@click.option("--database-url", help="PostgreSQL URL (instead of the data folder's SQLite).")
def report(
    html_path: Path,
    start: str | None,
    end: str | None,
    campaign: str | None,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Write the overview, campaigns and links, channels and the attribution model comparison
    of the local store as one HTML file (styles inline, charts as SVG, no script)."""
    from tagtrail.cli.targets import open_local_store
    from tagtrail.report import write_report
    from tagtrail.service.reports import parse_window
    from tagtrail.settings import load_settings

    window = parse_window(start, end, campaign)
    settings = load_settings(data_dir=data_dir, database_url=database_url)
    engine, workspace_id = open_local_store(settings)
    try:
        write_report(html_path, engine, workspace_id, settings, window)
    finally:
        engine.dispose()
    stdout_console().print(f"report written to {html_path}")
