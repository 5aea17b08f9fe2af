"""Recipients and their per-recipient short-link URLs (signed, opaque tokens)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from tagtrail.clicks import TOKEN_PARAMETER, RecipientTokens, email_key, phone_key, phone_number
from tagtrail.errors import InvalidInput, NotFound
from tagtrail.store.schema import links, recipients

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Recipient:
    id: int
    workspace_id: int
    public_id: str
    label: str


def recipient_key(recipient: str, secret: bytes) -> tuple[str, str]:
    """(kind, key): an email or an E.164 phone number (Instasent's recipient id) becomes its
    keyed hash (never stored in clear); a user id stays."""
    value = recipient.strip()
    if not value or len(value) > 320:
        raise InvalidInput(
            "a recipient is an email address, a phone number or a user id (1-320 characters)"
        )
    if "@" in value:
        return "email", email_key(secret, value)
    if phone_number(value) is not None:
        return "phone", phone_key(secret, value)
    return "user", value


def label(kind: str, key: str) -> str:
    """How reports name a recipient: the user id, or `email:` / `phone:` and the start of its
    hash."""
    return key if kind == "user" else f"{kind}:{key[:12]}"


def ensure_recipient(
    conn: Connection, workspace_id: int, recipient: str, *, secret: bytes, now: datetime
) -> Recipient:
    kind, key = recipient_key(recipient, secret)
    row = _find(conn, workspace_id, kind, key)
    if row is None and kind == "phone":  # kept in clear by an older version: hash it now
        row = _find(conn, workspace_id, "user", recipient.strip())
        if row is not None:
            conn.execute(
                update(recipients).where(recipients.c.id == row.id).values(kind=kind, key=key)
            )
    if row is None:
        public_id = secrets.token_urlsafe(12)
        new_id = conn.execute(
            insert(recipients)
            .values(
                workspace_id=workspace_id, public_id=public_id, kind=kind, key=key, created_at=now
            )
            .returning(recipients.c.id)
        ).scalar_one()
        return Recipient(int(new_id), workspace_id, public_id, label(kind, key))
    return Recipient(int(row.id), workspace_id, row.public_id, label(kind, key))


def _find(conn: Connection, workspace_id: int, kind: str, key: str) -> Any:
    return conn.execute(
        select(recipients.c.id, recipients.c.public_id).where(
            recipients.c.workspace_id == workspace_id,
            recipients.c.kind == kind,
            recipients.c.key == key,
        )
    ).first()


def hash_phone_recipients(engine: Engine, secret: bytes) -> int:
    """Replace every phone number an older version stored in clear (as a user id) by its keyed
    hash; how many were. A number whose hash is already a recipient is left (and logged)."""
    changed = 0
    with engine.begin() as conn:
        rows = conn.execute(
            select(recipients.c.id, recipients.c.workspace_id, recipients.c.key).where(
                recipients.c.kind == "user", recipients.c.key.like("+%")
            )
        ).all()
        for row in rows:
            if phone_number(row.key) is None:
                continue
            key = phone_key(secret, row.key)
            if _find(conn, row.workspace_id, "phone", key) is not None:
                logger.warning("recipient %s: its phone number is also a hashed recipient", row.id)
                continue
            conn.execute(
                update(recipients).where(recipients.c.id == row.id).values(kind="phone", key=key)
            )
            changed += 1
    return changed


def find_recipient(engine: Engine, public_id: str) -> Recipient | None:
    with engine.connect() as conn:
        row = conn.execute(select(recipients).where(recipients.c.public_id == public_id)).first()
    if row is None:
        return None
    return Recipient(int(row.id), int(row.workspace_id), row.public_id, label(row.kind, row.key))


def recipient_url(
    engine: Engine,
    workspace_id: int,
    code: str,
    recipient: str,
    *,
    secrets_: Sequence[bytes],
    origin: str,
    now: datetime,
) -> str:
    """`ORIGIN/CODE?r=TOKEN` for one recipient (an email address or a user id)."""
    with engine.begin() as conn:
        found = conn.execute(
            select(links.c.id).where(links.c.code == code, links.c.workspace_id == workspace_id)
        ).first()
        if found is None:
            raise NotFound(f"no link with code {code!r}", hint="see `tagtrail links list`")
        person = ensure_recipient(conn, workspace_id, recipient, secret=secrets_[0], now=now)
    token = RecipientTokens(secrets_).token(person.public_id, code)
    return f"{origin}/{code}?{TOKEN_PARAMETER}={token}"
