"""`tagtrail serve`: run the server under uvicorn (uvloop, httptools)."""

from __future__ import annotations

import contextlib
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import click
import uvicorn

from tagtrail.cli.output import stdout_console
from tagtrail.errors import InvalidInput
from tagtrail.service.keys import ensure_workspace
from tagtrail.settings import Settings, load_settings
from tagtrail.store.database import open_store
from tagtrail.store.journal import journal_process

logger = logging.getLogger(__name__)


@click.command()
@click.option("--host", envvar="TAGTRAIL_HOST", help="Address to listen on [127.0.0.1].")
@click.option("--port", type=int, envvar="TAGTRAIL_PORT", help="Port to listen on [8080].")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TAGTRAIL_DATA_DIR",
    help="Folder of the embedded store [./tagtrail-data].",
)
@click.option(
    "--database-url",
    envvar="TAGTRAIL_DATABASE_URL",
    help="postgresql://… to use PostgreSQL instead of the embedded SQLite store.",
)
@click.option(
    "--base-url",
    envvar="TAGTRAIL_BASE_URL",
    help="Public origin of short links, e.g. https://go.example.com.",
)
@click.option(
    "--workers", type=click.IntRange(1, 64), envvar="TAGTRAIL_WORKERS", help="Server processes [1]."
)
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
    engine = open_store(settings.store_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        _, key = ensure_workspace(engine, now=datetime.now(UTC).replace(tzinfo=None))
    finally:
        engine.dispose()
    settings.secret()  # made now, before workers race to make it
    console = stdout_console()
    if key is not None:
        console.print("[bold]Created a workspace.[/] Its admin API key (shown only this once):")
        console.print(f"  {key}", markup=False)
        console.print("Keep it: `--key` for the CLI, `Authorization: Bearer` for the API.")
    console.print(f"tagtrail serving on {settings.public_origin}  (API docs: /docs)")
    env = {
        "TAGTRAIL_HOST": settings.host,
        "TAGTRAIL_PORT": str(settings.port),
        "TAGTRAIL_DATA_DIR": str(settings.data_dir.resolve()),
        "TAGTRAIL_BASE_URL": settings.public_origin,
    }
    if settings.database_url:
        env["TAGTRAIL_DATABASE_URL"] = settings.database_url
    with contextlib.ExitStack() as stack:
        if settings.writer == "process":
            env["TAGTRAIL_JOURNAL_SOCKET"] = stack.enter_context(
                journal_process(
                    settings.store_url,
                    sqlite_synchronous=settings.sqlite_synchronous,
                    batch=settings.commit_batch,
                    log_level=settings.log_level,
                )
            ).socket
        os.environ.update(env)
        _run(settings)


def _run(settings: Settings) -> None:
    uvicorn.run(
        "tagtrail.server.factory:app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level=settings.log_level,
        server_header=False,
        proxy_headers=False,
    )
