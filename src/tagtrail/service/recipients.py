"""Recipients and their per-recipient short-link URLs (signed, opaque tokens)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select

from tagtrail.clicks import TOKEN_PARAMETER, RecipientTokens, email_key
from tagtrail.errors import InvalidInput, NotFound
from tagtrail.store.schema import links, recipients


@dataclass(frozen=True, slots=True)
class Recipient:
    id: int
    workspace_id: int
    public_id: str
    label: str


def recipient_key(recipient: str, secret: bytes) -> tuple[str, str]:
    """(kind, key): an email becomes its keyed hash (never stored in clear); a user id stays."""
    value = recipient.strip()
    if not value or len(value) > 320:
        raise InvalidInput("a recipient is an email address or a user id (1-320 characters)")
    if "@" in value:
        return "email", email_key(secret, value)
    return "user", value


def label(kind: str, key: str) -> str:
    """How reports name a recipient: the user id, or `email:` and the start of its hash."""
    return key if kind == "user" else f"email:{key[:12]}"


def ensure_recipient(
    conn: Connection, workspace_id: int, recipient: str, *, secret: bytes, now: datetime
) -> Recipient:
    kind, key = recipient_key(recipient, secret)
    row = conn.execute(
        select(recipients.c.id, recipients.c.public_id).where(
            recipients.c.workspace_id == workspace_id,
            recipients.c.kind == kind,
            recipients.c.key == key,
        )
    ).first()
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
