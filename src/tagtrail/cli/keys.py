"""`tagtrail keys …`: API keys, managed on the store itself (never through `--api`).

A raw key is shown once, when it is made; the store keeps only its SHA-256 hash and a prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from tagtrail.cli.output import emit_json, json_option, stderr_console, stdout_console
from tagtrail.cli.targets import open_local_store, store_options
from tagtrail.service.backends import utcnow
from tagtrail.service.keys import KINDS, create_key, list_keys, revoke_key
from tagtrail.settings import load_settings


@click.group()
def keys() -> None:
    """API keys: create, list, revoke (on the store in --data-dir or --database-url).

    admin keys manage links through the API (`--key`); write keys only send events.
    """


def _local_only(command: Callable[..., Any]) -> Callable[..., Any]:
    """Store options, and --api/--key refused with a usage error that says where keys live."""
    command = click.option("--key", help="Refused, as --api is.")(command)
    command = click.option(
        "--api", help="Refused: keys are managed where the store is, not through a server's API."
    )(command)
    return store_options(command)


def _open(
    api: str | None,
    key: str | None,
    data_dir: Path | None,
    database_url: str | None,
    *,
    create: bool = False,
) -> Any:
    settings = load_settings(data_dir=data_dir, database_url=database_url, api=api)
    if settings.api or key:
        raise click.UsageError(
            "keys are managed where the store is, not through --api: run `tagtrail keys …` on "
            "the server's machine with --data-dir or --database-url (and TAGTRAIL_API unset)"
        )
    return open_local_store(settings, create=create)


@keys.command()
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default="admin",
    show_default=True,
    help="admin: manage links (--key, the API); write: only send events.",
)
@click.option("--name", default="", help="What the key is for, e.g. `website`.")
@_local_only
@json_option
def create(
    kind: str,
    name: str,
    data_dir: Path | None,
    database_url: str | None,
    api: str | None,
    key: str | None,
    as_json: bool,
) -> None:
    """Create a key. Prints the raw key once (`--json`: `{"key", "id", "kind", "prefix", …}`)."""
    engine, workspace_id = _open(api, key, data_dir, database_url, create=True)
    try:
        info, raw = create_key(engine, workspace_id, kind, name, now=utcnow())
    finally:
        engine.dispose()
    if as_json:
        emit_json({"key": raw, **info.to_json()})
        return
    click.echo(raw)
    stderr_console().print(
        f"Created {kind} key #{info.id} ({escape(info.prefix)}…). It is shown only this once."
    )


@keys.command("list")
@_local_only
@json_option
def list_(
    data_dir: Path | None,
    database_url: str | None,
    api: str | None,
    key: str | None,
    as_json: bool,
) -> None:
    """List keys: id, kind, name, prefix, created, revoked (never the key or its hash)."""
    engine, _ = _open(api, key, data_dir, database_url)
    try:
        found = list_keys(engine)
    finally:
        engine.dispose()
    if as_json:
        emit_json({"data": [k.to_json() for k in found], "count": len(found)})
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("id", "kind", "name", "prefix", "created", "revoked"):
        table.add_column(column, justify="right" if column == "id" else "left")
    for item in found:
        table.add_row(
            str(item.id),
            item.kind,
            escape(item.name) or "-",
            escape(item.prefix) + "…",
            item.created_at.isoformat(timespec="seconds"),
            item.revoked_at.isoformat(timespec="seconds") if item.revoked_at else "-",
        )
    stdout_console().print(table)


@keys.command()
@click.argument("key_id", metavar="ID", type=int)
@_local_only
@json_option
def revoke(
    key_id: int,
    data_dir: Path | None,
    database_url: str | None,
    api: str | None,
    key: str | None,
    as_json: bool,
) -> None:
    """Revoke a key by its id (see `tagtrail keys list`): it stops working at once."""
    engine, _ = _open(api, key, data_dir, database_url)
    try:
        info = revoke_key(engine, key_id, now=utcnow())
    finally:
        engine.dispose()
    if as_json:
        emit_json(info.to_json())
    else:
        click.echo(f"Revoked key #{info.id} ({info.prefix}…).")
