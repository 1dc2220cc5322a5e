"""The key that signs tokens for a local run, kept in ``var/secret.key`` between runs."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import structlog

__all__ = ["MIN_KEY_LENGTH", "load_or_create_secret_key"]

log = structlog.get_logger()

MIN_KEY_LENGTH = 32


def load_or_create_secret_key(path: Path) -> str:
    """``JIKIMI_SECRET_KEY`` if set, else the key in ``path`` (made once, readable by its owner only)."""
    from_env = os.environ.get("JIKIMI_SECRET_KEY", "")
    if from_env:
        return from_env
    try:
        # O_EXCL: two runs racing never overwrite each other's key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
            log.warning("secret_key_permissions_tightened", path=str(path))
        key = path.read_text().strip()
        if len(key) < MIN_KEY_LENGTH:
            msg = f"{path} holds a key shorter than {MIN_KEY_LENGTH} characters: delete it to make a new one"
            raise RuntimeError(msg) from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    log.info("secret_key_created", path=str(path))
    return key
