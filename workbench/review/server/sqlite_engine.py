"""A search engine for argilla-server that lives in one SQLite file: no Elasticsearch.

It implements every method of ``argilla_server.search_engine.base.SearchEngine`` with the
semantics of argilla-server's Elasticsearch/OpenSearch engines (``search_engine/commons.py``):
text queries in the spirit of ``simple_query_string`` (AND by default) over SQLite FTS5,
terms and range filters on record, metadata, suggestion and response values, per-user
response status (``pending`` = no response by that user), sorts with missing values last,
exact totals, terms/min-max metrics, progress, and exact cosine similarity search.

This module runs inside argilla-server's own virtual environment (see ``serve.py``), so it
imports nothing from the workbench. The index is a separate file from argilla's database
(``WORKBENCH_SEARCH_DB``): argilla calls the engine while its own write transaction may be
open, and a second writer on the same file would wait for it forever.

Layout: ``docs`` (one row per record), ``terms`` (one row per indexed value: metadata and
suggestion values, lists as several rows), ``responses`` and ``response_values`` (one row
per response and per response value, so "value X by user U" is a single-row predicate, as
ES's nested query is), ``vectors`` (float32 blobs) and ``fts`` (FTS5; per record one row
holding all text fields plus one row per field, told apart by rowid: record * 64 + slot,
slot 0 for all fields and 1 + the field's position otherwise).

Example (inside the argilla venv)::

    ARGILLA_SEARCH_ENGINE=workbench-sqlite python serve.py server
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import sqlite3
import threading
from datetime import datetime, timezone
from typing import Any, Iterable, List, Optional, Union
from uuid import UUID

import numpy as np
from argilla_server.enums import (
    MetadataPropertyType,
    QuestionType,
    RecordSortField,
    ResponseStatusFilter,
    SimilarityOrder,
    SortOrder,
)
from argilla_server.models import Dataset, MetadataProperty, Record, Response, Suggestion, User, VectorSettings
from argilla_server.search_engine.base import (
    AndFilter,
    Filter,
    FloatMetadataMetrics,
    IntegerMetadataMetrics,
    MetadataFilterScope,
    MetadataMetrics,
    Order,
    RangeFilter,
    RecordFilterScope,
    ResponseFilterScope,
    SearchEngine,
    SearchResponseItem,
    SearchResponses,
    SuggestionFilterScope,
    TermsFilter,
    TermsMetrics,
    TextQuery,
)
from columns import Columns, Values, columns_for

ENGINE_NAME = "workbench-sqlite"
# ES sizes the terms aggregation with this cap (commons.max_terms_size).
MAX_TERMS = 2**14
# Per record, FTS rowid = doc rowid * FIELD_SLOTS + slot; slot 0 holds all fields.
FIELD_SLOTS = 64
# Question types whose values ES maps as keyword/integer; the rest are not searchable.
SEARCHABLE_QUESTIONS = {QuestionType.rating, QuestionType.label_selection, QuestionType.multi_label_selection}
RECORD_COLUMNS = {"id", "external_id", "status", "inserted_at", "updated_at"}

SCHEMA = f"""
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


def _value(x: Any) -> Any:
    """Enums to their plain value (argilla's StrEnums would otherwise bind as objects)."""
    return getattr(x, "value", x)


def _millis(moment: Optional[datetime]) -> Optional[float]:
    # argilla stores naive UTC; ES keeps dates as epoch milliseconds for sort and range.
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp() * 1000.0


def _scalars(value: Any) -> list:
    """A keyword/number value, or each item of a list of them; dicts are not searchable."""
    items = value if isinstance(value, list) else [value]
    return [_value(v) for v in items if v is not None and not isinstance(v, (dict, list))]


def _field_text(field, value: Any) -> Optional[str]:
    if value is None or field.is_image:
        return None
    if field.is_chat and isinstance(value, list):
        return "\n".join(str(m.get("content", "")) for m in value if isinstance(m, dict))
    return str(value)


# ---------------------------------------------------------------- text queries
_TOKEN = re.compile(r'"([^"]*)"?|(\|)|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(q: str) -> tuple[Optional[str], list[str]]:
    """Translate a ``simple_query_string`` into an FTS5 expression plus negated expressions.

    AND is the default operator; ``|`` is OR, ``-term`` excludes, ``"a phrase"`` and ``pre*``
    work as in ES. A term the analyzer splits (``e-mail``) becomes a phrase. Returns
    ``(positive, negatives)``; positive is None when nothing but exclusions was given.
    """
    groups: list[list[str]] = [[]]
    negatives: list[str] = []
    for phrase, bar, word in _TOKEN.findall(q):
        if bar:
            groups.append([])
            continue
        negate = False
        if word:
            word = word.strip("()+")
            negate = word.startswith("-")
            word = word.lstrip("-")
        prefix = bool(word) and word.endswith("*")
        tokens = _WORD.findall((phrase or word).lower())
        if not tokens:
            continue
        expr = '"' + " ".join(tokens) + '"' + (" *" if prefix else "")
        (negatives if negate else groups[-1]).append(expr)
    ored = [" AND ".join(g) for g in groups if g]
    positive = " OR ".join(f"({g})" for g in ored) if ored else None
    return positive, negatives


# ---------------------------------------------------------------- the engine
_lock = threading.RLock()
_connections: dict[str, sqlite3.Connection] = {}
# (index file, vector settings) -> (generation, doc rowids, unit vectors), per process.
_vector_cache: dict[tuple[str, str], tuple[int, np.ndarray, np.ndarray]] = {}


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


def _in(values: list) -> str:
    return "(" + ",".join("?" * len(values)) + ")"


def _term_values(values: Iterable[Any]) -> list:
    """ES coerces '3' to 3 on integer fields: match both spellings of numbers."""
    out: list = []
    for v in values:
        v = _value(v)
        out.append(v)
        if isinstance(v, str):
            try:
                number = float(v)
                out.append(int(number) if number.is_integer() else number)
            except ValueError:
                pass
    return out or [None]


@SearchEngine.register(engine_name=ENGINE_NAME)
@dataclasses.dataclass
class SQLiteSearchEngine(SearchEngine):
    """argilla-server's search engine interface over a local SQLite index file."""

    path: str = dataclasses.field(default_factory=default_path)

    def __post_init__(self) -> None:
        self.conn = connect(self.path)

    @classmethod
    async def new_instance(cls) -> "SQLiteSearchEngine":
        return cls()

    async def close(self):
        # The connection is shared by every request of this process; it closes at exit.
        pass

    async def ping(self) -> bool:
        return self.conn.execute("SELECT 1").fetchone() == (1,)

    async def info(self) -> dict:
        docs = self.conn.execute("SELECT count(*) FROM docs").fetchone()[0]
        return {"engine": ENGINE_NAME, "path": self.path, "sqlite": sqlite3.sqlite_version, "documents": docs}

    # ------------------------------------------------------------ writes
    def _write(self):
        return _Transaction(self.conn)

    async def create_index(self, dataset: Dataset):
        with self._write() as c:
            c.execute("INSERT OR IGNORE INTO datasets VALUES (?)", (str(dataset.id),))
            c.executemany("INSERT OR REPLACE INTO questions VALUES (?,?,?)",
                          [(str(dataset.id), q.name, _value(q.type)) for q in dataset.questions])

    async def delete_index(self, dataset: Dataset):
        ds = str(dataset.id)
        with self._write() as c:
            rows = [r[0] for r in c.execute("SELECT rowid FROM docs WHERE dataset=?", (ds,))]
            self._delete_docs(c, rows)
            c.execute("DELETE FROM questions WHERE dataset=?", (ds,))
            c.execute("DELETE FROM datasets WHERE id=?", (ds,))

    async def configure_metadata_property(self, dataset: Dataset, metadata_property: MetadataProperty):
        # Values are typed as they come; nothing to declare ahead.
        pass

    async def configure_index_vectors(self, vector_settings: VectorSettings):
        pass

    async def index_records(self, dataset: Dataset, records: Iterable[Record]):
        ds = str(dataset.id)
        slots = {f.name: i + 1 for i, f in enumerate(dataset.fields[: FIELD_SLOTS - 1])}
        properties = {p.name for p in dataset.metadata_properties}
        with self._write() as c:
            types = dict(c.execute("SELECT name, type FROM questions WHERE dataset=?", (ds,)).fetchall())
            types.update({q.name: _value(q.type) for q in dataset.questions})
            fts_rows: list[tuple] = []
            term_rows: list[tuple] = []
            vector_rows: list[tuple] = []
            for record in records:
                doc = self._upsert_doc(c, ds, record)
                texts = []
                for field in dataset.fields:
                    text = _field_text(field, (record.fields or {}).get(field.name))
                    if text is None:
                        continue
                    texts.append(text)
                    if field.name in slots:
                        fts_rows.append((doc * FIELD_SLOTS + slots[field.name], text))
                fts_rows.append((doc * FIELD_SLOTS, "\n\n".join(texts)))
                term_rows += [(doc, f"metadata.{k}", v) for k, value in (record.metadata_ or {}).items()
                              if k in properties for v in _scalars(value)]
                for suggestion in record.suggestions or []:
                    term_rows += self._suggestion_rows(doc, suggestion)
                for response in record.responses or []:
                    self._insert_response(c, doc, response, types)
                vector_rows += [(doc, str(v.vector_settings_id), np.asarray(v.value, np.float32).tobytes())
                                for v in record.vectors or []]
            # One statement per table for the whole batch: argilla logs in batches of hundreds.
            c.executemany("INSERT INTO fts(rowid, body) VALUES (?,?)", fts_rows)
            c.executemany("INSERT INTO terms VALUES (?,?,?)", term_rows)
            c.executemany("INSERT OR REPLACE INTO vectors VALUES (?,?,?)", vector_rows)
            c.execute("UPDATE generation SET docs = docs + 1, terms = terms + 1")

    def _upsert_doc(self, c: sqlite3.Connection, ds: str, record: Record) -> int:
        row = c.execute("SELECT rowid FROM docs WHERE id=?", (str(record.id),)).fetchone()
        values = (record.external_id, _value(record.status), _millis(record.inserted_at), _millis(record.updated_at))
        if row is None:
            cur = c.execute(
                "INSERT INTO docs(id, dataset, external_id, status, inserted_at, updated_at, rnd) VALUES (?,?,?,?,?,?,?)",
                (str(record.id), ds, *values, random.getrandbits(62)))
            return cur.lastrowid
        doc = row[0]
        # A re-index replaces the whole document, as ES's "index" op does.
        self._delete_dependents(c, [doc])
        c.execute("UPDATE docs SET external_id=?, status=?, inserted_at=?, updated_at=? WHERE rowid=?", (*values, doc))
        return doc

    @staticmethod
    def _suggestion_rows(doc: int, suggestion: Suggestion) -> list[tuple]:
        question = suggestion.question
        base = f"suggestions.{question.name}."
        rows = [(doc, base + "agent", suggestion.agent), (doc, base + "type", _value(suggestion.type))]
        rows += [(doc, base + "score", s) for s in _scalars(suggestion.score)]
        if question.type in SEARCHABLE_QUESTIONS:
            rows += [(doc, base + "value", v) for v in _scalars(suggestion.value)]
        return [r for r in rows if r[2] is not None]

    @staticmethod
    def _insert_response(c: sqlite3.Connection, doc: int, response: Response, types: dict) -> None:
        rid, user = str(response.id), str(response.user_id)
        c.execute("INSERT OR REPLACE INTO responses VALUES (?,?,?,?)", (rid, doc, user, _value(response.status)))
        c.execute("DELETE FROM response_values WHERE response_id=?", (rid,))
        rows = [(rid, doc, user, question, v) for question, item in (response.values or {}).items()
                if types.get(question) in SEARCHABLE_QUESTIONS
                for v in _scalars((item or {}).get("value"))]
        c.executemany("INSERT INTO response_values VALUES (?,?,?,?,?)", rows)

    @staticmethod
    def _delete_dependents(c: sqlite3.Connection, docs: list[int]) -> None:
        for doc in docs:
            c.execute("DELETE FROM terms WHERE doc=?", (doc,))
            c.execute("DELETE FROM responses WHERE doc=?", (doc,))
            c.execute("DELETE FROM response_values WHERE doc=?", (doc,))
            c.execute("DELETE FROM vectors WHERE doc=?", (doc,))
            c.execute("DELETE FROM fts WHERE rowid BETWEEN ? AND ?", (doc * FIELD_SLOTS, doc * FIELD_SLOTS + FIELD_SLOTS - 1))

    def _delete_docs(self, c: sqlite3.Connection, docs: list[int]) -> None:
        self._delete_dependents(c, docs)
        c.executemany("DELETE FROM docs WHERE rowid=?", [(d,) for d in docs])
        c.execute("UPDATE generation SET docs = docs + 1, terms = terms + 1")

    def _doc(self, record_id: Any) -> Optional[int]:
        row = self.conn.execute("SELECT rowid FROM docs WHERE id=?", (str(record_id),)).fetchone()
        return row[0] if row else None

    async def partial_record_update(self, record: Record, **update):
        columns = {k: v for k, v in update.items() if k in RECORD_COLUMNS - {"id"}}
        if not columns:
            return
        values = [_millis(v) if isinstance(v, datetime) else _value(v) for v in columns.values()]
        with self._write() as c:
            c.execute(f"UPDATE docs SET {', '.join(f'{k}=?' for k in columns)} WHERE id=?",
                      (*values, str(record.id)))
            c.execute("UPDATE generation SET docs = docs + 1")

    async def delete_records(self, dataset: Dataset, records: Iterable[Record]):
        with self._write() as c:
            docs = [d for d in (self._doc(r.id) for r in records) if d is not None]
            self._delete_docs(c, docs)

    async def update_record_response(self, response: Response):
        doc = self._doc(response.record_id)
        if doc is None:
            return
        with self._write() as c:
            ds = c.execute("SELECT dataset FROM docs WHERE rowid=?", (doc,)).fetchone()[0]
            types = dict(c.execute("SELECT name, type FROM questions WHERE dataset=?", (ds,)).fetchall())
            self._insert_response(c, doc, response, types)

    async def delete_record_response(self, response: Response):
        with self._write() as c:
            c.execute("DELETE FROM responses WHERE id=?", (str(response.id),))
            c.execute("DELETE FROM response_values WHERE response_id=?", (str(response.id),))

    async def update_record_suggestion(self, suggestion: Suggestion):
        doc = self._doc(suggestion.record_id)
        if doc is None:
            return
        with self._write() as c:
            self._clear_suggestion(c, doc, suggestion.question.name)
            c.executemany("INSERT INTO terms VALUES (?,?,?)", self._suggestion_rows(doc, suggestion))
            c.execute("UPDATE generation SET terms = terms + 1")

    async def delete_record_suggestion(self, suggestion: Suggestion):
        doc = self._doc(suggestion.record_id)
        if doc is not None:
            with self._write() as c:
                self._clear_suggestion(c, doc, suggestion.question.name)
                c.execute("UPDATE generation SET terms = terms + 1")

    @staticmethod
    def _clear_suggestion(c: sqlite3.Connection, doc: int, question: str) -> None:
        paths = [f"suggestions.{question}.{p}" for p in ("value", "score", "agent", "type")]
        c.execute(f"DELETE FROM terms WHERE doc=? AND path IN {_in(paths)}", (doc, *paths))

    # ------------------------------------------------------------ reads
    async def get_dataset_progress(self, dataset: Dataset) -> dict:
        if dataset.is_draft:
            return {}
        rows = self.conn.execute("SELECT status, count(*) FROM docs WHERE dataset=? GROUP BY status",
                                 (str(dataset.id),)).fetchall()
        return {"total": sum(n for _, n in rows), **{s: n for s, n in rows if s is not None}}

    async def get_dataset_user_progress(self, dataset: Dataset, user: User) -> dict:
        # Counts this user's responses only; ES's aggregation over the root document can
        # also count other users' responses on the same records.
        if dataset.is_draft:
            return {}
        rows = self.conn.execute(
            "SELECT r.status, count(*) FROM responses r JOIN docs d ON d.rowid = r.doc "
            "WHERE d.dataset=? AND r.user_id=? GROUP BY r.status", (str(dataset.id), str(user.id))).fetchall()
        return {"total": sum(n for _, n in rows), **{s: n for s, n in rows}}

    async def compute_metrics_for(self, metadata_property: MetadataProperty) -> MetadataMetrics:
        ds, path = str(metadata_property.dataset.id), f"metadata.{metadata_property.name}"
        join = "FROM terms t JOIN docs d ON d.rowid = t.doc WHERE t.path=? AND d.dataset=?"
        if metadata_property.type == MetadataPropertyType.terms:
            rows = self.conn.execute(f"SELECT t.val, count(DISTINCT t.doc) n {join} GROUP BY t.val "
                                     f"ORDER BY n DESC, CAST(t.val AS TEXT) ASC LIMIT {MAX_TERMS}", (path, ds)).fetchall()
            total = self.conn.execute(f"SELECT count(*) {join}", (path, ds)).fetchone()[0]
            return TermsMetrics(total=total, values=[TermsMetrics.TermCount(term=str(v), count=n) for v, n in rows])
        low, high = self.conn.execute(f"SELECT min(t.val), max(t.val) {join}", (path, ds)).fetchone()
        if metadata_property.type == MetadataPropertyType.integer:
            return IntegerMetadataMetrics(min=low, max=high)
        return FloatMetadataMetrics(min=low, max=high)

    def _columns(self, dataset: Dataset) -> Columns:
        return columns_for(self.conn, self.path, str(dataset.id))

    def _mask(self, f: Filter, cols: Columns) -> np.ndarray:
        """The records (as a boolean mask over ``cols``) that pass a filter."""
        if isinstance(f, AndFilter):
            mask = np.ones(len(cols), bool)
            for inner in f.filters:
                mask &= self._mask(inner, cols)
            return mask
        scope = f.scope
        if isinstance(scope, ResponseFilterScope):
            return self._response_mask(f, cols)
        if isinstance(scope, RecordFilterScope):
            if scope.property in cols.text:
                if not isinstance(f, TermsFilter):
                    raise ValueError(f"Cannot process filter {f}")
                return np.isin(cols.text[scope.property], [_value(v) for v in f.values])
            if scope.property in cols.number:
                values = Values(np.arange(len(cols)), cols.number[scope.property], np.full(len(cols), None))
                return cols.mask(values.in_range(f.ge, f.le) if isinstance(f, RangeFilter)
                                 else values.matching(_term_values(f.values)))
            raise ValueError(f"Cannot process request for search scope {scope}")
        if isinstance(scope, MetadataFilterScope):
            values = cols.path(f"metadata.{scope.metadata_property}")
        elif isinstance(scope, SuggestionFilterScope):
            values = cols.path(f"suggestions.{scope.question}.{scope.property}")
        else:
            raise ValueError(f"Cannot process request for search scope {scope}")
        if isinstance(f, TermsFilter):
            return cols.mask(values.matching(_term_values(f.values)))
        return cols.mask(values.in_range(f.ge, f.le))

    def _docs(self, sql: str, params: list) -> list[int]:
        return [r[0] for r in self.conn.execute(sql, params)]

    def _response_mask(self, f: Filter, cols: Columns) -> np.ndarray:
        # Responses stay in SQL: per user they are few, and they change on every click.
        scope: ResponseFilterScope = f.scope
        user = [str(scope.user.id)] if scope.user else []
        by_user = " AND user_id = ?" if user else ""
        if scope.question:
            if isinstance(f, TermsFilter):
                values = _term_values(f.values)
                cond, params = f"val IN {_in(values)}", values
            else:
                cond, params = "val IS NOT NULL", []
                if f.ge is not None:
                    cond, params = cond + " AND val >= ?", params + [f.ge]
                if f.le is not None:
                    cond, params = cond + " AND val <= ?", params + [f.le]
            docs = self._docs(f"SELECT doc FROM response_values WHERE question = ? AND {cond}{by_user}",
                              [scope.question, *params, *user])
            return cols.mask(cols.positions(docs))
        if scope.property != "status" or not isinstance(f, TermsFilter):
            raise ValueError(f"Cannot process filter scope {scope}")
        statuses = [_value(v) for v in f.values]
        mask = np.zeros(len(cols), bool)
        if ResponseStatusFilter.pending.value in statuses:
            answered = self._docs(f"SELECT doc FROM responses WHERE 1{by_user}", user)
            mask |= ~cols.mask(cols.positions(answered))
        others = [s for s in statuses if s != ResponseStatusFilter.pending.value]
        if others:
            docs = self._docs(f"SELECT doc FROM responses WHERE status IN {_in(others)}{by_user}", [*others, *user])
            mask |= cols.mask(cols.positions(docs))
        return mask

    def _sort_keys(self, order: Order, cols: Columns) -> np.ndarray:
        """One float key per record for an order (NaN when missing), smaller first."""
        scope, desc = order.scope, _value(order.order) == SortOrder.desc.value
        # ES sorts multi-valued fields by their min ascending and their max descending.
        pick = "max" if desc else "min"
        if isinstance(scope, RecordFilterScope):
            if scope.property in cols.number:
                keys = cols.number[scope.property].copy()
            elif scope.property in cols.text:
                keys = Values(np.arange(len(cols)), np.full(len(cols), np.nan),
                              cols.text[scope.property]).per_record(len(cols), pick)
            else:
                raise ValueError(f"Cannot process request for search scope {scope}")
        elif isinstance(scope, MetadataFilterScope):
            keys = cols.path(f"metadata.{scope.metadata_property}").per_record(len(cols), pick)
        elif isinstance(scope, SuggestionFilterScope):
            keys = cols.path(f"suggestions.{scope.question}.{scope.property}").per_record(len(cols), pick)
        elif isinstance(scope, ResponseFilterScope) and scope.question:
            user = [str(scope.user.id)] if scope.user else []
            rows = self.conn.execute(
                "SELECT doc, avg(val) FROM response_values WHERE question = ?"
                + (" AND user_id = ?" if user else "") + " GROUP BY doc", [scope.question, *user]).fetchall()
            keys = np.full(len(cols), np.nan)
            pos = cols.positions([r[0] for r in rows])
            by_doc = dict(rows)
            keys[pos] = [by_doc[int(d)] for d in cols.rowids[pos]]
        else:
            raise ValueError(f"Cannot process request for search scope {scope}")
        return -keys if desc else keys

    def _text_matches(self, dataset: Dataset, query: Optional[Union[TextQuery, str]], cols: Columns,
                      want_scores: bool) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """(mask, scores) of a text query, or (None, None) without one. Scores are BM25, higher better."""
        if query is None:
            return None, None
        text = TextQuery(q=query) if isinstance(query, str) else query
        slot = 0  # the row holding all fields
        if text.field:
            if dataset.field_by_name(text.field) is None:
                raise Exception(f"Field {text.field} not found in dataset {dataset.id}")
            slot = 1 + [f.name for f in dataset.fields].index(text.field)
        positive, negatives = fts_query(text.q)
        mask, scores = np.ones(len(cols), bool), None
        if positive is not None:
            score = "-bm25(fts)" if want_scores else "0"
            rows = self.conn.execute(f"SELECT rowid / {FIELD_SLOTS}, {score} FROM fts WHERE fts MATCH ? "
                                     f"AND rowid % {FIELD_SLOTS} = ?", (positive, slot)).fetchall()
            docs = np.fromiter((r[0] for r in rows), np.int64, len(rows))
            pos, found = cols.locate(docs)
            mask = cols.mask(pos[found])
            if want_scores:
                scores = np.zeros(len(cols))
                scores[pos[found]] = np.fromiter((r[1] for r in rows), float, len(rows))[found]
        for negative in negatives:
            docs = self._docs(f"SELECT rowid / {FIELD_SLOTS} FROM fts WHERE fts MATCH ? AND rowid % {FIELD_SLOTS} = ?",
                              [negative, slot])
            mask &= ~cols.mask(cols.positions(docs))
        return mask, scores

    def _selection(self, dataset, query, filter, cols: Columns, want_scores: bool = False):
        mask, scores = self._text_matches(dataset, query, cols, want_scores)
        if mask is None:
            mask = np.ones(len(cols), bool)
        if filter is not None:
            mask &= self._mask(filter, cols)
        return mask, scores

    async def search(
        self,
        dataset: Dataset,
        query: Optional[Union[TextQuery, str]] = None,
        filter: Optional[Filter] = None,
        sort: Optional[List[Order]] = None,
        offset: int = 0,
        limit: int = 100,
        user_id: Optional[str] = None,
    ) -> SearchResponses:
        cols = self._columns(dataset)
        mask, scores = self._selection(dataset, query, filter, cols, want_scores=not sort)
        chosen = np.flatnonzero(mask)  # positions, in index (insertion) order
        if sort:
            keys = []
            for order in reversed(sort):  # lexsort: the last key is the primary one
                k = self._sort_keys(order, cols)[chosen]
                # Missing values go last in both directions, as in ES.
                keys += [np.nan_to_num(k, nan=0.0), np.isnan(k)]
            ranked = chosen[np.lexsort([np.arange(len(chosen)), *keys])] if keys else chosen
            item_scores = None
        elif scores is not None:
            ranked = chosen[np.lexsort([np.arange(len(chosen)), -scores[chosen]])]
            item_scores = scores
        elif user_id:
            # ES's random_score seeded by the user: a stable, different order for each annotator.
            seed = np.int64(UUID(str(user_id)).int & (2**62 - 1))
            ranked = chosen[np.argsort(np.bitwise_xor(cols.rnd[chosen], seed), kind="stable")]
            item_scores = None
        else:
            ranked, item_scores = chosen, None
        page = ranked[offset:offset + limit]
        ids = cols.text["id"]
        items = [SearchResponseItem(record_id=UUID(ids[p]),
                                    score=None if sort else float(item_scores[p]) if item_scores is not None else 1.0)
                 for p in page]
        return SearchResponses(items=items, total=int(len(chosen)))

    # ------------------------------------------------------------ vectors
    def _matrix(self, dataset: Dataset, vector_settings: VectorSettings) -> tuple[np.ndarray, np.ndarray]:
        """Doc rowids and unit-normalised vectors of one setting, cached until the index changes."""
        generation = self.conn.execute("SELECT terms FROM generation").fetchone()[0]
        key = (self.path, str(vector_settings.id))
        cached = _vector_cache.get(key)
        if cached and cached[0] == generation:
            return cached[1], cached[2]
        rows = self.conn.execute(
            "SELECT v.doc, v.value FROM vectors v JOIN docs d ON d.rowid = v.doc WHERE v.settings = ? AND d.dataset = ?",
            (str(vector_settings.id), str(dataset.id))).fetchall()
        docs = np.array([r[0] for r in rows], dtype=np.int64)
        matrix = (np.stack([np.frombuffer(r[1], np.float32) for r in rows]) if rows
                  else np.zeros((0, vector_settings.dimensions), np.float32))
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix / np.where(norms == 0, 1, norms)
        _vector_cache[key] = (generation, docs, matrix)
        return docs, matrix

    async def similarity_search(
        self,
        dataset: Dataset,
        vector_settings: VectorSettings,
        value: Optional[List[float]] = None,
        record: Optional[Record] = None,
        query: Optional[Union[TextQuery, str]] = None,
        filter: Optional[Filter] = None,
        max_results: int = 100,
        order: SimilarityOrder = SimilarityOrder.most_similar,
        threshold: Optional[float] = None,
    ) -> SearchResponses:
        if bool(value) == bool(record):
            raise ValueError("Must provide either vector value or record to compute the similarity search")
        excluded = None
        if not value:
            excluded = str(record.id)
            value = record.vector_value_by_vector_settings(vector_settings)
        if not value:
            raise ValueError("Cannot find a vector value to apply with provided info")
        target = np.asarray(value, np.float32)
        if order == SimilarityOrder.least_similar:
            target = -target
        target = target / (np.linalg.norm(target) or 1.0)

        docs, matrix = self._matrix(dataset, vector_settings)
        keep = np.ones(len(docs), dtype=bool)
        if filter is not None or query is not None or excluded is not None:
            cols = self._columns(dataset)
            mask, _ = self._selection(dataset, query, filter, cols)
            if excluded is not None:
                mask &= cols.text["id"] != excluded
            keep = np.isin(docs, cols.rowids[mask])
        candidates = np.flatnonzero(keep)
        # ES's cosine similarity score for dense_vector: (1 + cos) / 2.
        scores = (1.0 + matrix[candidates] @ target) / 2.0
        top = np.argsort(-scores, kind="stable")[:max_results]
        chosen = docs[candidates[top]].tolist()
        ids = dict(self.conn.execute(f"SELECT rowid, id FROM docs WHERE rowid IN {_in(chosen)}", chosen).fetchall()) if chosen else {}
        items = [SearchResponseItem(record_id=UUID(ids[d]), score=float(s)) for d, s in zip(chosen, scores[top])]
        total = len(items)
        if threshold is not None:
            items = [i for i in items if i.score >= threshold]
        return SearchResponses(items=items, total=total)


class _Transaction:
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
