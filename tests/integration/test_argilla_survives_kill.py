"""The server is SIGKILLed during a bulk log: nothing the client was told was saved is lost,
and after the next `up` the search index agrees with the database."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time

import pytest

rg = pytest.importorskip("argilla")

BATCH = 50


def _db_ids(argilla) -> set[str]:
    with sqlite3.connect(f"file:{argilla.database}?mode=ro", uri=True) as db:
        return {str(r[0]).replace("-", "") for r in db.execute("SELECT id FROM records")}


def _index_ids(argilla) -> set[str]:
    with sqlite3.connect(f"file:{argilla.search_db}?mode=ro", uri=True) as db:
        return {r[0].replace("-", "") for r in db.execute("SELECT id FROM docs")}


def test_sigkill_during_bulk_log_loses_nothing_acknowledged(tmp_path, start_argilla):
    argilla = start_argilla(tmp_path / "argilla")
    client = argilla.client()
    settings = rg.Settings(fields=[rg.TextField(name="text")], questions=[rg.LabelQuestion("label", ["a", "b"])])
    dataset = rg.Dataset(name="bulk", settings=settings, client=client,
                         workspace=rg.Workspace(name="w", client=client).create()).create()

    acknowledged: list[str] = []
    in_flight = threading.Event()
    failure: list[BaseException] = []

    def log_batches():
        try:
            for b in range(200):
                batch = [rg.Record(id=f"r{b:03d}-{i:02d}", fields={"text": f"batch {b} item {i}"}) for i in range(BATCH)]
                in_flight.set()
                dataset.records.log(batch, batch_size=BATCH)
                # Only now has the server answered: these records were saved.
                acknowledged.extend(r.id for r in batch)
        except BaseException as exc:  # the kill surfaces here as a connection error
            failure.append(exc)

    writer = threading.Thread(target=log_batches, daemon=True)
    writer.start()
    while len(acknowledged) < 3 * BATCH and writer.is_alive():
        time.sleep(0.05)
    in_flight.clear()
    in_flight.wait(10)  # the next batch is on its way
    time.sleep(0.2)
    server_pid = json.loads(argilla.state_file.read_text())["pids"]["server"]
    os.kill(server_pid, signal.SIGKILL)
    writer.join(120)
    assert failure, "the writer should have seen the server die"
    saved = list(acknowledged)
    assert len(saved) >= 3 * BATCH

    status = argilla.up()
    assert status.healthy and status.reindexed

    client = argilla.client()
    dataset = client.datasets("bulk", workspace="w")
    listed = {r.id for r in dataset.records()}
    assert set(saved) <= listed, f"lost {len(set(saved) - listed)} acknowledged records"

    db_ids, index_ids = _db_ids(argilla), _index_ids(argilla)
    assert db_ids == index_ids and len(db_ids) == len(listed)
    # Searches go through the index: they see exactly what the database holds.
    assert len(list(dataset.records(query=rg.Query(query="batch")))) == len(db_ids)
