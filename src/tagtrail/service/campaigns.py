"""Campaigns: a name (the default `utm_campaign` of their links) and default UTM values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from tagtrail.errors import Conflict, InvalidInput, NotFound
from tagtrail.lift.assignment import holdout_share, share_text
from tagtrail.links import normalize_value
from tagtrail.service.links import bump_version
from tagtrail.service.workspace import check_default_utm
from tagtrail.store.schema import campaigns, links

MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    name: str
    default_utm: Mapping[str, str]
    links: int
    created_at: datetime
    #: the share of the campaign's recipients held out (DESIGN §10)
    holdout: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "default_utm": dict(self.default_utm),
            "holdout": share_text(self.holdout),
            "links": self.links,
            "created_at": self.created_at.isoformat(),
        }


def create_campaign(
    engine: Engine,
    workspace_id: int,
    name: str,
    *,
    default_utm: Mapping[str, str] | None = None,
    holdout: str | float | None = None,
    now: datetime,
) -> Campaign:
    """A new campaign; Conflict when the workspace has one of that name already."""
    name = check_name(name)
    defaults = check_default_utm(default_utm or {})
    share = holdout_share(holdout)
    with engine.begin() as conn:
        if _find(conn, workspace_id, name) is not None:
            raise Conflict(
                f"a campaign named {name!r} exists", hint="PATCH it to change its defaults"
            )
        conn.execute(
            insert(campaigns).values(
                workspace_id=workspace_id,
                name=name,
                default_utm=json.dumps(defaults, sort_keys=True),
                created_at=now,
                holdout=share,
            )
        )
        return _campaign(conn, workspace_id, name)


def list_campaigns(engine: Engine, workspace_id: int) -> list[Campaign]:
    """Every campaign of the workspace, by name, with how many links each has."""
    with engine.connect() as conn:
        rows = conn.execute(
            _with_counts()
            .where(campaigns.c.workspace_id == workspace_id)
            .order_by(campaigns.c.name)
        ).all()
    return [_from_row(r) for r in rows]


def get_campaign(engine: Engine, workspace_id: int, name: str) -> Campaign:
    with engine.connect() as conn:
        return _campaign(conn, workspace_id, name)


def update_campaign(
    engine: Engine,
    workspace_id: int,
    name: str,
    *,
    default_utm: Mapping[str, str] | None,
    holdout: str | float | None = None,
) -> Campaign:
    """Replace the campaign's default UTMs and its holdout (None: keep). New defaults change
    where every link of the campaign redirects, so the links version is bumped in the same
    transaction. A new holdout applies to the sends made after it."""
    share = None if holdout is None else holdout_share(holdout)
    with engine.begin() as conn:
        found = _find(conn, workspace_id, name)
        if found is None:
            raise _not_found(name)
        if share is not None:
            conn.execute(update(campaigns).where(campaigns.c.id == found).values(holdout=share))
        if default_utm is not None:
            defaults = check_default_utm(default_utm)
            conn.execute(
                update(campaigns)
                .where(campaigns.c.id == found)
                .values(default_utm=json.dumps(defaults, sort_keys=True))
            )
            bump_version(conn)
        return _campaign(conn, workspace_id, name)


def campaign_key(name: str, default_utm: Mapping[str, str] | None = None) -> str:
    """The one key a campaign is joined to touches on: the normalised `utm_campaign` its links
    carry (DESIGN §4), so `Onboarding Email 1` matches the touches of `onboarding-email-1`."""
    return normalize_value((default_utm or {}).get("campaign") or name)


def touch_key(utm_campaign: str) -> str:
    """The same key for a touch's `utm_campaign` (a hand-built link may not be normalised)."""
    return normalize_value(utm_campaign)


def check_name(name: str) -> str:
    value = name.strip()
    if not value or len(value) > MAX_NAME or "/" in value or not value.isprintable():
        raise InvalidInput(
            f"{name!r} cannot be a campaign name",
            hint=f"use 1-{MAX_NAME} printable characters without '/'",
        )
    return value


def _with_counts() -> Any:
    count = (
        select(func.count())
        .select_from(links)
        .where(links.c.campaign_id == campaigns.c.id)
        .scalar_subquery()
    )
    return select(campaigns, count.label("link_count"))


def _find(conn: Connection, workspace_id: int, name: str) -> int | None:
    found = conn.execute(
        select(campaigns.c.id).where(
            campaigns.c.workspace_id == workspace_id, campaigns.c.name == name
        )
    ).scalar()
    return None if found is None else int(found)


def _campaign(conn: Connection, workspace_id: int, name: str) -> Campaign:
    row = conn.execute(
        _with_counts().where(campaigns.c.workspace_id == workspace_id, campaigns.c.name == name)
    ).first()
    if row is None:
        raise _not_found(name)
    return _from_row(row)


def _from_row(row: Any) -> Campaign:
    defaults = json.loads(row.default_utm)
    return Campaign(
        id=int(row.id),
        name=row.name,
        default_utm={str(k): str(v) for k, v in defaults.items()},
        links=int(row.link_count),
        created_at=row.created_at,
        holdout=float(row.holdout),
    )


def _not_found(name: str) -> NotFound:
    return NotFound(f"no campaign named {name!r}", hint="see GET /api/campaigns")
