"""Exact cosine similarity search over the vectors in the search index (numpy, no ANN index).

Per vector setting, the unit-normalised matrix is cached per process until the index changes.
Scores are ES's for ``dense_vector`` with cosine similarity: ``(1 + cos) / 2``.

A mixin of :class:`sqlite_engine.SQLiteSearchEngine`: it needs ``self.conn``, ``self.path``
and, for filtered searches, ``_columns`` and ``_selection`` of ``sqlite_query.IndexQueries``.
Runs inside argilla-server's virtualenv, beside ``sqlite_engine.py``.
"""

from __future__ import annotations

import sqlite3
from typing import List, Optional, Union
from uuid import UUID

import numpy as np
from argilla_server.enums import SimilarityOrder
from argilla_server.models import Dataset, Record, VectorSettings
from argilla_server.search_engine.base import Filter, SearchResponseItem, SearchResponses, TextQuery
from sqlite_schema import placeholders

# (index file, vector settings) -> (generation, doc rowids, unit vectors), per process.
_vector_cache: dict[tuple[str, str], tuple[int, np.ndarray, np.ndarray]] = {}


class VectorSearch:
    """``similarity_search`` of argilla-server's ``SearchEngine`` interface."""

    conn: sqlite3.Connection
    path: str

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
        ids = (dict(self.conn.execute(f"SELECT rowid, id FROM docs WHERE rowid IN {placeholders(chosen)}", chosen).fetchall())
               if chosen else {})
        items = [SearchResponseItem(record_id=UUID(ids[d]), score=float(s)) for d, s in zip(chosen, scores[top])]
        total = len(items)
        if threshold is not None:
            items = [i for i in items if i.score >= threshold]
        return SearchResponses(items=items, total=total)
