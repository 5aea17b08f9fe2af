"""Phone-number recipients kept as keyed hashes (also those an older version kept in clear), and
dashboard sessions that end, on each backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select

from tagtrail.clicks import phone_key
from tagtrail.service.dashboard_sessions import end_session, open_session, session_alive
from tagtrail.service.keys import ensure_workspace
from tagtrail.service.recipients import ensure_recipient, hash_phone_recipients
from tagtrail.store.schema import api_keys, recipients


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _legacy(engine: Engine, public_id: str, key: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(recipients).values(
                workspace_id=1, public_id=public_id, kind="user", key=key, created_at=_now()
            )
        )


def _row(engine: Engine, public_id: str) -> tuple[str, str]:
    with engine.connect() as conn:
        row = conn.execute(
            select(recipients.c.kind, recipients.c.key).where(recipients.c.public_id == public_id)
        ).one()
    return str(row.kind), str(row.key)


def test_phone_numbers_are_hashed_like_emails(engine: Engine, secret: bytes) -> None:
    ensure_workspace(engine, now=_now())
    with engine.begin() as conn:
        one = ensure_recipient(conn, 1, "+34 600 11 22 33", secret=secret, now=_now())
        two = ensure_recipient(conn, 1, "+34600112233", secret=secret, now=_now())
        user = ensure_recipient(conn, 1, "34600112233", secret=secret, now=_now())
    assert one.id == two.id and one.label.startswith("phone:")
    assert _row(engine, one.public_id) == ("phone", phone_key(secret, "+34600112233"))
    assert _row(engine, user.public_id) == ("user", "34600112233")  # no `+`: a user id


def test_phone_numbers_kept_in_clear_are_hashed(engine: Engine, secret: bytes) -> None:
    ensure_workspace(engine, now=_now())
    _legacy(engine, "old-sweep", "+44 7700 900123")
    _legacy(engine, "old-lazy", "+34600999888")
    _legacy(engine, "user-plus", "+vip")
    with engine.begin() as conn:  # used again before the sweep: upgraded in place
        lazy = ensure_recipient(conn, 1, "+34600999888", secret=secret, now=_now())
    assert lazy.public_id == "old-lazy"
    assert _row(engine, "old-lazy") == ("phone", phone_key(secret, "+34600999888"))
    assert hash_phone_recipients(engine, secret) == 1
    assert _row(engine, "old-sweep") == ("phone", phone_key(secret, "+447700900123"))
    assert _row(engine, "user-plus") == ("user", "+vip")
    assert hash_phone_recipients(engine, secret) == 0


def test_a_session_ends_when_signed_out_or_old(engine: Engine) -> None:
    ensure_workspace(engine, now=_now())
    with engine.connect() as conn:
        key_id = int(
            conn.execute(select(api_keys.c.id).where(api_keys.c.kind == "admin")).scalar_one()
        )
    now = _now()
    first = open_session(engine, key_id, now=now, max_age=3600)
    second = open_session(engine, key_id, now=now, max_age=3600)
    assert session_alive(engine, first, key_id, 1, now=now, max_age=3600)
    end_session(engine, first)
    assert not session_alive(engine, first, key_id, 1, now=now, max_age=3600)
    assert session_alive(engine, second, key_id, 1, now=now, max_age=3600)
    later = now + timedelta(seconds=3601)
    assert not session_alive(engine, second, key_id, 1, now=later, max_age=3600)
    assert not session_alive(engine, second, key_id, 2, now=now, max_age=3600)
