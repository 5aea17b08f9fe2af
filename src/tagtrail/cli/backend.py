"""Where the data commands act: the local store, or a running server's API. One interface.

`LocalBackend` calls `tagtrail.service` on the store in `--data-dir` (or `--database-url`), also
while a server runs on it: the service bumps the links version, which the server polls.
`RemoteBackend` calls the JSON API of `--api` with `--key` through `tagtrail.client.Client`,
which turns error bodies back into the same `TagtrailError`s. Both answer with the API's JSON
shapes, so the commands print the same thing whichever backend served them.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import click
from click.core import ParameterSource
from sqlalchemy import Engine

from tagtrail.cli.output import emit_json, json_option, stderr_console
from tagtrail.client import Client
from tagtrail.errors import InvalidInput
from tagtrail.server.api import imports
from tagtrail.service import campaigns
from tagtrail.service import links as service
from tagtrail.service.keys import ensure_workspace
from tagtrail.service.recipients import recipient_url
from tagtrail.service.stats import campaign_stats, link_stats
from tagtrail.service.workspace import untracked_link
from tagtrail.settings import Settings, load_settings
from tagtrail.store.database import open_store

_CHUNK_ROWS = 500

Progress = Callable[[int, int], None]  # (rows done, rows in all)


class Backend(Protocol):
    def create_link(self, spec: service.LinkSpec) -> dict[str, Any]: ...
    def list_links(
        self, *, limit: int, offset: int, campaign: str | None, tag: str | None
    ) -> dict[str, Any]: ...
    def get_link(self, code: str) -> dict[str, Any]: ...
    def link_stats(self, code: str) -> dict[str, Any]: ...
    def recipient_url(self, code: str, recipient: str) -> str: ...
    def set_disabled(self, code: str, disabled: bool) -> dict[str, Any]: ...
    def delete_link(self, code: str) -> None: ...
    def import_csv(self, text: str, progress: Progress) -> dict[str, Any]: ...
    def list_campaigns(self) -> dict[str, Any]: ...
    def get_campaign(self, name: str) -> dict[str, Any]: ...
    def campaign_stats(self, name: str) -> dict[str, Any]: ...


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Target:
    """The options that choose a backend, checked."""

    settings: Settings
    api: str | None = None
    key: str | None = None


def open_local_store(settings: Settings) -> tuple[Engine, int]:
    """The store's engine and workspace (made on first use; its admin key shown on stderr)."""
    engine = open_store(settings.store_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        workspace_id, key = ensure_workspace(engine, now=utcnow())
    except BaseException:
        engine.dispose()
        raise
    if key is not None:
        console = stderr_console()
        console.print(f"Created a workspace in {_where(settings)}. Its admin API key (shown once):")
        console.print(f"  {key}", markup=False)
    return engine, workspace_id


class LocalBackend:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine, self.workspace_id = open_local_store(settings)
        self.origin = settings.link_origin

    def close(self) -> None:
        self.engine.dispose()

    def create_link(self, spec: service.LinkSpec) -> dict[str, Any]:
        if spec.url:  # a destination on an excluded domain gets no short link, as in the API
            untracked = untracked_link(
                self.engine, self.workspace_id, spec.url, campaign=spec.campaign, utm=spec.utm
            )
            if untracked is not None:
                return untracked
        link = service.create_link(
            self.engine, self.workspace_id, spec, origin=self.origin, now=utcnow()
        )
        return _public(link)

    def list_links(
        self, *, limit: int, offset: int, campaign: str | None, tag: str | None
    ) -> dict[str, Any]:
        page, count = service.list_links(
            self.engine,
            self.workspace_id,
            origin=self.origin,
            limit=limit,
            offset=offset,
            campaign=campaign,
            tag=tag,
        )
        return {"data": [_public(link) for link in page], "count": count}

    def get_link(self, code: str) -> dict[str, Any]:
        return _public(
            service.get_link(self.engine, code, origin=self.origin, workspace_id=self.workspace_id)
        )

    def link_stats(self, code: str) -> dict[str, Any]:
        return link_stats(self.engine, code, workspace_id=self.workspace_id)

    def recipient_url(self, code: str, recipient: str) -> str:
        return recipient_url(
            self.engine,
            self.workspace_id,
            code,
            recipient,
            secrets_=[self.settings.secret()],
            origin=self.origin,
            now=utcnow(),
        )

    def set_disabled(self, code: str, disabled: bool) -> dict[str, Any]:
        service.set_disabled(self.engine, self.workspace_id, code, disabled)
        return self.get_link(code)

    def delete_link(self, code: str) -> None:
        service.delete_link(self.engine, self.workspace_id, code)

    def import_csv(self, text: str, progress: Progress) -> dict[str, Any]:
        """What POST /api/links/import does, through the same code, a row at a time."""
        rows, ignored = imports.read_rows(text)
        created: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for done, row in enumerate(rows, 1):
            answer = imports.import_links(
                self.engine, self.workspace_id, [row], origin=self.origin, now=utcnow()
            )
            created += answer["created"]
            errors += answer["errors"]
            progress(done, len(rows))
        return {"created": created, "errors": errors, "ignored_columns": ignored}

    def list_campaigns(self) -> dict[str, Any]:
        found = campaigns.list_campaigns(self.engine, self.workspace_id)
        return {"data": [c.to_json() for c in found], "count": len(found)}

    def get_campaign(self, name: str) -> dict[str, Any]:
        return campaigns.get_campaign(self.engine, self.workspace_id, name).to_json()

    def campaign_stats(self, name: str) -> dict[str, Any]:
        return campaign_stats(self.engine, self.workspace_id, name)


class RemoteBackend:
    def __init__(self, api: str, key: str) -> None:
        self.client = Client(api, key)

    def close(self) -> None:
        self.client.close()

    def create_link(self, spec: service.LinkSpec) -> dict[str, Any]:
        body: dict[str, Any] = {"url": spec.url, **spec.utm}
        for name in ("code", "campaign", "forward_query", "honeypot"):
            if getattr(spec, name) is not None:
                body[name] = getattr(spec, name)
        if spec.tags:
            body["tags"] = list(spec.tags)
        if spec.expires_at is not None:
            body["expires_at"] = spec.expires_at.isoformat()
        return self.client.create_link(body)

    def list_links(
        self, *, limit: int, offset: int, campaign: str | None, tag: str | None
    ) -> dict[str, Any]:
        return self.client.list_links(limit=limit, offset=offset, campaign=campaign, tag=tag)

    def get_link(self, code: str) -> dict[str, Any]:
        return self.client.get_link(code)

    def link_stats(self, code: str) -> dict[str, Any]:
        return self.client.link_stats(code)

    def recipient_url(self, code: str, recipient: str) -> str:
        return self.client.recipient_url(code, recipient)

    def set_disabled(self, code: str, disabled: bool) -> dict[str, Any]:
        self.client.set_disabled(code, disabled)
        return self.client.get_link(code)

    def delete_link(self, code: str) -> None:
        self.client.delete_link(code)

    def list_campaigns(self) -> dict[str, Any]:
        return self.client.list_campaigns()

    def get_campaign(self, name: str) -> dict[str, Any]:
        return self.client.get_campaign(name)

    def campaign_stats(self, name: str) -> dict[str, Any]:
        return self.client.campaign_stats(name)

    def import_csv(self, text: str, progress: Progress) -> dict[str, Any]:
        """POST the file in blocks of whole rows (for progress), line numbers kept."""
        header, records = _records(text)
        created: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        ignored: list[str] = []
        for start in range(0, max(len(records), 1), _CHUNK_ROWS):
            block = records[start : start + _CHUNK_ROWS]
            chunk, lines = _chunk(header, block)
            answer = self.client.import_csv(chunk)
            for item in answer.get("created") or []:
                created.append(_renumber(item, lines))
            for item in answer.get("errors") or []:
                errors.append(_renumber(item, lines))
            ignored = list(answer.get("ignored_columns") or ignored)
            progress(start + len(block), len(records))
        return {"created": created, "errors": errors, "ignored_columns": ignored}


@contextmanager
def open_backend(target: Target) -> Iterator[Backend]:
    backend: LocalBackend | RemoteBackend
    if target.api is not None and target.key is not None:
        backend = RemoteBackend(target.api, target.key)
    else:
        backend = LocalBackend(target.settings)
    try:
        yield backend
    finally:
        backend.close()


def answer(
    target: Target,
    as_json: bool,
    read: Callable[[Backend], Any],
    render: Callable[[Any], None],
) -> None:
    """Read one document from the backend; print it as JSON, or `render` it for people."""
    with open_backend(target) as backend:
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


def store_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--data-dir and --database-url: the store a local command opens."""
    command = click.option(
        "--database-url",
        envvar="TAGTRAIL_DATABASE_URL",
        help="postgresql://… to use PostgreSQL instead of the embedded SQLite store.",
    )(command)
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="TAGTRAIL_DATA_DIR",
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
        envvar="TAGTRAIL_BASE_URL",
        help="Public origin of short links made on a local store (as `tagtrail serve`).",
    )(decorated)
    decorated = click.option(
        "--api",
        envvar="TAGTRAIL_API",
        help="Act on a running server at this URL (e.g. http://127.0.0.1:8080) instead.",
    )(decorated)
    return click.option(
        "--key", envvar="TAGTRAIL_KEY", help="An admin API key of the --api server."
    )(decorated)


def _target(
    data_dir: Path | None,
    database_url: str | None,
    base_url: str | None,
    api: str | None,
    key: str | None,
) -> Target:
    ctx = click.get_current_context()

    def typed(name: str) -> bool:
        return ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE

    if api:
        if not key:
            raise click.UsageError("--api needs --key (or TAGTRAIL_KEY): an admin API key")
        local = [f"--{n.replace('_', '-')}" for n in ("data_dir", "database_url") if typed(n)]
        if typed("base_url"):
            local.append("--base-url")
        if local:
            raise click.UsageError(
                f"{' and '.join(local)} act on a local store; with --api the server at {api} "
                "answers (give one or the other)"
            )
        return Target(load_settings(), api=api, key=key)
    if key and typed("key"):
        raise click.UsageError("--key goes with --api (the URL of a running tagtrail server)")
    settings = load_settings(data_dir=data_dir, database_url=database_url, base_url=base_url)
    return Target(settings)


def _records(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and each non-blank record with the line number it starts on."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = next(reader, [])
        records: list[tuple[int, list[str]]] = []
        last = reader.line_num
        for values in reader:
            if any(v.strip() for v in values):
                records.append((last + 1, values))
            last = reader.line_num
    except csv.Error as exc:
        raise InvalidInput(
            f"line {reader.line_num} of the CSV file cannot be read: {exc}"
        ) from None
    if not header:
        raise InvalidInput("the CSV is empty", hint="start with a header row: url,...")
    return header, records


def _chunk(header: list[str], block: list[tuple[int, list[str]]]) -> tuple[str, dict[int, int]]:
    """A CSV of `header` and `block`, and its line numbers mapped to the original file's."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(values for _, values in block)
    lines: dict[int, int] = {}
    reader = csv.reader(io.StringIO(out.getvalue()))
    next(reader)
    last = reader.line_num
    for (line, _), _values in zip(block, reader, strict=True):
        lines[last + 1] = line  # where the record starts
        lines.setdefault(reader.line_num, line)  # and where it ends
        last = reader.line_num
    return out.getvalue(), lines


def _renumber(item: Any, lines: dict[int, int]) -> Any:
    if isinstance(item, dict) and isinstance(item.get("line"), int):
        return {**item, "line": lines.get(item["line"], item["line"])}
    return item


def _public(link: service.LinkInfo) -> dict[str, Any]:
    """A link as the API shows it (`tracked`: a short link, not an excluded destination)."""
    return {"tracked": True, **link.to_json()}


def _where(settings: Settings) -> str:
    if settings.database_url:
        return "the PostgreSQL store"
    return str(settings.data_dir)
