"""Workspaces and API keys. Keys are shown once and stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Engine, insert, select, update

from tagtrail.errors import AuthError, InvalidInput, NotFound
from tagtrail.store.schema import api_keys, workspaces

KeyKind = Literal["admin", "write"]
KINDS: tuple[KeyKind, ...] = ("admin", "write")


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: int
    workspace_id: int
    kind: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request: a workspace, through one key of one kind."""

    workspace_id: int
    key_id: int
    kind: str


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def first_workspace(engine: Engine) -> int | None:
    """The store's workspace, or None before `ensure_workspace` made one (reads only)."""
    with engine.connect() as conn:
        row = conn.execute(select(workspaces.c.id).order_by(workspaces.c.id).limit(1)).first()
    return None if row is None else int(row.id)


def ensure_workspace(engine: Engine, *, now: datetime) -> tuple[int, str | None]:
    """The workspace (created with an admin key on first use); the new key, or None."""
    with engine.begin() as conn:
        row = conn.execute(select(workspaces.c.id).order_by(workspaces.c.id).limit(1)).first()
        if row is not None:
            return int(row.id), None
        workspace_id = conn.execute(
            insert(workspaces)
            .values(
                name="default",
                default_utm="{}",
                identify=True,
                excluded_domains="[]",
                created_at=now,
            )
            .returning(workspaces.c.id)
        ).scalar_one()
    _, raw = create_key(engine, int(workspace_id), "admin", "first admin key", now=now)
    return int(workspace_id), raw


def create_key(
    engine: Engine, workspace_id: int, kind: str, name: str, *, now: datetime
) -> tuple[KeyInfo, str]:
    """A new key of `kind` ("admin" manages links; "write" only sends events)."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown key kind {kind!r}", hint="use admin or write")
    raw = f"tt_{kind}_{secrets.token_urlsafe(32)}"
    prefix = raw[: len(kind) + 8]
    values: dict[str, object] = {
        "workspace_id": workspace_id,
        "kind": kind,
        "name": name,
        "prefix": prefix,
        "key_hash": hash_key(raw),
        "created_at": now,
    }
    with engine.begin() as conn:
        key_id = conn.execute(insert(api_keys).values(**values).returning(api_keys.c.id))
        info = KeyInfo(int(key_id.scalar_one()), workspace_id, kind, name, prefix, now, None)
    return info, raw


def list_keys(engine: Engine) -> list[KeyInfo]:
    with engine.connect() as conn:
        rows = conn.execute(select(api_keys).order_by(api_keys.c.id)).all()
    return [
        KeyInfo(r.id, r.workspace_id, r.kind, r.name, r.prefix, r.created_at, r.revoked_at)
        for r in rows
    ]


def revoke_key(engine: Engine, key_id: int, *, now: datetime) -> KeyInfo:
    with engine.begin() as conn:
        done = conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    if done.rowcount == 0:
        raise NotFound(f"no active key with id {key_id}", hint="see `tagtrail keys list`")
    return next(k for k in list_keys(engine) if k.id == key_id)


def authenticate(engine: Engine, raw: str | None, *, kinds: tuple[str, ...]) -> Principal:
    """The principal behind `raw`, or AuthError (no key, unknown, revoked or wrong kind)."""
    if not raw:
        raise AuthError("an API key is required", hint="send `Authorization: Bearer KEY`")
    with engine.connect() as conn:
        row = conn.execute(
            select(api_keys.c.id, api_keys.c.workspace_id, api_keys.c.kind).where(
                api_keys.c.key_hash == hash_key(raw), api_keys.c.revoked_at.is_(None)
            )
        ).first()
    if row is None:
        raise AuthError("unknown or revoked API key")
    if row.kind not in kinds:
        raise AuthError(f"a {row.kind} key cannot do this", hint=f"use a {' or '.join(kinds)} key")
    return Principal(int(row.workspace_id), int(row.id), str(row.kind))
