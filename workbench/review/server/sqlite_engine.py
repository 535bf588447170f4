"""A search engine for argilla-server that lives in one SQLite file: no Elasticsearch.

It implements every method of ``argilla_server.search_engine.base.SearchEngine`` with the
semantics of argilla-server's Elasticsearch/OpenSearch engines (``search_engine/commons.py``):
text queries in the spirit of ``simple_query_string`` (AND by default) over SQLite FTS5,
terms and range filters on record, metadata, suggestion and response values, per-user
response status (``pending`` = no response by that user), sorts with missing values last,
exact totals, terms/min-max metrics, progress, and exact cosine similarity search.

The parts, each a module beside this one: ``sqlite_schema`` (tables, connection,
transactions), ``sqlite_writes`` (indexing and updates), ``sqlite_query`` (text queries,
filters, sorts, search, metrics), ``columns`` (the column arrays filters and sorts run on)
and ``sqlite_vectors`` (similarity search). This module puts them together and registers
the engine under ``ENGINE_NAME``.

These modules run inside argilla-server's own virtual environment (see ``serve.py``), as
top-level modules of this folder, so they import nothing from the workbench.

Example (inside the argilla venv)::

    ARGILLA_SEARCH_ENGINE=workbench-sqlite python serve.py server
"""

from __future__ import annotations

import dataclasses
import sqlite3

from argilla_server.search_engine.base import SearchEngine
from sqlite_query import IndexQueries, fts_query
from sqlite_schema import connect, default_path
from sqlite_vectors import VectorSearch
from sqlite_writes import IndexWrites

__all__ = ["ENGINE_NAME", "SQLiteSearchEngine", "fts_query"]

ENGINE_NAME = "workbench-sqlite"


@SearchEngine.register(engine_name=ENGINE_NAME)
@dataclasses.dataclass
class SQLiteSearchEngine(IndexWrites, IndexQueries, VectorSearch, SearchEngine):
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
