"""Secrets at rest: AES-GCM under keys from the environment, each ciphertext naming its key.

A sealed value is a small document `{"kid", "nonce", "ct"}`. Rotation needs no downtime, in three
deployments: add the new key *after* the current one (every instance can now open what it will seal);
then move it first (new seals use it; instances re-seal at start-up); run `python -m app
reencrypt-secrets` (re-seals anything left under older keys), and only then remove the old key.
The associated data binds a ciphertext to its document (collection and id), so a ciphertext copied
onto another service's document does not open.

Keyring format (CARECORE_SECRET_KEYS): comma-separated `kid:base64(32 random bytes)`, the current
key first. Development and tests use DEV_KEYRING, whose key is public and protects nothing.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bson.binary import Binary
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's standard nonce; random per seal, far below the 2^32 seals per key it allows
_KID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


class KeyringError(ValueError):
    """A keyring that cannot be used: malformed, or missing the key a ciphertext names."""


@dataclass(frozen=True, slots=True)
class Keyring:
    current: str  # the key id new seals use
    keys: Mapping[str, bytes] = field(repr=False)  # never in a log or a traceback's locals

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise KeyringError(f"the current key {self.current!r} is not in the keyring")
        for kid, key in self.keys.items():
            if not _KID.match(kid):
                raise KeyringError(f"key id {kid!r}: use 1 to 32 letters, digits, '.', '_' or '-'")
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key {kid!r} is {len(key)} bytes; AES-256 wants {KEY_BYTES}")

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        """`kid:base64key,...`, the current key first."""
        keys: dict[str, bytes] = {}
        for part in (p.strip() for p in spec.split(",")):
            kid, sep, encoded = part.partition(":")
            if not sep or not kid:
                raise KeyringError("write each key as kid:base64key, separated by commas, the current one first")
            if kid in keys:
                raise KeyringError(f"key id {kid!r} appears twice")
            try:
                keys[kid] = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise KeyringError(f"key {kid!r} is not valid base64") from None
        return cls(current=next(iter(keys)), keys=keys)

    def seal(self, plaintext: str, *, bound_to: str) -> dict[str, Any]:
        """The stored form of `plaintext`, under the current key, opening only for `bound_to`."""
        nonce = os.urandom(NONCE_BYTES)
        ct = AESGCM(self.keys[self.current]).encrypt(nonce, plaintext.encode(), bound_to.encode())
        return {"kid": self.current, "nonce": Binary(nonce), "ct": Binary(ct)}

    def open(self, sealed: Mapping[str, Any], *, bound_to: str) -> str:
        """The plaintext of a stored value; KeyringError when its key is gone or it was tampered with."""
        kid = sealed["kid"]
        key = self.keys.get(kid)
        if key is None:
            raise KeyringError(f"a secret is sealed under key {kid!r}, which CARECORE_SECRET_KEYS no longer holds")
        try:
            return AESGCM(key).decrypt(bytes(sealed["nonce"]), bytes(sealed["ct"]), bound_to.encode()).decode()
        except InvalidTag:
            raise KeyringError(f"a secret sealed under key {kid!r} does not open: altered or moved") from None

    def is_current(self, sealed: object) -> bool:
        """Whether a stored value is already sealed under the current key (plaintext is not)."""
        return isinstance(sealed, Mapping) and sealed.get("kid") == self.current


def new_key_spec(kid: str) -> str:
    """A fresh `kid:base64key` entry for CARECORE_SECRET_KEYS."""
    Keyring(current=kid, keys={kid: bytes(KEY_BYTES)})  # checks the id
    return f"{kid}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


# Development and tests only: a fixed, public key, so local databases keep opening across restarts.
# Production refuses to start without CARECORE_SECRET_KEYS (app/settings.py).
DEV_KEYRING = Keyring(current="dev", keys={"dev": b"carecore-dev-key-not-a-secret-!!"})
