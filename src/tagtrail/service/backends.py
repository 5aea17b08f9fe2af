"""Where the data commands act: the local store, or a running server's API. One interface.

`LocalBackend` calls `tagtrail.service` on the store in `--data-dir` (or `--database-url`), also
while a server runs on it: the service bumps the links version, which the server polls.
`RemoteBackend` calls the JSON API of `--api` with `--key` through `tagtrail.client.Client`,
which turns error bodies back into the same `TagtrailError`s. Both answer with the API's JSON
shapes, so the commands print the same thing whichever backend served them. `CollectBackend`
does the same for profiles, goals and journeys. The CLI and the MCP server both use them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine

from tagtrail.client import Client
from tagtrail.errors import InvalidInput, NotFound
from tagtrail.service import campaigns, imports
from tagtrail.service import links as link_service
from tagtrail.service import workspace as workspace_service
from tagtrail.service.collected import user_profile
from tagtrail.service.goals import add_goal, goal_json, list_goals
from tagtrail.service.journeys import journeys_csv
from tagtrail.service.keys import ensure_workspace, first_workspace
from tagtrail.service.recipients import recipient_url
from tagtrail.service.stats import campaign_stats, link_stats
from tagtrail.settings import Settings
from tagtrail.store import identities
from tagtrail.store.database import (
    create_engine_for,
    migrate,
    open_store,
    prepare_store,
    require_migrated,
)

_CHUNK_ROWS = 500

Progress = Callable[[int, int], None]  # (rows done, rows in all)
#: The workspace id a read sees on a store with no workspace yet (none has it: 0 is never issued).
NO_WORKSPACE = 0
Announce = Callable[[str], None]  # told, once, what a person must see (a new admin key)


class Backend(Protocol):
    def create_link(self, spec: link_service.LinkSpec) -> dict[str, Any]: ...
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
    def create_campaign(self, name: str, *, holdout: str | None) -> dict[str, Any]: ...
    def update_campaign(self, name: str, *, holdout: str | None) -> dict[str, Any]: ...
    def workspace(self) -> dict[str, Any]: ...
    def update_workspace(self, *, global_holdout: str | None) -> dict[str, Any]: ...


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class Target:
    """The options that choose a backend, checked."""

    settings: Settings
    api: str | None = None
    key: str | None = None


def open_local_store(
    settings: Settings, announce: Announce | None = None, *, create: bool = False
) -> tuple[Engine, int]:
    """The store's engine and workspace. A command that writes (`create`) makes the store and its
    workspace on first use, the admin key told to `announce`; one that reads refuses a store that
    is not there yet, or not migrated, with what to run."""
    if create:
        engine, workspace_id, _ = init_store(settings, announce)
        return engine, workspace_id
    engine = open_store(settings.store_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        require_migrated(engine, _where(settings))
        found = first_workspace(engine)
    except BaseException:
        engine.dispose()
        raise
    # A migrated store whose workspace is not made yet reads as empty: no row has this id.
    return engine, NO_WORKSPACE if found is None else found


def init_store(
    settings: Settings, announce: Announce | None = None
) -> tuple[Engine, int, str | None]:
    """Migrate the store (made if need be) and make its workspace: the engine, the workspace and
    its new admin key (None when it had one; told to `announce` when new)."""
    engine = prepare_store(settings.store_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        workspace_id, key = ensure_workspace(engine, now=utcnow())
    except BaseException:
        engine.dispose()
        raise
    if key is not None and announce is not None:
        announce(f"Created a workspace in {_where(settings)}. Its admin API key (shown once):")
        announce(f"  {key}")
    return engine, workspace_id, key


def migrate_store(
    settings: Settings, progress: Callable[[int, int], None] | None = None
) -> tuple[list[str], int]:
    """Apply the migrations the store lacks (made if need be), then fold the stored rows the
    identity mapping lacks (resumable: each chunk commits); the migrations' names and how many
    rows were folded. `progress(done, total)` is told after each chunk."""
    engine = create_engine_for(settings.store_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        applied = migrate(engine)
        with engine.connect() as conn:
            total = sum(identities.pending(conn).values())
        done = 0

        def step(rows: int) -> None:
            nonlocal done
            done += rows
            if progress is not None:
                progress(done, total)

        return applied, identities.fold_all(engine, progress=step) if total else 0
    finally:
        engine.dispose()


class LocalBackend:
    def __init__(
        self, settings: Settings, announce: Announce | None = None, *, create: bool = False
    ) -> None:
        self.settings = settings
        self.origin = settings.link_origin
        self.engine, self.workspace_id = open_local_store(settings, announce, create=create)

    def close(self) -> None:
        self.engine.dispose()

    def create_link(self, spec: link_service.LinkSpec) -> dict[str, Any]:
        if spec.url:  # a destination on an excluded domain gets no short link, as in the API
            untracked = workspace_service.untracked_link(
                self.engine, self.workspace_id, spec.url, campaign=spec.campaign, utm=spec.utm
            )
            if untracked is not None:
                return untracked
        link = link_service.create_link(
            self.engine, self.workspace_id, spec, origin=self.origin, now=utcnow()
        )
        return _public(link)

    def list_links(
        self, *, limit: int, offset: int, campaign: str | None, tag: str | None
    ) -> dict[str, Any]:
        page, count = link_service.list_links(
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
            link_service.get_link(
                self.engine, code, origin=self.origin, workspace_id=self.workspace_id
            )
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
        link_service.set_disabled(self.engine, self.workspace_id, code, disabled)
        return self.get_link(code)

    def delete_link(self, code: str) -> None:
        link_service.delete_link(self.engine, self.workspace_id, code)

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

    def create_campaign(self, name: str, *, holdout: str | None) -> dict[str, Any]:
        made = campaigns.create_campaign(
            self.engine, self.workspace_id, name, holdout=holdout, now=utcnow()
        )
        return made.to_json()

    def update_campaign(self, name: str, *, holdout: str | None) -> dict[str, Any]:
        changed = campaigns.update_campaign(
            self.engine, self.workspace_id, name, default_utm=None, holdout=holdout
        )
        return changed.to_json()

    def workspace(self) -> dict[str, Any]:
        if self.workspace_id == NO_WORKSPACE:
            raise NotFound(
                "the store has no workspace yet",
                hint="`tagtrail init` makes it (so does any command that writes)",
            )
        return workspace_service.get_workspace(self.engine, self.workspace_id).to_json()

    def update_workspace(self, *, global_holdout: str | None) -> dict[str, Any]:
        changed = workspace_service.update_workspace(
            self.engine, self.workspace_id, global_holdout=global_holdout
        )
        return changed.to_json()


class RemoteBackend:
    def __init__(self, api: str, key: str) -> None:
        self.client = Client(api, key)

    def close(self) -> None:
        self.client.close()

    def create_link(self, spec: link_service.LinkSpec) -> dict[str, Any]:
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

    def create_campaign(self, name: str, *, holdout: str | None) -> dict[str, Any]:
        return self.client.create_campaign(_given(name=name, holdout=holdout))

    def update_campaign(self, name: str, *, holdout: str | None) -> dict[str, Any]:
        return self.client.update_campaign(name, _given(holdout=holdout))

    def workspace(self) -> dict[str, Any]:
        return self.client.workspace()

    def update_workspace(self, *, global_holdout: str | None) -> dict[str, Any]:
        return self.client.update_workspace(_given(global_holdout=global_holdout))

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


def link_backend(
    target: Target, announce: Announce | None = None, *, create: bool = False
) -> LocalBackend | RemoteBackend:
    """The backend `target` chooses: a server's API, or the local store (see `open_local_store`
    for `create`)."""
    if target.api is not None and target.key is not None:
        return RemoteBackend(target.api, target.key)
    return LocalBackend(target.settings, announce, create=create)


def open_backend(
    target: Target, announce: Announce | None = None, *, create: bool = False
) -> closing[LocalBackend | RemoteBackend]:
    """`link_backend`, closed at the end of the `with` block."""
    return closing(link_backend(target, announce, create=create))


class CollectBackend:
    """The local store (`client` None) or a server's API: the same JSON either way."""

    def __init__(
        self, target: Target, announce: Announce | None = None, *, create: bool = False
    ) -> None:
        self.target = target
        self.client: Client | None = None
        if target.api is not None and target.key is not None:
            self.client = Client(target.api, target.key)
        else:
            self.engine, self.workspace_id = open_local_store(
                target.settings, announce, create=create
            )

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        else:
            self.engine.dispose()

    def profile(self, user_id: str) -> dict[str, Any]:
        if self.client is not None:
            return self.client.profile(user_id)
        settings = self.target.settings
        return user_profile(self.engine, self.workspace_id, user_id, **settings.sessions)

    def goals(self) -> dict[str, Any]:
        if self.client is not None:
            return self.client.goals()
        return {"data": [goal_json(g) for g in list_goals(self.engine, self.workspace_id)]}

    def add_goal(self, event: str, revenue: str | None) -> dict[str, Any]:
        if self.client is not None:
            return self.client.add_goal(event, revenue)
        return goal_json(add_goal(self.engine, self.workspace_id, event, revenue, now=utcnow()))

    def journeys_csv(self) -> str:
        if self.client is not None:
            return self.client.journeys_csv()
        return journeys_csv(self.engine, self.workspace_id, **self.target.settings.sessions)


def open_collect(
    target: Target, announce: Announce | None = None, *, create: bool = False
) -> closing[CollectBackend]:
    """A `CollectBackend`, closed at the end of the `with` block."""
    return closing(CollectBackend(target, announce, create=create))


def _given(**fields: Any) -> dict[str, Any]:
    """A request body of the fields given (None: left out, so the server keeps the value)."""
    return {name: value for name, value in fields.items() if value is not None}


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


def _public(link: link_service.LinkInfo) -> dict[str, Any]:
    """A link as the API shows it (`tracked`: a short link, not an excluded destination)."""
    return {"tracked": True, **link.to_json()}


def _where(settings: Settings) -> str:
    if settings.database_url:
        return "the PostgreSQL store"
    return str(settings.data_dir)
