"""`tagtrail serve`: run the server under Granian's RSGI interface (default) or uvicorn
(`--server uvicorn`).

Either way the app is `tagtrail.server.factory:app` built in each worker from the settings
`serve` read, the address is bound before `serving on …` is printed, and SIGTERM drains the
requests in flight (their clicks committed) before the writer commits what it was sent and
stops. One worker on the embedded SQLite store commits on its own event loop
(`Settings.commits_in`); otherwise the journal (the writer process) starts first, and is started
again if it dies.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tagtrail.cli.output import stdout_console
from tagtrail.errors import InvalidInput
from tagtrail.server.factory import settings_environment
from tagtrail.service.backends import init_store
from tagtrail.settings import Settings, load_settings
from tagtrail.store.journal import journal_process

logger = logging.getLogger(__name__)
APP = "tagtrail.server.factory:app"  # ASGI, under uvicorn
RSGI_APP = "tagtrail.server.factory:rsgi_app"  # under Granian


@click.command()
@click.option("--host", help="Address to listen on [127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on [8080].")
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
@click.option(
    "--server",
    type=click.Choice(["granian", "uvicorn"]),
    help="HTTP server to run the app under [granian].",
)
@click.option(
    "--forwarded-allow-ips",
    help="Proxies whose X-Forwarded-For/-Proto are believed (IPs, CIDRs, `*`) [none].",
)
def serve(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    database_url: str | None,
    base_url: str | None,
    workers: int | None,
    server: str | None,
    forwarded_allow_ips: str | None,
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
        server=server,
        forwarded_allow_ips=forwarded_allow_ips,
    )
    if (
        settings.workers > 1
        and settings.commits_in != "process"
        and settings.store_url.startswith("sqlite")
    ):
        raise InvalidInput(
            f"several workers cannot share the embedded SQLite store each committing itself "
            f"(TAGTRAIL_WRITER={settings.writer}): SQLite has one writer, and they would queue "
            "on its lock (throughput halves, p99 grows to ~200 ms)",
            hint="set TAGTRAIL_WRITER to `process` or `auto` (one writer for every worker), or "
            "run one worker",
        )
    listener = bind(settings.host, settings.port)  # a busy port stops here, before any output
    engine, _, key = init_store(settings)  # migrated, with a workspace, before any worker
    engine.dispose()
    settings.record_served_origin()  # the origin the CLI on this data dir prints links with
    settings.secret()  # made now, before workers race to make it
    console = stdout_console()
    if key is not None:
        console.print("[bold]Created a workspace.[/] Its admin API key (shown only this once):")
        console.print(f"  {key}", markup=False)
        console.print("Keep it: `--key` for the CLI, `Authorization: Bearer` for the API.")

    def serving() -> None:
        console.print(f"tagtrail serving on {settings.public_origin}  (API docs: /docs)")

    # What every worker must agree on, fixed now: the folder (their working directory may
    # differ) and the origin of short links.
    settings = settings.model_copy(
        update={"data_dir": settings.data_dir.resolve(), "base_url": settings.public_origin}
    )
    with contextlib.ExitStack() as stack:
        stack.callback(listener.close)
        if settings.commits_in == "process":
            journal = stack.enter_context(
                journal_process(
                    settings.store_url,
                    sqlite_synchronous=settings.sqlite_synchronous,
                    batch=settings.commit_batch,
                    log_level=settings.log_level,
                )
            )
            settings = settings.model_copy(update={"journal_socket": journal.socket})
        # Every worker (under either server) builds the app from these settings, handed over
        # whole in the environment it inherits (not on a command line: secrets are in it).
        stack.enter_context(settings_environment(settings))
        if settings.server == "uvicorn":
            _run_uvicorn(settings, listener, serving)
        else:
            listener.close()  # Granian binds the address itself (SO_REUSEADDR, as this did)
            _run_granian(settings, serving)


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` (not yet listening), or InvalidInput saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidInput(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="another program may be using that port: stop it, or choose another with "
            "--port (TAGTRAIL_PORT)"
            if exc.errno == 98
            else "check --host (TAGTRAIL_HOST): it must be an address of this machine",
        ) from None
    sock.set_inheritable(True)
    return sock


def _run_uvicorn(settings: Settings, listener: socket.socket, serving: Callable[[], None]) -> None:
    """uvicorn on the bound socket, as `uvicorn.run` does (one process, or a supervisor that
    starts a dead worker again)."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        APP,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level=settings.log_level,
        server_header=False,
        proxy_headers=False,  # the app wraps itself in the same middleware (server.factory)
    )
    listener.listen(config.backlog)
    serving()
    if settings.workers > 1:
        Multiprocess(config, sockets=[listener]).run()
        return
    server = uvicorn.Server(config)
    server.run(sockets=[listener])
    if not server.started:  # the app did not start (uvicorn said why): exit as uvicorn.run does
        raise click.exceptions.Exit(STARTUP_FAILURE)


def _run_granian(settings: Settings, serving: Callable[[], None]) -> None:
    """Granian's RSGI interface (`server.rsgi`) on uvloop, HTTP/1 only (as uvicorn with
    httptools), failed workers started again; `serving` runs once Granian has bound the
    address."""
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import Server

    fixed = {"interface": Interfaces.RSGI, "loop": Loops.uvloop, "http": HTTPModes.http1}
    server = Server(
        RSGI_APP,
        address=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=LogLevels(settings.log_level),
        log_dictconfig=_granian_logging(),
        factory=True,
        websockets=False,
        log_access=False,
        respawn_failed_workers=True,
        **fixed,  # type: ignore[arg-type]
    )
    # Granian checks the address in this process, then each worker binds it (SO_REUSEPORT):
    # the line is printed once a worker answers.
    server.on_startup(lambda: _when_listening(settings.host, settings.port, serving))
    try:
        server.serve()
    except RuntimeError as exc:  # Granian's bind error, with a Rust backtrace after it
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInput(
            f"cannot listen on {settings.host}:{settings.port}: {first}",
            hint="another program may be using that port: stop it, or choose another with "
            "--port (TAGTRAIL_PORT)",
        ) from None


def _when_listening(host: str, port: int, then: Callable[[], None]) -> None:
    """Call `then` from a thread once `host:port` accepts a connection (for 60 s at most)."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection((target, port), timeout=0.5).close()
            except OSError:
                time.sleep(0.02)
                continue
            then()
            return

    threading.Thread(target=watch, name="tagtrail-serving", daemon=True).start()


def _granian_logging() -> dict[str, Any]:
    """Granian's own log lines go to stderr, as uvicorn's do: stdout keeps only tagtrail's."""
    from granian.log import LOGGING_CONFIG

    handlers = {
        name: {**handler, "stream": "ext://sys.stderr"}
        for name, handler in LOGGING_CONFIG["handlers"].items()  # type: ignore[attr-defined]
    }
    return {"handlers": handlers}
