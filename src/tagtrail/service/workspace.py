"""The workspace's settings: default UTMs, identification, and domains excluded from tracking.

A destination whose host is an excluded domain (or a subdomain of one) gets no short link:
universal links (apps that open `https://app.example.com/...` directly) break behind a
redirect, so tagtrail hands back the tracked destination URL itself instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, select, update

from tagtrail.errors import InvalidInput, InvalidLink, NotFound
from tagtrail.lift.assignment import holdout_share, share_text
from tagtrail.links import FIELDS, BuildResult, build_from
from tagtrail.links.compose import compose_destination
from tagtrail.service.links import bump_version
from tagtrail.store.schema import campaigns, workspaces

MAX_EXCLUDED = 500
_HOST = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9-]{1,63})*")


@dataclass(frozen=True, slots=True)
class Workspace:
    id: int
    name: str
    default_utm: Mapping[str, str]
    identify: bool
    excluded_domains: tuple[str, ...]
    created_at: datetime
    #: the global control group: the share of recipients held out of every campaign
    global_holdout: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "default_utm": dict(self.default_utm),
            "identify": self.identify,
            "excluded_domains": list(self.excluded_domains),
            "global_holdout": share_text(self.global_holdout),
            "created_at": self.created_at.isoformat(),
        }


def get_workspace(engine: Engine, workspace_id: int) -> Workspace:
    with engine.connect() as conn:
        return _read(conn, workspace_id)


def update_workspace(
    engine: Engine,
    workspace_id: int,
    *,
    default_utm: Mapping[str, str] | None = None,
    identify: bool | None = None,
    excluded_domains: Sequence[str] | None = None,
    global_holdout: str | float | None = None,
) -> Workspace:
    """Change what is given (None: keep). `default_utm` replaces the whole mapping. Every
    change bumps the links version: it changes what links redirect to."""
    values: dict[str, Any] = {}
    if default_utm is not None:
        values["default_utm"] = json.dumps(check_default_utm(default_utm), sort_keys=True)
    if identify is not None:
        values["identify"] = identify
    if excluded_domains is not None:
        values["excluded_domains"] = json.dumps(normalize_domains(excluded_domains))
    if global_holdout is not None:
        values["global_holdout"] = holdout_share(global_holdout)
    with engine.begin() as conn:
        _read(conn, workspace_id)
        if values:
            conn.execute(update(workspaces).where(workspaces.c.id == workspace_id).values(**values))
            bump_version(conn)
        return _read(conn, workspace_id)


def check_default_utm(values: Mapping[str, str]) -> dict[str, str]:
    """Default UTM values, refused when a name is unknown or a value has errors of its own."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise InvalidInput(
            f"unknown UTM field(s): {', '.join(sorted(unknown))}", hint="use: " + ", ".join(FIELDS)
        )
    given = {k: v for k, v in values.items() if v}
    probe = build_from("https://example.com/", given)
    bad = [i for i in probe.issues if i.level == "error" and i.field in given]
    if bad:
        raise InvalidLink(
            "default UTM values with errors: " + "; ".join(i.message for i in bad),
            hint=next((i.suggestion for i in bad if i.suggestion), None),
            issues=BuildResult(probe.status, None, None, tuple(bad), {}),
        )
    return given


def normalize_domains(domains: Sequence[str]) -> list[str]:
    """Lower-case host names without `*.`, leading or trailing dots; duplicates dropped."""
    if len(domains) > MAX_EXCLUDED:
        raise InvalidInput(f"at most {MAX_EXCLUDED} excluded domains", hint="list fewer domains")
    found: dict[str, None] = {}
    for raw in domains:
        domain = raw.strip().lower().removeprefix("*.").strip(".")
        if not _HOST.fullmatch(domain):
            raise InvalidInput(
                f"{raw!r} is not a domain name", hint="give host names such as app.example.com"
            )
        found.setdefault(domain, None)
    return list(found)


def excluded_domain(url: str, domains: Sequence[str]) -> str | None:
    """The excluded domain that `url`'s host is (or is under), or None."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    if not host:
        return None
    return next((d for d in domains if host == d or host.endswith("." + d)), None)


def refuse_excluded(engine: Engine, workspace_id: int, url: str) -> None:
    """InvalidInput when `url` is on an excluded domain (a link cannot be moved there)."""
    domain = excluded_domain(url, get_workspace(engine, workspace_id).excluded_domains)
    if domain is not None:
        raise InvalidInput(
            f"{domain} is excluded from click tracking, so no short link can point there",
            hint="use the destination URL itself (POST /api/links answers it as short_url)",
        )


def untracked_link(
    engine: Engine,
    workspace_id: int,
    url: str,
    *,
    campaign: str | None,
    utm: Mapping[str, str],
) -> dict[str, Any] | None:
    """For a destination on an excluded domain: what it would have redirected to, with the
    same UTM precedence (destination > link > campaign > workspace), and no short link.
    None when the destination is tracked as usual. Nothing is stored either way."""
    with engine.connect() as conn:
        space = _read(conn, workspace_id)
        domain = excluded_domain(url, space.excluded_domains)
        if domain is None:
            return None
        layers: list[Mapping[str, str]] = [space.default_utm]
        if campaign:
            defaults = conn.execute(
                select(campaigns.c.default_utm).where(
                    campaigns.c.workspace_id == workspace_id, campaigns.c.name == campaign
                )
            ).scalar()
            layers.append({"campaign": campaign, **_json_map(defaults or "{}")})
    built = compose_destination(url, [*layers, utm])
    if built.status == "error" or built.tracked_url is None:
        errors = [i.message for i in built.issues if i.level == "error"]
        raise InvalidLink(
            "the link's destination and UTMs have errors: " + "; ".join(errors),
            hint=next((i.suggestion for i in built.issues if i.suggestion), None),
            issues=built,
        )
    return {
        "tracked": False,
        "code": None,
        "short_url": built.tracked_url,
        "destination": url.strip(),
        "tracked_url": built.tracked_url,
        "channel": built.channel,
        "campaign": campaign or None,
        "utm": dict(utm),
        "excluded_domain": domain,
        "issues": [i.to_json() for i in built.issues],
    }


def _read(conn: Connection, workspace_id: int) -> Workspace:
    row = conn.execute(select(workspaces).where(workspaces.c.id == workspace_id)).first()
    if row is None:
        raise NotFound(f"no workspace with id {workspace_id}")
    return Workspace(
        id=int(row.id),
        name=row.name,
        default_utm=_json_map(row.default_utm),
        identify=bool(row.identify),
        excluded_domains=tuple(json.loads(row.excluded_domains)),
        created_at=row.created_at,
        global_holdout=float(row.global_holdout),
    )


def _json_map(text: str) -> dict[str, str]:
    value = json.loads(text)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
