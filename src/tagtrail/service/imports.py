"""Bulk link creation from a CSV body: every good row becomes a link, every bad row an error.

Columns (header row required, any order, case-insensitive, `utm_` prefix allowed): `url`
(required), `code`, `campaign` (the tagtrail campaign, created on first use), `source`,
`medium`, `content`, `term`, `id`, `source_platform`, `creative_format`, `marketing_tactic`,
and `tags` (separated by `|`). Other columns are ignored and listed in `ignored_columns`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Engine

from tagtrail.errors import InvalidInput, InvalidLink, TagtrailError
from tagtrail.links import FIELDS
from tagtrail.service import links as link_service
from tagtrail.service.workspace import excluded_domain, get_workspace, untracked_link

MAX_ROWS = 10_000
MAX_TAGS = 50
COLUMNS = ("url", "code", "campaign", "tags", *(f for f in FIELDS if f != "campaign"))
# `link_service.create_link` with its engine given: (workspace_id, spec, *, origin, now) -> LinkInfo
CreateLink = Callable[..., link_service.LinkInfo]


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    values: dict[str, str]
    problem: str | None = None


def read_rows(text: str) -> tuple[list[Row], list[str]]:
    """The rows of a links CSV (with their line numbers) and the header columns not read."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("the CSV is empty", hint="start with a header row: url,...") from None
    except csv.Error as exc:
        raise InvalidInput(f"line 1: {exc}") from None
    names = [_column(h) for h in header]
    if "url" not in names:
        raise InvalidInput(
            f"the CSV has no `url` column (found: {', '.join(header)})",
            hint="header: " + ",".join(COLUMNS[:9]),
        )
    ignored = [h for h, n in zip(header, names, strict=True) if n not in COLUMNS]
    return list(_rows(reader, names)), ignored


def import_links(
    engine: Engine,
    workspace_id: int,
    rows: list[Row],
    *,
    origin: str,
    now: datetime,
    create: CreateLink | None = None,
) -> dict[str, Any]:
    """Create a link per row (each in its own transaction, through `create`: the server's
    writer, or `link_service.create_link` on `engine`); a bad row stops only itself."""
    domains = get_workspace(engine, workspace_id).excluded_domains
    made = create or partial(link_service.create_link, engine)
    created: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for row in rows:
        try:
            created.append(_create(engine, workspace_id, row, domains, made, origin, now))
        except TagtrailError as exc:
            issues: list[dict[str, Any]] = []
            if isinstance(exc, InvalidLink) and exc.issues is not None:
                issues = [i.to_json() for i in exc.issues.issues]
            errors.append({"line": row.line, "error": exc.message, "issues": issues})
    return {"created": created, "errors": errors}


def _create(
    engine: Engine,
    workspace_id: int,
    row: Row,
    domains: tuple[str, ...],
    create: CreateLink,
    origin: str,
    now: datetime,
) -> dict[str, Any]:
    values = row.values
    if row.problem is not None:
        raise InvalidInput(row.problem)
    url = values.get("url", "")
    if not url:
        raise InvalidInput("url is empty")
    campaign = values.get("campaign") or None
    utm = {f: values[f] for f in FIELDS if f != "campaign" and values.get(f)}
    if excluded_domain(url, domains) is not None:
        found = untracked_link(engine, workspace_id, url, campaign=campaign, utm=utm)
        if found is not None:
            return found
    tags = [t.strip() for t in values.get("tags", "").split("|") if t.strip()]
    if len(tags) > MAX_TAGS or any(len(t) > 100 for t in tags):
        raise InvalidInput(f"at most {MAX_TAGS} tags of at most 100 characters")
    spec = link_service.LinkSpec(
        url=url, code=values.get("code") or None, campaign=campaign, utm=utm, tags=tags
    )
    link = create(workspace_id, spec, origin=origin, now=now)
    return {"tracked": True, **link.to_json()}


def _rows(reader: Any, names: list[str]) -> Iterator[Row]:
    count = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Row(reader.line_num, {}, f"unreadable CSV: {exc}")
            return
        if not any(c.strip() for c in cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise InvalidInput(
                f"more than {MAX_ROWS:,} rows", hint="split the file and import each part"
            )
        if len(cells) > len(names):
            error = f"{len(cells)} values, but the header has {len(names)} columns"
            yield Row(reader.line_num, {}, error)
            continue
        values = {n: c.strip() for n, c in zip(names, cells, strict=False) if n in COLUMNS}
        yield Row(reader.line_num, values)


def _column(header: str) -> str:
    name = header.strip().lower()
    bare = name.removeprefix("utm_")
    return bare if bare in FIELDS else name
