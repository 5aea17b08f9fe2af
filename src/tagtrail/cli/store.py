"""`tagtrail init` and `tagtrail migrate`: the explicit steps that create and update a local store
(the data commands that only read never do)."""

from __future__ import annotations

from pathlib import Path

import click

from tagtrail.cli.output import (
    emit_json,
    json_option,
    progress_bar,
    stderr_console,
    stdout_console,
)
from tagtrail.cli.targets import store_options
from tagtrail.service.backends import init_store, migrate_store
from tagtrail.settings import load_settings


@click.command()
@store_options
@json_option
def init(data_dir: Path | None, database_url: str | None, as_json: bool) -> None:
    """Create the store (migrated to this version) and its workspace; the workspace's admin API
    key is printed once, the first time. Running it again changes nothing."""
    settings = load_settings(data_dir=data_dir, database_url=database_url)
    engine, workspace_id, key = init_store(settings)
    engine.dispose()
    if as_json:
        emit_json({"ok": True, "workspace": workspace_id, "admin_key": key})
        return
    console = stdout_console()
    if key is None:
        console.print("The store is ready; its workspace already exists.")
        return
    console.print("[bold]Created a workspace.[/] Its admin API key (shown only this once):")
    console.print(f"  {key}", markup=False)
    console.print("Keep it: `--key` for the CLI, `Authorization: Bearer` for the API.")


@click.command()
@store_options
@json_option
def migrate(data_dir: Path | None, database_url: str | None, as_json: bool) -> None:
    """Apply the migrations this version of tagtrail adds to an existing store, then bring the
    identity mapping up to date with the stored events (a progress bar on stderr; stopped, it
    resumes where it was the next time)."""
    settings = load_settings(data_dir=data_dir, database_url=database_url)
    bar = progress_bar("folding identity facts", stderr_console(), disable=as_json)
    task = bar.add_task("fold", total=None)

    def advance(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        applied, folded = migrate_store(settings, progress=advance)
    if as_json:
        emit_json({"ok": True, "applied": applied, "folded_rows": folded})
        return
    console = stdout_console()
    if not applied and not folded:
        console.print("The store is up to date.")
    for name in applied:
        console.print(f"applied {name}", markup=False)
    if folded:
        console.print(f"folded the identity facts of {folded:,} stored rows")
