"""Recipient addresses: which kind a value is, and how it is kept at rest (DESIGN §6, §9).

An email or an E.164 phone number is never stored in clear. It is found through a keyed
hash (`email_key`, `phone_key` in `privacy`) and, when a message is rendered for it, kept sealed
with AES-GCM (`cryptography`) under a key derived from the workspace secret with HKDF-SHA256,
so an admin's "who clicked" list can show it. The keyed hash is the sealed value's associated
data: a sealed address copied onto another recipient's row does not open.
"""

from __future__ import annotations

import base64
import os
import re
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tagtrail.clicks.privacy import phone_number

Kind = Literal["email", "phone", "user"]
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_NONCE = 12
_VERSION = "a1."


def address_kind(value: str) -> Kind | None:
    """`email` or `phone` (E.164) for an address, `user` for a user id, None when malformed
    (an `@` that is not an email, a `+` that is not an E.164 number)."""
    if "@" in value:
        return "email" if _EMAIL.fullmatch(value) else None
    if value.startswith("+"):
        return "phone" if phone_number(value) is not None else None
    return "user"


class AddressBox:
    """Seals and opens addresses under one workspace secret."""

    def __init__(self, secret: bytes) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"tagtrail address v1"
        ).derive(secret)
        self._aead = AESGCM(key)

    def seal(self, address: str, key: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, address.encode(), key.encode())
        return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str | None, key: str) -> str | None:
        """The address, or None when there is none or it does not open under this secret."""
        if not sealed or not sealed.startswith(_VERSION):
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed[len(_VERSION) :])
            return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], key.encode()).decode()
        except (InvalidTag, ValueError):
            return None
