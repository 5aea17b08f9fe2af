"""Recipient tokens (I1–I3) and identity hints: round trips, rotation, 1,000 forgeries."""

from __future__ import annotations

import hashlib
import random
import string
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeSerializer

from tagtrail.clicks import HINT_PARAMETER, IdentityHints, RecipientTokens
from tagtrail.clicks.tokens import MAX_TOKEN_LENGTH

KEY = b"k" * 32
OLD_KEY = b"o" * 32
LINK = "spring-sale"
RECIPIENT = "rcp_3kq9XbT2mZ"
T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
ALPHABET = string.ascii_letters + string.digits + "-_."


def test_round_trip_and_link_binding() -> None:
    tokens = RecipientTokens([KEY])
    token = tokens.token(RECIPIENT, LINK)
    assert tokens.recipient(token, LINK) == RECIPIENT
    assert tokens.recipient(token, "other-link") is None
    assert token == tokens.token(RECIPIENT, LINK)  # deterministic
    assert "@" not in token and len(token) < 120
    assert all(c in ALPHABET for c in token)


def test_uses_sha256_and_the_click_salt() -> None:
    token = RecipientTokens([KEY]).token(RECIPIENT, LINK)
    reference = URLSafeSerializer(
        KEY, salt="click-v1", signer_kwargs={"digest_method": hashlib.sha256}
    )
    assert reference.loads(token) == {"r": RECIPIENT, "l": LINK}


def test_key_rotation_first_signs_all_verify() -> None:
    old = RecipientTokens([OLD_KEY])
    rotated = RecipientTokens([KEY, OLD_KEY])
    old_token = old.token(RECIPIENT, LINK)
    new_token = rotated.token(RECIPIENT, LINK)
    assert rotated.recipient(old_token, LINK) == RECIPIENT
    assert rotated.recipient(new_token, LINK) == RECIPIENT
    assert RecipientTokens([KEY]).recipient(new_token, LINK) == RECIPIENT  # signed with the first
    assert old.recipient(new_token, LINK) is None
    assert RecipientTokens([KEY]).recipient(old_token, LINK) is None  # old key retired


@pytest.mark.parametrize("secrets", [[], [b""], b"bytes-not-a-list"])
def test_refuses_missing_secrets(secrets: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        RecipientTokens(secrets)  # type: ignore[arg-type]


def test_refuses_empty_ids_and_overlong_tokens() -> None:
    tokens = RecipientTokens([KEY])
    with pytest.raises(ValueError):
        tokens.token("", LINK)
    rng = random.Random(1)
    with pytest.raises(ValueError):
        tokens.token("".join(rng.choice(ALPHABET) for _ in range(600)), LINK)


def _forgeries(valid: str, rng: random.Random) -> list[object]:
    other_secret = RecipientTokens([b"attacker-secret"])
    sha1 = URLSafeSerializer(KEY, salt="click-v1")
    no_salt = URLSafeSerializer(KEY, signer_kwargs={"digest_method": hashlib.sha256})
    hint_salt = URLSafeSerializer(
        KEY, salt="identity-hint-v1", signer_kwargs={"digest_method": hashlib.sha256}
    )
    genuine = RecipientTokens([KEY])
    forged: list[object] = []
    for _ in range(350):  # random strings, some shaped like tokens
        n = rng.randint(0, 140)
        text = "".join(rng.choice(ALPHABET) for _ in range(n))
        forged.append(text)
    for _ in range(250):  # one character changed (a flipped bit in base64)
        i = rng.randrange(len(valid))
        choices = [c for c in ALPHABET if c != valid[i]]
        forged.append(valid[:i] + rng.choice(choices) + valid[i + 1 :])
    for k in range(1, len(valid)):  # every truncation
        forged.append(valid[:k])
    for i in range(60):
        forged.append(other_secret.token(RECIPIENT if i == 0 else f"r{i}", LINK))
        forged.append(genuine.token(f"r{i}", f"other-link-{i}"))  # valid, but another link
        forged.append(sha1.dumps({"r": f"r{i}", "l": LINK}))
        forged.append(no_salt.dumps({"r": f"r{i}", "l": LINK}))
        forged.append(hint_salt.dumps({"r": f"r{i}", "l": LINK}))
    forged += [None, 42, b"bytes", [valid], {"r": RECIPIENT}, valid + "A" * 600, valid + "."]
    forged += [valid + "\u00e9", " " + valid, valid.replace(".", ".."), "." + valid]
    return forged


def test_one_thousand_forged_tokens_identify_no_one() -> None:
    rng = random.Random(4)
    tokens = RecipientTokens([KEY])
    valid = tokens.token(RECIPIENT, LINK)
    forged = _forgeries(valid, rng)
    assert len(forged) >= 1000
    identified = [f for f in forged if tokens.recipient(f, LINK) is not None]  # type: ignore[arg-type]
    assert identified == []


def test_signed_but_malformed_payloads_are_refused() -> None:
    signer = URLSafeSerializer(
        KEY, salt="click-v1", signer_kwargs={"digest_method": hashlib.sha256}
    )
    tokens = RecipientTokens([KEY])
    for payload in [
        {"r": 5, "l": LINK},
        {"r": "", "l": LINK},
        {"l": LINK},
        [RECIPIENT, LINK],
        None,
    ]:
        assert tokens.recipient(signer.dumps(payload), LINK) is None


def test_hint_parameter_name() -> None:
    assert HINT_PARAMETER == "tt_hint"


def test_hint_valid_until_max_age() -> None:
    hints = IdentityHints([KEY], max_age=600)
    hint = hints.hint(RECIPIENT, "ws1", T0)
    assert hints.verify(hint, "ws1", T0) == RECIPIENT
    assert hints.verify(hint, "ws1", T0 + timedelta(seconds=600)) == RECIPIENT
    assert hints.verify(hint, "ws1", T0 + timedelta(seconds=601)) is None
    assert hints.verify(hint, "ws1", T0 + timedelta(days=3)) is None


def test_hint_from_the_future() -> None:
    hints = IdentityHints([KEY])
    hint = hints.hint(RECIPIENT, "ws1", T0)
    assert hints.verify(hint, "ws1", T0 - timedelta(seconds=60)) == RECIPIENT
    assert hints.verify(hint, "ws1", T0 - timedelta(seconds=61)) is None


def test_hint_other_workspace_forged_and_rotated() -> None:
    hints = IdentityHints([KEY])
    hint = hints.hint(RECIPIENT, "ws1", T0)
    assert hints.verify(hint, "ws2", T0) is None
    assert IdentityHints([b"other"]).verify(hint, "ws1", T0) is None
    assert IdentityHints([b"new", KEY]).verify(hint, "ws1", T0) == RECIPIENT
    token = RecipientTokens([KEY]).token(RECIPIENT, "ws1")  # other purpose, same key
    assert hints.verify(token, "ws1", T0) is None
    rng = random.Random(5)
    for _ in range(200):
        i = rng.randrange(len(hint))
        bad = hint[:i] + rng.choice([c for c in ALPHABET if c != hint[i]]) + hint[i + 1 :]
        assert hints.verify(bad, "ws1", T0) is None
    for bad_value in [None, 7, "", "x" * 513, hint[:-1], hint + "\u00e9"]:
        assert hints.verify(bad_value, "ws1", T0) is None  # type: ignore[arg-type]


def test_hint_uses_the_given_clock_not_the_real_one() -> None:
    hints = IdentityHints([KEY], max_age=600)
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    hint = hints.hint(RECIPIENT, "ws1", long_ago)
    assert hints.verify(hint, "ws1", long_ago + timedelta(seconds=30)) == RECIPIENT
    naive = datetime(2001, 1, 1)  # naive datetimes are UTC
    assert hints.verify(hints.hint(RECIPIENT, "ws1", naive), "ws1", long_ago) == RECIPIENT


def test_max_token_length() -> None:
    assert MAX_TOKEN_LENGTH == 512
