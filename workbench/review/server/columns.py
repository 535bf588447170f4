"""Column arrays of one dataset's index, for filters and sorts that stay fast at 100k records.

SQLite answers "records whose metadata X is in [a, b], sorted by Y" one b-tree probe per
document; at 100,000 records that is hundreds of milliseconds. Here each dataset's record
columns and indexed values (metadata, suggestions) are loaded once into numpy arrays and
kept until the index changes (two counters in the index file: one for record columns such
as status, which change on every completed annotation, one for values). Filters become
boolean masks and sorts become ``lexsort`` over per-record keys. Responses and text
matches stay in SQL, where the sets are small or the FTS index does the work.

Runs inside argilla-server's virtualenv, beside ``sqlite_engine.py``.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field

import numpy as np

RECORD_TEXT_COLUMNS = ("id", "external_id", "status")
RECORD_NUMBER_COLUMNS = ("inserted_at", "updated_at")


@dataclass
class Values:
    """Every indexed value of one path (``metadata.sim``...): record position, number, text."""

    pos: np.ndarray  # int64 positions into Columns.rowids
    num: np.ndarray  # float64, NaN where the value is not a number
    txt: np.ndarray  # object, None where the value is a number

    def matching(self, values: list) -> np.ndarray:
        """Positions holding any of ``values`` (numbers and strings compared as ES keyword/number)."""
        numbers = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        texts = [v for v in values if isinstance(v, str)]
        hit = np.isin(self.num, numbers) if numbers else np.zeros(len(self.pos), bool)
        if texts:
            hit |= np.isin(self.txt, texts)
        return self.pos[hit]

    def in_range(self, ge, le) -> np.ndarray:
        hit = ~np.isnan(self.num)
        if ge is not None:
            hit &= self.num >= ge
        if le is not None:
            hit &= self.num <= le
        return self.pos[hit]

    def per_record(self, n: int, pick: str) -> np.ndarray:
        """One sort key per record: the min (``pick='min'``) or max of its values; NaN if none.

        Text values sort by their rank among this path's distinct texts.
        """
        keys = np.full(n, np.nan)
        if np.isnan(self.num).all() and len(self.txt):
            present = np.array([t is not None for t in self.txt])
            texts = self.txt[present].astype(str)
            order = np.unique(texts, return_inverse=True)[1].astype(float)
            pos, vals = self.pos[present], order
        else:
            present = ~np.isnan(self.num)
            pos, vals = self.pos[present], self.num[present]
        if len(pos):
            reduce = np.fmin if pick == "min" else np.fmax
            reduce.at(keys, pos, vals)
        return keys


@dataclass
class Columns:
    """One dataset's records (ordered by index rowid) and their indexed values."""

    rowids: np.ndarray
    text: dict[str, np.ndarray]
    number: dict[str, np.ndarray]
    rnd: np.ndarray
    values: dict[str, Values] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rowids)

    def locate(self, rowids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions, found): where each index rowid sits, and whether it is in this dataset."""
        if not len(self.rowids):
            return np.zeros(len(rowids), np.int64), np.zeros(len(rowids), bool)
        pos = np.minimum(np.searchsorted(self.rowids, rowids), len(self.rowids) - 1)
        return pos, self.rowids[pos] == rowids

    def positions(self, rowids) -> np.ndarray:
        """Positions of the given index rowids that belong to this dataset."""
        pos, found = self.locate(np.asarray(list(rowids), dtype=np.int64))
        return pos[found]

    def mask(self, positions: np.ndarray) -> np.ndarray:
        m = np.zeros(len(self.rowids), bool)
        m[positions] = True
        return m

    def path(self, name: str) -> Values:
        empty = np.zeros(0)
        return self.values.get(name) or Values(np.zeros(0, np.int64), empty, np.zeros(0, object))


def _load_records(conn: sqlite3.Connection, dataset: str) -> tuple:
    rows = conn.execute("SELECT rowid, id, external_id, status, inserted_at, updated_at, rnd FROM docs "
                        "WHERE dataset = ? ORDER BY rowid", (dataset,)).fetchall()
    cols = list(zip(*rows)) if rows else [[] for _ in range(7)]
    text = {name: np.array(cols[i + 1], dtype=object) for i, name in enumerate(RECORD_TEXT_COLUMNS)}
    number = {name: np.array([np.nan if v is None else v for v in cols[i + 4]], dtype=float)
              for i, name in enumerate(RECORD_NUMBER_COLUMNS)}
    return np.array(cols[0], dtype=np.int64), text, number, np.array(cols[6], dtype=np.int64)


def _load_values(conn: sqlite3.Connection, dataset: str, rowids: np.ndarray) -> dict[str, Values]:
    rows = conn.execute("SELECT t.path, t.doc, t.val FROM terms t JOIN docs d ON d.rowid = t.doc "
                        "WHERE d.dataset = ? ORDER BY t.path", (dataset,)).fetchall()
    out: dict[str, Values] = {}
    start = 0
    while start < len(rows):
        path = rows[start][0]
        end = start
        while end < len(rows) and rows[end][0] == path:
            end += 1
        docs = np.fromiter((r[1] for r in rows[start:end]), np.int64, end - start)
        vals = [r[2] for r in rows[start:end]]
        num = np.array([float(v) if isinstance(v, (int, float)) else np.nan for v in vals])
        txt = np.array([v if isinstance(v, str) else None for v in vals], dtype=object)
        out[path] = Values(np.searchsorted(rowids, docs), num, txt)
        start = end
    return out


_cache: dict[tuple[str, str], tuple[int, int, Columns]] = {}
_cache_lock = threading.Lock()


def columns_for(conn: sqlite3.Connection, index_path: str, dataset: str) -> Columns:
    """The dataset's columns, reloading only the part whose counter moved since last time."""
    docs_gen, terms_gen = conn.execute("SELECT docs, terms FROM generation").fetchone()
    key = (index_path, dataset)
    with _cache_lock:
        cached = _cache.get(key)
        if cached and cached[0] == docs_gen and cached[1] == terms_gen:
            return cached[2]
        rowids, text, number, rnd = _load_records(conn, dataset)
        if cached and cached[1] == terms_gen and np.array_equal(cached[2].rowids, rowids):
            values = cached[2].values  # only record columns (status...) changed
        else:
            values = _load_values(conn, dataset, rowids)
        columns = Columns(rowids, text, number, rnd, values)
        _cache[key] = (docs_gen, terms_gen, columns)
        return columns
