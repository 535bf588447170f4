"""Secrets on disk and in messages: private files and folders, and a scrubber.

Every file under the home that holds a secret (the local Argilla's credentials and database)
is 0600 in a 0700 folder, made so by :func:`private_dir`, :func:`write_private` and
:func:`make_private`. Text that may carry a key (a teacher server's error, a log line, a
worker's output) goes through :func:`scrub` before it is printed or written, so a server that
echoes the key back does not put it on the screen or into a log file.

Example:
    >>> scrub("401: key sk-abc123456 is invalid", ["sk-abc123456"])
    '401: key *** is invalid'
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import BinaryIO, Iterable

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
PRIVATE_UMASK = 0o077  # for processes that create secret-holding files themselves (argilla-server)
MASK = "***"
MIN_SECRET = 6  # shorter "keys" (placeholders, "x") would mask ordinary words


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner can enter (created if missing, tightened if not)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)
    return path


def make_private(*paths: Path) -> None:
    """Tighten existing files to 0600 (files made before this rule, or by another program)."""
    for path in paths:
        try:
            os.chmod(path, PRIVATE_FILE)
        except FileNotFoundError:
            pass


def write_private(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write ``text`` to a file created 0600 from the start: the secret is never readable by others.

    ``exclusive`` refuses to replace an existing file (a key generated once must stay the same).
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)  # an existing file keeps its old mode through os.open
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def known_secrets() -> list[str]:
    """The keys this process holds (the OpenAI-compatible key, the remote Argilla's key)."""
    from workbench.settings import get_settings

    s = get_settings()
    return [k for k in (s.api_key(), s.argilla_key()) if k]


def _usable(secrets: Iterable[str] | None) -> list[str]:
    found = known_secrets() if secrets is None else secrets
    # Longest first, so a key that contains another is masked whole.
    return sorted({s for s in found if s and len(s) >= MIN_SECRET}, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str] | None = None) -> str:
    """``text`` with every secret (default: :func:`known_secrets`) replaced by ``***``."""
    for secret in _usable(secrets):
        text = text.replace(secret, MASK)
    return text


def scrub_record(record: logging.LogRecord, secrets: list[str]) -> None:
    """Mask secrets in ``record``: its message (args merged in) and its formatted traceback."""
    if not secrets:
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: leave the message as logging would show it
        message = str(record.msg)
    record.msg, record.args = scrub(message, secrets), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub(record.exc_text, secrets)
    # Handlers that render exc_info themselves (rich's tracebacks) would show the raw message.
    record.exc_info = None
    if record.stack_info:
        record.stack_info = scrub(record.stack_info, secrets)


def scrub_all_logging(secrets: Iterable[str] | None = None) -> None:
    """Mask secrets in every log record this process (and the processes it forks) creates.

    A record factory rather than a filter on some loggers or handlers: libraries such as
    distilabel set up their own handlers (a rich console, a file under the home) and loggers
    per step, and every record passes through the factory before any of them sees it.
    """
    wanted = _usable(secrets)
    if not wanted:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        scrub_record(record, wanted)
        return record

    logging.setLogRecordFactory(factory)


def relay_scrubbed(source: BinaryIO, fd: int, secrets: Iterable[str] | None = None) -> threading.Thread:
    """Copy a child's output stream to ``fd`` line by line, secrets masked; returns the thread.

    Example:
        >>> proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)             # doctest: +SKIP
        >>> relay_scrubbed(proc.stderr, 2).join()                            # doctest: +SKIP
    """
    wanted = [s.encode() for s in _usable(secrets)]

    def pump() -> None:
        with source:
            for line in iter(source.readline, b""):
                for secret in wanted:
                    line = line.replace(secret, MASK.encode())
                try:
                    while line:
                        line = line[os.write(fd, line):]
                except OSError:
                    pass  # our own stream closed: keep draining so the child never blocks

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread
