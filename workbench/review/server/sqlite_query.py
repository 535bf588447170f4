"""Reads of the search index: text queries, filters, sorts, search, progress and metrics.

Text queries go to FTS5; filters and sorts run over the per-dataset column arrays of
``columns.py`` (boolean masks and ``lexsort``), except responses, which stay in SQL.

A mixin of :class:`sqlite_engine.SQLiteSearchEngine` (it needs ``self.conn`` and
``self.path``). Runs inside argilla-server's virtualenv, beside ``sqlite_engine.py``.

Example::

    >>> fts_query('refund -espresso "coffee order" | ship*')
    ('("refund" AND "coffee order") OR ("ship" *)', ['"espresso"'])
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime
from typing import Any, Iterable, List, Optional, Union
from uuid import UUID

import numpy as np
from argilla_server.enums import MetadataPropertyType, ResponseStatusFilter, SortOrder
from argilla_server.errors.future import UnprocessableEntityError
from argilla_server.models import Dataset, MetadataProperty, User
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
    SearchResponseItem,
    SearchResponses,
    SuggestionFilterScope,
    TermsFilter,
    TermsMetrics,
    TextQuery,
)
from columns import Columns, Values, columns_for
from sqlite_schema import FIELD_SLOTS, epoch_millis, placeholders, plain

# ES sizes the terms aggregation with this cap (commons.max_terms_size).
MAX_TERMS = 2**14

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


def _term_values(values: Iterable[Any]) -> list:
    """ES coerces '3' to 3 on integer fields: match both spellings of numbers."""
    out: list = []
    for v in values:
        v = plain(v)
        out.append(v)
        if isinstance(v, str):
            try:
                number = float(v)
                out.append(int(number) if number.is_integer() else number)
            except ValueError:
                pass
    return out or [None]


def _bound(value: Any, name: str, dates: bool = False) -> Optional[float]:
    """A range bound as the index stores it: the API passes numbers and strings through, and ES
    reads a string as a number, or on ``inserted_at``/``updated_at`` as an ISO 8601 date."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    text = str(value).strip()
    if dates:
        try:
            return epoch_millis(datetime.fromisoformat(text))  # dates are epoch milliseconds, UTC when naive
        except ValueError:
            pass
    try:
        return float(text)
    except ValueError:
        want = "an ISO 8601 date such as 2026-12-01T10:00:00 (or epoch milliseconds)" if dates else "a number"
        raise UnprocessableEntityError(f"range filter on {name}: {value!r} is not {want}") from None


def _in_range(values: Values, f: RangeFilter, name: str, dates: bool = False) -> np.ndarray:
    return values.in_range(_bound(f.ge, name, dates), _bound(f.le, name, dates))


class IndexQueries:
    """The read half of argilla-server's ``SearchEngine`` interface."""

    conn: sqlite3.Connection
    path: str

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
                return np.isin(cols.text[scope.property], [plain(v) for v in f.values])
            if scope.property in cols.number:
                values = Values(np.arange(len(cols)), cols.number[scope.property], np.full(len(cols), None))
                return cols.mask(_in_range(values, f, scope.property, dates=True) if isinstance(f, RangeFilter)
                                 else values.matching(_term_values(f.values)))
            raise ValueError(f"Cannot process request for search scope {scope}")
        if isinstance(scope, MetadataFilterScope):
            name = f"metadata.{scope.metadata_property}"
        elif isinstance(scope, SuggestionFilterScope):
            name = f"suggestions.{scope.question}.{scope.property}"
        else:
            raise ValueError(f"Cannot process request for search scope {scope}")
        values = cols.path(name)
        if isinstance(f, TermsFilter):
            return cols.mask(values.matching(_term_values(f.values)))
        return cols.mask(_in_range(values, f, name))

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
                cond, params = f"val IN {placeholders(values)}", values
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
        statuses = [plain(v) for v in f.values]
        mask = np.zeros(len(cols), bool)
        if ResponseStatusFilter.pending.value in statuses:
            answered = self._docs(f"SELECT doc FROM responses WHERE 1{by_user}", user)
            mask |= ~cols.mask(cols.positions(answered))
        others = [s for s in statuses if s != ResponseStatusFilter.pending.value]
        if others:
            docs = self._docs(f"SELECT doc FROM responses WHERE status IN {placeholders(others)}{by_user}",
                              [*others, *user])
            mask |= cols.mask(cols.positions(docs))
        return mask

    def _sort_keys(self, order: Order, cols: Columns) -> np.ndarray:
        """One float key per record for an order (NaN when missing), smaller first."""
        scope, desc = order.scope, plain(order.order) == SortOrder.desc.value
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
