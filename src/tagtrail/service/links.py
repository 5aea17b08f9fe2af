"""Short links: create, read, update, disable, delete, and resolve for the redirect."""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from tagtrail.errors import Conflict, InvalidInput, InvalidLink, NotFound
from tagtrail.links import FIELDS, BuildResult
from tagtrail.links.compose import compose_destination
from tagtrail.messages.codes import split_code
from tagtrail.service.recipients import Recipient, label
from tagtrail.store import rollups
from tagtrail.store.schema import (
    campaigns,
    clicks,
    links,
    message_links,
    message_recipients,
    recipients,
    sends,
    settings_versions,
    workspaces,
)

_ALPHABET = string.ascii_letters + string.digits
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: Paths the server answers itself, so no short link may take them.
RESERVED_CODES = frozenset(
    {
        "api",
        "docs",
        "redoc",
        "openapi.json",
        "health",
        "t.js",
        "t.gif",
        "v1",
        "static",
        "favicon.ico",
        "robots.txt",
        "login",
        "logout",
        "ui",
    }
)


@dataclass(frozen=True, slots=True)
class LinkSpec:
    """What a user gives to create or change a link (None: not given)."""

    url: str | None = None
    code: str | None = None
    campaign: str | None = None
    utm: Mapping[str, str] = field(default_factory=dict)
    tags: Sequence[str] | None = None
    forward_query: bool | None = None
    honeypot: bool | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LinkInfo:
    id: int
    code: str
    short_url: str
    destination: str
    tracked_url: str
    channel: str | None
    campaign: str | None
    utm: Mapping[str, str]
    tags: tuple[str, ...]
    forward_query: bool
    honeypot: bool
    disabled: bool
    expires_at: datetime | None
    created_at: datetime
    issues: tuple[dict[str, Any], ...] = ()
    #: What creating the link found worth saying (`W_EXPIRES_IN_PAST`, `W_DUPLICATE_LINK`): a
    #: create answer carries `warnings` only when there is one.
    warnings: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        answer = {
            "code": self.code,
            "short_url": self.short_url,
            "destination": self.destination,
            "tracked_url": self.tracked_url,
            "channel": self.channel,
            "campaign": self.campaign,
            "utm": dict(self.utm),
            "tags": list(self.tags),
            "forward_query": self.forward_query,
            "honeypot": self.honeypot,
            "disabled": self.disabled,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "created_at": self.created_at.isoformat(),
            "issues": list(self.issues),
        }
        if self.warnings:
            answer["warnings"] = list(self.warnings)
        return answer


@dataclass(frozen=True, slots=True)
class ResolvedLink:
    """What the redirect needs of a link, with its final destination composed once."""

    id: int
    workspace_id: int
    code: str
    target: str
    forward_query: bool
    honeypot: bool
    disabled: bool
    expires_at: datetime | None
    campaign_id: int | None
    identify: bool
    #: For a per-recipient code (DESIGN §9): who it identifies, and the latest send of the
    #: message to them (the bot timing rule's clock, read once with the code, not per click).
    recipient: Recipient | None = None
    sent_at: datetime | None = None


def create_link(
    engine: Engine, workspace_id: int, spec: LinkSpec, *, origin: str, now: datetime
) -> LinkInfo:
    """A new short link; refused with the builder's issues when its destination has errors."""
    if not spec.url:
        raise InvalidInput("a link needs a destination URL", hint='give --url / "url"')
    _check_utm(spec.utm)
    code = spec.code
    if code is not None:
        _check_code(code)
    with engine.begin() as conn:
        campaign_id = campaign_id_for(conn, workspace_id, spec.campaign, now=now)
        built = _built(conn, workspace_id, spec.url, campaign_id, spec.utm)
        warnings = _warnings(conn, workspace_id, spec, built, now=now)
        _, candidate, _ = insert_link(conn, workspace_id, spec, campaign_id, now=now, built=built)
    link = get_link(engine, candidate, origin=origin, issues=built)
    return replace(link, warnings=warnings)


def _warnings(
    conn: Connection, workspace_id: int, spec: LinkSpec, built: BuildResult, *, now: datetime
) -> tuple[dict[str, Any], ...]:
    """What a new link is made with but should be told: an expiry already past (the link is
    made, as Dub makes it, and answers 410 from its first click), and other links of the
    workspace that lead to the same tracked URL (same destination and UTMs)."""
    found: list[dict[str, Any]] = []
    expires = spec.expires_at
    if expires is not None and expires.tzinfo is not None:
        expires = expires.astimezone(UTC).replace(tzinfo=None)
    if expires is not None and expires <= now:
        found.append(
            {
                "code": "W_EXPIRES_IN_PAST",
                "message": f"the link expires at {expires.isoformat()} UTC, which is "
                "already past: it answers 410 Gone from its first click",
                "hint": "give a future --expires / expires_at (UTC), or none",
            }
        )
    same = conn.execute(
        select(links).where(
            links.c.workspace_id == workspace_id, links.c.destination == (spec.url or "").strip()
        )
    ).all()
    twins = [
        row.code
        for row in same
        if _built(
            conn, workspace_id, row.destination, row.campaign_id, json.loads(row.utm)
        ).tracked_url
        == built.tracked_url
    ]
    if twins:
        shown = ", ".join(twins[:5]) + (f" and {len(twins) - 5} more" if len(twins) > 5 else "")
        found.append(
            {
                "code": "W_DUPLICATE_LINK",
                "message": f"link(s) {shown} already lead to {built.tracked_url} (the same "
                "destination and UTMs): their clicks and this one's cannot be told apart",
                "hint": f"reuse {twins[0]} (`tagtrail links show {twins[0]}`), or tell this "
                "link apart with --content",
                "links": twins,
            }
        )
    return tuple(found)


def insert_link(
    conn: Connection,
    workspace_id: int,
    spec: LinkSpec,
    campaign_id: int | None,
    *,
    now: datetime,
    built: BuildResult | None = None,
) -> tuple[int, str, BuildResult]:
    """Insert one link inside the caller's transaction: (id, code, the builder's result, which
    the caller may have built already)."""
    assert spec.url
    code = spec.code
    if built is None:
        built = _built(conn, workspace_id, spec.url, campaign_id, spec.utm)
    for _ in range(8):
        candidate = code or _random_code()
        taken = conn.execute(select(links.c.id).where(links.c.code == candidate)).first()
        if taken is None:
            break
        if code is not None:
            raise Conflict(f"the code {code!r} is taken", hint="choose another --code")
    else:  # pragma: no cover - eight collisions in a 62^7 space
        raise Conflict("could not find a free code", hint="give one with --code")
    new_id = conn.execute(
        insert(links)
        .values(
            workspace_id=workspace_id,
            code=candidate,
            destination=spec.url.strip(),
            campaign_id=campaign_id,
            utm=json.dumps(dict(spec.utm), sort_keys=True),
            tags=json.dumps(list(spec.tags or [])),
            forward_query=bool(spec.forward_query),
            honeypot=bool(spec.honeypot),
            disabled=False,
            expires_at=spec.expires_at,
            created_at=now,
            updated_at=now,
        )
        .returning(links.c.id)
    ).scalar_one()
    _bump(conn)
    return int(new_id), candidate, built


def update_link(
    engine: Engine, workspace_id: int, code: str, spec: LinkSpec, *, origin: str, now: datetime
) -> LinkInfo:
    """Change what `spec` gives; the result is validated like a new link."""
    with engine.begin() as conn:
        row = _row(conn, code, workspace_id)
        values: dict[str, Any] = {"updated_at": now}
        campaign_id = row.campaign_id
        if spec.campaign is not None:
            campaign_id = campaign_id_for(conn, workspace_id, spec.campaign or None, now=now)
            values["campaign_id"] = campaign_id
        utm = json.loads(row.utm)
        if spec.utm:
            _check_utm(spec.utm)
            utm.update(spec.utm)
            utm = {k: v for k, v in utm.items() if v}
            values["utm"] = json.dumps(utm, sort_keys=True)
        destination = spec.url.strip() if spec.url else row.destination
        values["destination"] = destination
        built = _built(conn, workspace_id, destination, campaign_id, utm)
        if spec.tags is not None:
            values["tags"] = json.dumps(list(spec.tags))
        for name in ("forward_query", "honeypot", "expires_at"):
            if getattr(spec, name) is not None:
                values[name] = getattr(spec, name)
        conn.execute(update(links).where(links.c.id == row.id).values(**values))
        if campaign_id != row.campaign_id:  # its clicks now count in another campaign
            rollups.rebuild_campaign(conn, row.campaign_id)
            rollups.rebuild_campaign(conn, campaign_id)
        _bump(conn)
    return get_link(engine, code, origin=origin, issues=built)


def set_disabled(engine: Engine, workspace_id: int, code: str, disabled: bool) -> None:
    with engine.begin() as conn:
        row = _row(conn, code, workspace_id)
        conn.execute(update(links).where(links.c.id == row.id).values(disabled=disabled))
        _bump(conn)


def delete_link(engine: Engine, workspace_id: int, code: str) -> None:
    """Remove a link and its clicks (its code then answers 404), and so their touchpoints: the
    dashboard's journeys reload."""
    with engine.begin() as conn:
        row = _row(conn, code, workspace_id)
        conn.execute(delete(clicks).where(clicks.c.link_id == row.id))
        conn.execute(delete(links).where(links.c.id == row.id))
        rollups.forget_link(conn, row.id, row.campaign_id)
        rollups.bump_journeys(conn)
        _bump(conn)


def get_link(
    engine: Engine,
    code: str,
    *,
    origin: str,
    workspace_id: int | None = None,
    issues: BuildResult | None = None,
) -> LinkInfo:
    with engine.connect() as conn:
        row = _row(conn, code, workspace_id)
        return _info(conn, row, origin, issues)


def list_links(
    engine: Engine,
    workspace_id: int,
    *,
    origin: str,
    limit: int = 100,
    offset: int = 0,
    campaign: str | None = None,
    tag: str | None = None,
) -> tuple[list[LinkInfo], int]:
    """A page of links, newest first, and how many match in all."""
    query = select(links).where(links.c.workspace_id == workspace_id)
    if campaign is not None:
        query = query.join(campaigns, campaigns.c.id == links.c.campaign_id).where(
            campaigns.c.name == campaign
        )
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(links.c.id.desc())).all()
        if tag is not None:
            rows = [r for r in rows if tag in json.loads(r.tags)]
        page = rows[offset : offset + limit]
        return [_info(conn, r, origin, None) for r in page], len(rows)


def resolve(engine: Engine, code: str) -> ResolvedLink | None:
    """The redirect's view of `code`, or None when there is no such link. A code that is no
    link may be a per-recipient code of a message: (recipient part, position)."""
    recipient = sent_at = None
    with engine.connect() as conn:
        row = conn.execute(select(links).where(links.c.code == code)).first()
        if row is None:
            found = _per_recipient(conn, code)
            if found is None:
                return None
            row, recipient, sent_at = found
        built = _built(
            conn, row.workspace_id, row.destination, row.campaign_id, json.loads(row.utm)
        )
        identify = conn.execute(
            select(workspaces.c.identify).where(workspaces.c.id == row.workspace_id)
        ).scalar_one()
    target = built.tracked_url or row.destination
    return ResolvedLink(
        int(row.id),
        int(row.workspace_id),
        row.code,
        target,
        bool(row.forward_query),
        bool(row.honeypot),
        bool(row.disabled),
        row.expires_at,
        row.campaign_id,
        bool(identify),
        recipient,
        sent_at,
    )


def _per_recipient(conn: Connection, code: str) -> tuple[Any, Recipient, datetime | None] | None:
    parts = split_code(code)
    if parts is None:
        return None
    part, position = parts
    owner = conn.execute(
        select(
            message_recipients.c.message_id,
            recipients.c.id,
            recipients.c.workspace_id,
            recipients.c.public_id,
            recipients.c.kind,
            recipients.c.key,
        )
        .join(recipients, recipients.c.id == message_recipients.c.recipient_id)
        .where(message_recipients.c.code == part)
    ).first()
    if owner is None:
        return None
    row = conn.execute(
        select(links)
        .join(message_links, message_links.c.link_id == links.c.id)
        .where(message_links.c.message_id == owner.message_id, message_links.c.position == position)
    ).first()
    if row is None:
        return None
    sent_at = conn.execute(
        select(func.max(sends.c.sent_at)).where(
            sends.c.recipient_id == owner.id,
            sends.c.message == str(owner.message_id),
            sends.c.campaign_id == row.campaign_id,
        )
    ).scalar()
    person = Recipient(
        int(owner.id), int(owner.workspace_id), owner.public_id, label(owner.kind, owner.key)
    )
    return row, person, sent_at if isinstance(sent_at, datetime) else None


def links_version(engine: Engine) -> int:
    """A counter that every change to links, campaigns or the workspace increments."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(settings_versions.c.version).where(settings_versions.c.name == "links")
            ).scalar_one()
        )


def bump_version(conn: Connection) -> None:
    _bump(conn)


def _bump(conn: Connection) -> None:
    conn.execute(
        update(settings_versions)
        .where(settings_versions.c.name == "links")
        .values(version=settings_versions.c.version + 1)
    )


def _built(
    conn: Connection,
    workspace_id: int,
    destination: str,
    campaign_id: int | None,
    utm: Mapping[str, str],
) -> BuildResult:
    layers = [
        _json_map(
            conn.execute(
                select(workspaces.c.default_utm).where(workspaces.c.id == workspace_id)
            ).scalar_one()
        )
    ]
    if campaign_id is not None:
        name, defaults = conn.execute(
            select(campaigns.c.name, campaigns.c.default_utm).where(campaigns.c.id == campaign_id)
        ).one()
        layers.append({"campaign": name, **_json_map(defaults)})
    layers.append(dict(utm))
    built = compose_destination(destination, layers)
    if built.status == "error":
        errors = [i.message for i in built.issues if i.level == "error"]
        raise InvalidLink(
            "the link's destination and UTMs have errors: " + "; ".join(errors),
            hint=next((i.suggestion for i in built.issues if i.suggestion), None),
            issues=built,
        )
    return built


def campaign_id_for(
    conn: Connection, workspace_id: int, name: str | None, *, now: datetime
) -> int | None:
    if not name:
        return None
    found = conn.execute(
        select(campaigns.c.id).where(
            campaigns.c.workspace_id == workspace_id, campaigns.c.name == name
        )
    ).first()
    if found is not None:
        return int(found.id)
    return int(
        conn.execute(
            insert(campaigns)
            .values(workspace_id=workspace_id, name=name, default_utm="{}", created_at=now)
            .returning(campaigns.c.id)
        ).scalar_one()
    )


def _row(conn: Connection, code: str, workspace_id: int | None) -> Any:
    query = select(links).where(links.c.code == code)
    if workspace_id is not None:
        query = query.where(links.c.workspace_id == workspace_id)
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"no link with code {code!r}", hint="see `tagtrail links list`")
    return row


def _info(conn: Connection, row: Any, origin: str, built: BuildResult | None) -> LinkInfo:
    utm = json.loads(row.utm)
    if built is None:
        built = _built(conn, row.workspace_id, row.destination, row.campaign_id, utm)
    campaign = None
    if row.campaign_id is not None:
        campaign = conn.execute(
            select(campaigns.c.name).where(campaigns.c.id == row.campaign_id)
        ).scalar_one()
    return LinkInfo(
        id=int(row.id),
        code=row.code,
        short_url=f"{origin}/{row.code}",
        destination=row.destination,
        tracked_url=built.tracked_url or row.destination,
        channel=built.channel,
        campaign=campaign,
        utm=utm,
        tags=tuple(json.loads(row.tags)),
        forward_query=bool(row.forward_query),
        honeypot=bool(row.honeypot),
        disabled=bool(row.disabled),
        expires_at=row.expires_at,
        created_at=row.created_at,
        issues=tuple(i.to_json() for i in built.issues),
    )


def _check_code(code: str) -> None:
    if not _CODE.fullmatch(code) or code.lower() in RESERVED_CODES:
        raise InvalidInput(
            f"{code!r} cannot be a short-link code",
            hint="use 1-64 of A-Z a-z 0-9 _ - (starting with a letter or digit), not a path "
            "the server uses (" + ", ".join(sorted(RESERVED_CODES)) + ")",
        )


def _check_utm(utm: Mapping[str, str]) -> None:
    unknown = set(utm) - set(FIELDS)
    if unknown:
        raise InvalidInput(
            f"unknown UTM field(s): {', '.join(sorted(unknown))}",
            hint="use: " + ", ".join(FIELDS),
        )


def _json_map(text: str) -> dict[str, str]:
    value = json.loads(text)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _random_code(length: int = 7) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
