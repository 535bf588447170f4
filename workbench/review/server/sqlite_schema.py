"""The SQLite index file of the search engine: its tables, the shared connection, transactions.

Layout: ``docs`` (one row per record), ``terms`` (one row per indexed value: metadata and
suggestion values, lists as several rows), ``responses`` and ``response_values`` (one row
per response and per response value, so "value X by user U" is a single-row predicate, as
ES's nested query is), ``vectors`` (float32 blobs) and ``fts`` (FTS5; per record one row
holding all text fields plus one row per field, told apart by rowid: record * 64 + slot,
slot 0 for all fields and 1 + the field's position otherwise).

The index is a separate file from argilla's database (``WORKBENCH_SEARCH_DB``): argilla
calls the engine while its own write transaction may be open, and a second writer on the
same file would wait for it forever.

Runs inside argilla-server's virtualenv as a top-level module beside ``sqlite_engine.py``
(``serve.py`` puts this folder on ``sys.path``); it imports nothing from the workbench.
The environment is read here, not through workbench settings, for that reason.

Example (inside the argilla venv)::

    conn = connect(default_path())
    with Transaction(conn) as c:
        c.execute("INSERT OR IGNORE INTO datasets VALUES (?)", ("some-dataset-id",))
"""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import datetime, timezone
from typing import Any, Optional

# Per record, FTS rowid = doc rowid * FIELD_SLOTS + slot; slot 0 holds all fields.
FIELD_SLOTS = 64

SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS datasets(id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS questions(dataset TEXT, name TEXT, type TEXT, PRIMARY KEY(dataset, name));
CREATE TABLE IF NOT EXISTS docs(
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, dataset TEXT NOT NULL, external_id TEXT,
    status TEXT, inserted_at REAL, updated_at REAL, rnd INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS docs_dataset ON docs(dataset, rowid);
CREATE INDEX IF NOT EXISTS docs_dataset_status ON docs(dataset, status);
CREATE TABLE IF NOT EXISTS terms(doc INTEGER NOT NULL, path TEXT NOT NULL, val);
CREATE INDEX IF NOT EXISTS terms_doc ON terms(doc, path);
CREATE INDEX IF NOT EXISTS terms_path ON terms(path, val, doc);
CREATE TABLE IF NOT EXISTS responses(id TEXT PRIMARY KEY, doc INTEGER NOT NULL, user_id TEXT, status TEXT);
CREATE INDEX IF NOT EXISTS responses_doc ON responses(doc, user_id, status);
CREATE INDEX IF NOT EXISTS responses_user ON responses(user_id, status, doc);
CREATE TABLE IF NOT EXISTS response_values(
    response_id TEXT NOT NULL, doc INTEGER NOT NULL, user_id TEXT, question TEXT, val);
CREATE INDEX IF NOT EXISTS response_values_doc ON response_values(doc, question, user_id);
CREATE INDEX IF NOT EXISTS response_values_response ON response_values(response_id);
CREATE TABLE IF NOT EXISTS vectors(doc INTEGER NOT NULL, settings TEXT NOT NULL, value BLOB,
    PRIMARY KEY(doc, settings));
-- Change counters for per-process caches: record columns (status...) and indexed values.
CREATE TABLE IF NOT EXISTS generation(id INTEGER PRIMARY KEY CHECK (id = 0), docs INTEGER, terms INTEGER);
INSERT OR IGNORE INTO generation VALUES (0, 0, 0);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    body, tokenize='unicode61 remove_diacritics 2');
"""


def plain(x: Any) -> Any:
    """Enums to their plain value (argilla's StrEnums would otherwise bind as objects)."""
    return getattr(x, "value", x)


def epoch_millis(moment: Optional[datetime]) -> Optional[float]:
    # argilla stores naive UTC; ES keeps dates as epoch milliseconds for sort and range.
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp() * 1000.0


def placeholders(values: list) -> str:
    """SQL placeholders for an IN list of ``values``."""
    return "(" + ",".join("?" * len(values)) + ")"


_lock = threading.RLock()
_connections: dict[str, sqlite3.Connection] = {}


def connect(path: str) -> sqlite3.Connection:
    """One shared connection per index file and process (argilla builds an engine per request)."""
    with _lock:
        conn = _connections.get(path)
        if conn is None:
            conn = sqlite3.connect(path, timeout=60, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA busy_timeout=60000")
            conn.executescript(SCHEMA)
            conn.execute("PRAGMA synchronous=NORMAL")
            _connections[path] = conn
        return conn


def default_path() -> str:
    # Argilla-server side (its own venv, no workbench.settings): the environment local.py sets.
    home = os.environ.get("ARGILLA_HOME_PATH") or os.path.join(os.path.expanduser("~"), ".argilla")
    return os.environ.get("WORKBENCH_SEARCH_DB") or os.path.join(home, "search.db")


class Transaction:
    """``with`` block: one IMMEDIATE transaction, serialised within the process."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        _lock.acquire()
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind, exc, tb) -> None:
        try:
            self.conn.execute("COMMIT" if kind is None else "ROLLBACK")
        finally:
            _lock.release()
