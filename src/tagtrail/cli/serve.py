"""`tagtrail serve`: run the server under uvicorn (uvloop, httptools)."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import click
import uvicorn

from tagtrail.cli.output import stdout_console
from tagtrail.errors import InvalidInput
from tagtrail.server.app import create_app
from tagtrail.server.factory import settings_environment
from tagtrail.service.backends import init_store
from tagtrail.settings import Settings, load_settings
from tagtrail.store.journal import journal_process

logger = logging.getLogger(__name__)


@click.command()
@click.option("--host", help="Address to listen on [127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [8080].")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the embedded store [./tagtrail-data].",
)
@click.option(
    "--database-url",
    help="postgresql://… to use PostgreSQL instead of the embedded SQLite store.",
)
@click.option(
    "--base-url",
    help="Public origin of short links, e.g. https://go.example.com.",
)
@click.option("--workers", type=click.IntRange(1, 64), help="Server processes [1].")
def serve(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    database_url: str | None,
    base_url: str | None,
    workers: int | None,
) -> None:
    """Run the tagtrail server: short links, click tracking and the API (docs at /docs).

    The first start creates a workspace and prints its admin API key once.
    """
    settings = load_settings(
        host=host,
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        base_url=base_url,
        workers=workers,
    )
    if (
        settings.workers > 1
        and settings.writer == "thread"
        and settings.store_url.startswith("sqlite")
    ):
        raise InvalidInput(
            "several workers cannot share the embedded SQLite store with a writer thread each: "
            "SQLite has one writer, and they would queue on its lock (throughput halves, p99 "
            "grows to ~200 ms)",
            hint="leave TAGTRAIL_WRITER at `process` (one writer for every worker), or run one "
            "worker",
        )
    engine, _, key = init_store(settings)  # migrated, with a workspace, before any worker
    engine.dispose()
    settings.secret()  # made now, before workers race to make it
    console = stdout_console()
    if key is not None:
        console.print("[bold]Created a workspace.[/] Its admin API key (shown only this once):")
        console.print(f"  {key}", markup=False)
        console.print("Keep it: `--key` for the CLI, `Authorization: Bearer` for the API.")
    console.print(f"tagtrail serving on {settings.public_origin}  (API docs: /docs)")
    # What every worker must agree on, fixed now: the folder (their working directory may
    # differ) and the origin of short links.
    settings = settings.model_copy(
        update={"data_dir": settings.data_dir.resolve(), "base_url": settings.public_origin}
    )
    with contextlib.ExitStack() as stack:
        if settings.writer == "process":
            journal = stack.enter_context(
                journal_process(
                    settings.store_url,
                    sqlite_synchronous=settings.sqlite_synchronous,
                    batch=settings.commit_batch,
                    log_level=settings.log_level,
                )
            )
            settings = settings.model_copy(update={"journal_socket": journal.socket})
        _run(settings)


def _run(settings: Settings) -> None:
    """One worker runs the app built here from `settings`; several are processes of their own
    that build it from the same settings, handed over by `factory.settings_environment`."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,
        "log_level": settings.log_level,
        "server_header": False,
        "proxy_headers": False,
    }
    if settings.workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    with settings_environment(settings):
        uvicorn.run(
            "tagtrail.server.factory:app", factory=True, workers=settings.workers, **options
        )
