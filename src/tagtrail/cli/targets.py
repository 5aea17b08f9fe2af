"""The options that choose where a data command acts (`--data-dir`, `--database-url`,
`--base-url`, or `--api` with `--key`), checked into a `Target`, and the backends opened on it
with a new workspace's admin key shown on stderr."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from tagtrail.cli.output import emit_json, json_option, stderr_console
from tagtrail.service import backends
from tagtrail.service.backends import Backend, CollectBackend, Target
from tagtrail.settings import Settings, load_settings


def announce(line: str) -> None:
    """Show a line a person must see (a new workspace's admin key) on stderr."""
    stderr_console().print(line, markup=False)


def open_local_store(settings: Settings, *, create: bool = False) -> tuple[Engine, int]:
    """The local store; a command that writes (`create`) makes it on first use."""
    return backends.open_local_store(settings, announce, create=create)


@contextmanager
def open_backend(target: Target, *, create: bool = False) -> Iterator[Backend]:
    with backends.open_backend(target, announce, create=create) as backend:
        yield backend


@contextmanager
def open_collect(target: Target, *, create: bool = False) -> Iterator[CollectBackend]:
    with backends.open_collect(target, announce, create=create) as backend:
        yield backend


def store_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--data-dir and --database-url: the store a local command opens."""
    command = click.option(
        "--database-url",
        help="postgresql://… to use PostgreSQL instead of the embedded SQLite store.",
    )(command)
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder of the embedded store [./tagtrail-data].",
    )(command)


def backend_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The store options, --base-url, --api and --key; the command gets `target: Target`."""

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        data_dir: Path | None,
        database_url: str | None,
        base_url: str | None,
        api: str | None,
        key: str | None,
        **kwargs: Any,
    ) -> Any:
        target = _target(data_dir, database_url, base_url, api, key)
        return command(*args, target=target, **kwargs)

    decorated: Callable[..., Any] = store_options(wrapper)
    decorated = click.option(
        "--base-url",
        help="Public origin of short links made on a local store (as `tagtrail serve`).",
    )(decorated)
    decorated = click.option(
        "--api",
        help="Act on a running server at this URL (e.g. http://127.0.0.1:8080) instead.",
    )(decorated)
    return click.option("--key", help="An admin API key of the --api server.")(decorated)


def answer(
    target: Target,
    as_json: bool,
    read: Callable[[Backend], Any],
    render: Callable[[Any], None],
    *,
    create: bool = False,
) -> None:
    """Read (or, with `create`, write) one document on the backend; print it as JSON, or
    `render` it for people."""
    with open_backend(target, create=create) as backend:
        value = read(backend)
    if as_json:
        emit_json(value)
    else:
        render(value)


def document_command(
    group: click.Group,
    name: str,
    argument: str,
    read: Callable[[Backend, str], Any],
    render: Callable[[Any], None],
    doc: str,
) -> None:
    """Add `group NAME ARGUMENT [backend options] [--json]`: one document read and printed."""

    def command(target: Target, as_json: bool, **given: str) -> None:
        answer(target, as_json, lambda backend: read(backend, given[argument]), render)

    command.__doc__ = doc
    decorated = json_option(backend_options(command))
    group.command(name)(click.argument(argument)(decorated))


def _target(
    data_dir: Path | None,
    database_url: str | None,
    base_url: str | None,
    api: str | None,
    key: str | None,
) -> Target:
    """The flags over the settings (`TAGTRAIL_API`, `TAGTRAIL_KEY`, … are read there), checked."""
    settings = load_settings(
        data_dir=data_dir, database_url=database_url, base_url=base_url, api=api, key=key
    )
    if settings.api:
        if settings.key is None:
            raise click.UsageError("--api needs --key (or TAGTRAIL_KEY): an admin API key")
        given = (("--data-dir", data_dir), ("--database-url", database_url))
        local = [flag for flag, value in (*given, ("--base-url", base_url)) if value is not None]
        if local:
            raise click.UsageError(
                f"{' and '.join(local)} act on a local store; with --api the server at "
                f"{settings.api} answers (give one or the other)"
            )
        return Target(settings, api=settings.api, key=settings.key.get_secret_value())
    if key:
        raise click.UsageError("--key goes with --api (the URL of a running tagtrail server)")
    return Target(settings)
