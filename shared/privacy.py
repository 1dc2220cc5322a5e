"""Keeping citizens' identities out of events and logs.

A sender is known in events only by a pseudonym: an HMAC of the channel and their channel id
under a key derived from ``JIKIMI_SECRET_KEY`` (stable, so one person's messages group
together, but not reversible). Where a service must answer them later (a Telegram chat id, a
phone number), the address is sealed with AES-GCM under another derived key: unreadable in the
log, readable by the services that hold the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["Privacy", "UnsealError"]


class UnsealError(ValueError):
    """Raised when a sealed value was tampered with or sealed under another key."""


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return hmac.new(secret, b"jikimi:" + purpose, hashlib.sha256).digest()


class Privacy:
    """Pseudonyms and sealed addresses under one service secret."""

    def __init__(self, secret: bytes) -> None:
        self._pseudonym_key = _derive(secret, b"pseudonym")
        self._seal = AESGCM(_derive(secret, b"seal"))

    def pseudonym(self, channel: str, channel_id: str) -> str:
        """The same short, irreversible name for the same sender on the same channel."""
        digest = hmac.new(self._pseudonym_key, f"{channel}:{channel_id}".encode(), hashlib.sha256).digest()
        return "p_" + base64.b32encode(digest[:15]).decode().lower()

    def seal(self, plaintext: str) -> str:
        """``plaintext`` encrypted and authenticated; a fresh nonce each time."""
        nonce = os.urandom(12)
        sealed = self._seal.encrypt(nonce, plaintext.encode(), b"jikimi-address")
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def seal_address(self, channel: str, address: str) -> str:
        """Where to reach someone, sealed with the channel it is for (``channel:address``), so an
        address can never be sent on another channel than its own."""
        return self.seal(f"{channel}:{address}")

    def open_address(self, sealed: str) -> tuple[str, str]:
        """(channel, address) of :meth:`seal_address`; raises UnsealError if it was altered."""
        channel, _, address = self.unseal(sealed).partition(":")
        return channel, address

    def unseal(self, sealed: str) -> str:
        """The plaintext of :meth:`seal`; raises UnsealError if it was altered."""
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
            return self._seal.decrypt(raw[:12], raw[12:], b"jikimi-address").decode()
        except (InvalidTag, ValueError) as e:
            raise UnsealError("sealed value is invalid") from e
