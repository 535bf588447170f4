"""The service's API key: generated on first use, kept 0600 under the home, compared in constant time.

The key lives in ``<home>/serve/api_key`` (a 0700 folder); only its owner can read it, and
``workbench serve --show-key`` prints it for them. Nothing else prints it: not the startup
lines, not a response, not a log line (the server masks it in every record it logs).

Example:
    >>> key = api_key()                                        # doctest: +SKIP
    >>> key_path().stat().st_mode & 0o777 == 0o600             # doctest: +SKIP
    True
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from workbench.secrets import private_dir, write_private
from workbench.settings import get_settings

PREFIX = "wbs-"


def key_path() -> Path:
    """``<home>/serve/api_key`` (it may not exist yet)."""
    return get_settings().home / "serve" / "api_key"


def api_key(create: bool = True) -> str | None:
    """The service's key; made (0600, never replaced) the first time unless ``create`` is False."""
    path = key_path()
    if not path.is_file():
        if not create:
            return None
        private_dir(path.parent)
        try:
            write_private(path, PREFIX + secrets.token_urlsafe(32) + "\n", exclusive=True)
        except FileExistsError:  # another server made it meanwhile: use theirs
            pass
    return path.read_text(encoding="utf-8").strip()


def matches(header: str | None, key: str) -> bool:
    """Does an ``Authorization`` header carry ``Bearer <key>``? (constant time, so no timing hint)"""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), key.encode())
