"""Writes to the search index: datasets, records (with their fields, metadata, suggestions,
responses and vectors) and the partial updates argilla sends on every click.

A mixin of :class:`sqlite_engine.SQLiteSearchEngine` (it needs ``self.conn``). Each write is
one IMMEDIATE transaction and bumps the change counters in ``generation`` that the
per-process caches (``columns.py``, the vector matrices) check.

Runs inside argilla-server's virtualenv, beside ``sqlite_engine.py``.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime
from typing import Any, Iterable, Optional

import numpy as np
from argilla_server.enums import QuestionType
from argilla_server.models import Dataset, MetadataProperty, Record, Response, Suggestion, VectorSettings
from sqlite_schema import FIELD_SLOTS, Transaction, epoch_millis, placeholders, plain

# Question types whose values ES maps as keyword/integer; the rest are not searchable.
SEARCHABLE_QUESTIONS = {QuestionType.rating, QuestionType.label_selection, QuestionType.multi_label_selection}
RECORD_COLUMNS = {"id", "external_id", "status", "inserted_at", "updated_at"}


def _scalars(value: Any) -> list:
    """A keyword/number value, or each item of a list of them; dicts are not searchable."""
    items = value if isinstance(value, list) else [value]
    return [plain(v) for v in items if v is not None and not isinstance(v, (dict, list))]


def _field_text(field, value: Any) -> Optional[str]:
    if value is None or field.is_image:
        return None
    if field.is_chat and isinstance(value, list):
        return "\n".join(str(m.get("content", "")) for m in value if isinstance(m, dict))
    return str(value)


class IndexWrites:
    """The write half of argilla-server's ``SearchEngine`` interface."""

    conn: sqlite3.Connection

    def _write(self):
        return Transaction(self.conn)

    async def create_index(self, dataset: Dataset):
        with self._write() as c:
            c.execute("INSERT OR IGNORE INTO datasets VALUES (?)", (str(dataset.id),))
            c.executemany("INSERT OR REPLACE INTO questions VALUES (?,?,?)",
                          [(str(dataset.id), q.name, plain(q.type)) for q in dataset.questions])

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
            types.update({q.name: plain(q.type) for q in dataset.questions})
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
        values = (record.external_id, plain(record.status), epoch_millis(record.inserted_at),
                  epoch_millis(record.updated_at))
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
        rows = [(doc, base + "agent", suggestion.agent), (doc, base + "type", plain(suggestion.type))]
        rows += [(doc, base + "score", s) for s in _scalars(suggestion.score)]
        if question.type in SEARCHABLE_QUESTIONS:
            rows += [(doc, base + "value", v) for v in _scalars(suggestion.value)]
        return [r for r in rows if r[2] is not None]

    @staticmethod
    def _insert_response(c: sqlite3.Connection, doc: int, response: Response, types: dict) -> None:
        rid, user = str(response.id), str(response.user_id)
        c.execute("INSERT OR REPLACE INTO responses VALUES (?,?,?,?)", (rid, doc, user, plain(response.status)))
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
        values = [epoch_millis(v) if isinstance(v, datetime) else plain(v) for v in columns.values()]
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
        c.execute(f"DELETE FROM terms WHERE doc=? AND path IN {placeholders(paths)}", (doc, *paths))
