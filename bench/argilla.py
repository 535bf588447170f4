"""Benchmark: the local Argilla with the workbench's SQLite search engine.

One command, two figures, each against its own baseline in the same run:

- bulk logging through the ``argilla`` SDK, alternating batch by batch between a server on
  the SQLite engine and a server on a do-nothing engine (``bench/null_engine.py``): the
  engine's share of logging time. Target: under 25% added.
- with ``--records`` (100,000) indexed: p50/p95 latency of the UI's main queries through
  the HTTP API (the index lookup plus argilla loading the records from its database):
  the next page of 50 pending records for a user, a text search, and a metadata filter
  with a sort. Target: p95 under 150 ms. The records beyond the logged ones are cloned in
  argilla's SQLite database and indexed by ``workbench argilla reindex`` (also timed).

    python bench/argilla.py                  # ~6 minutes on a 2-core CPU
    python bench/argilla.py --records 20000 --log 600 --no-write   # a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
from results import append_rows  # noqa: E402  (bench/results.py, while this folder is on the path)
P95_TARGET_MS = 150.0
OVERHEAD_TARGET = 0.25
LABELS = ["refund", "shipping", "billing", "quality", "account"]


def _vocabulary() -> list[str]:
    """Words of the example task's messages, most frequent first (texts are drawn Zipf-like)."""
    import json
    import re
    from collections import Counter

    counts: Counter = Counter()
    for name in ("seeds.jsonl", "heldout.jsonl"):
        for line in (REPO / "datasets" / "support_intents" / name).read_text().splitlines():
            counts.update(re.findall(r"[a-z']+", json.loads(line)["text"].lower()))
    return [w for w, _ in counts.most_common()]


WORDS = _vocabulary()
WEIGHTS = [1.0 / (rank + 1) for rank in range(len(WORDS))]
# A two-word query of mid-frequency words, as a reviewer would type.
TEXT_QUERY = f"{WORDS[40]} {WORDS[60]}"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rows(n: int, rng: random.Random) -> list[dict]:
    return [{"text": " ".join(rng.choices(WORDS, WEIGHTS, k=16)), "label": rng.choice(LABELS),
             "score": rng.random(), "teacher": rng.choice(["gemma3-270m", "smollm2-135m"]), "sim": rng.random(),
             "length": rng.randint(5, 80)} for _ in range(n)]


def _dataset(argilla, name: str):
    import argilla as rg

    client = argilla.client()
    workspace = client.workspaces("bench") or rg.Workspace(name="bench", client=client).create()
    settings = rg.Settings(
        fields=[rg.TextField(name="text")], questions=[rg.LabelQuestion("label", LABELS)],
        metadata=[rg.TermsMetadataProperty("teacher"), rg.FloatMetadataProperty("sim"),
                  rg.IntegerMetadataProperty("length")])
    return rg.Dataset(name=name, workspace=workspace, settings=settings, client=client).create()


def _records(rows: list[dict], start: int):
    import argilla as rg

    return [rg.Record(id=f"r{start + i:07d}", fields={"text": r["text"]},
                      metadata={"teacher": r["teacher"], "sim": r["sim"], "length": r["length"]},
                      suggestions=[rg.Suggestion("label", r["label"], score=r["score"], agent="teacher")])
            for i, r in enumerate(rows)]


def bench_logging(engine_argilla, null_argilla, n: int, batch: int) -> dict:
    """Log the same batches to both servers, alternating, and compare the time spent."""
    rows = _rows(n, random.Random(0))
    targets = {"sqlite": _dataset(engine_argilla, "scale"), "null": _dataset(null_argilla, "scale")}
    spent = {"sqlite": 0.0, "null": 0.0}
    for start in range(0, n, batch):
        order = ["sqlite", "null"] if (start // batch) % 2 == 0 else ["null", "sqlite"]
        for name in order:
            records = _records(rows[start:start + batch], start)
            t = time.perf_counter()
            targets[name].records.log(records, batch_size=batch)
            spent[name] += time.perf_counter() - t
    return {"logged": n, "sqlite_rps": n / spent["sqlite"], "null_rps": n / spent["null"],
            "overhead": spent["sqlite"] / spent["null"] - 1.0, "dataset": targets["sqlite"]}


def _clone_until(database: Path, dataset_id: str, total: int) -> int:
    """Copy the logged records (and their suggestions) with fresh ids until ``total`` exist."""
    db = sqlite3.connect(database)
    hex_id = dataset_id.replace("-", "")
    rec_cols = [r[1] for r in db.execute("PRAGMA table_info(records)")]
    sug_cols = [r[1] for r in db.execute("PRAGMA table_info(suggestions)")]
    base = db.execute("SELECT count(*) FROM records WHERE dataset_id=?", (hex_id,)).fetchone()[0]
    have, copy = base, 0
    while have < total:
        copy += 1
        db.execute("DROP TABLE IF EXISTS temp.m")
        db.execute("CREATE TEMP TABLE m AS SELECT id AS old, lower(hex(randomblob(16))) AS new FROM records "
                   "WHERE dataset_id=? AND external_id NOT LIKE '%-c%' LIMIT ?", (hex_id, total - have))
        rec_sel = [("m.new" if c == "id" else "r.external_id || '-c' || ?" if c == "external_id" else f"r.{c}")
                   for c in rec_cols]
        db.execute(f"INSERT INTO records({','.join(rec_cols)}) SELECT {','.join(rec_sel)} "
                   f"FROM records r JOIN m ON r.id = m.old", (str(copy),))
        sug_sel = [("lower(hex(randomblob(16)))" if c == "id" else "m.new" if c == "record_id" else f"s.{c}")
                   for c in sug_cols]
        db.execute(f"INSERT INTO suggestions({','.join(sug_cols)}) SELECT {','.join(sug_sel)} "
                   f"FROM suggestions s JOIN m ON s.record_id = m.old")
        db.commit()
        have = db.execute("SELECT count(*) FROM records WHERE dataset_id=?", (hex_id,)).fetchone()[0]
    db.close()
    return have


def _latency(http, method: str, path: str, reps: int, body_for) -> dict:
    times = []
    for i in range(reps + 3):
        t = time.perf_counter()
        resp = http.request(method, path, **body_for(i))
        elapsed = (time.perf_counter() - t) * 1000
        resp.raise_for_status()
        if i >= 3:  # the first calls warm caches
            times.append(elapsed)
    times.sort()
    return {"p50": statistics.median(times), "p95": times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)],
            "total": resp.json().get("total")}


def bench_queries(argilla, dataset_id: str, reps: int) -> dict:
    import httpx

    http = httpx.Client(base_url=argilla.url, headers={"X-Argilla-Api-Key": argilla.credentials().api_key},
                        timeout=60)
    search = f"/api/v1/me/datasets/{dataset_id}/records/search"
    pending = {"filters": {"and": [{"type": "terms", "scope": {"entity": "response", "property": "status"},
                                    "values": ["pending"]}]}}
    text = {"query": {"text": {"q": TEXT_QUERY}}}
    meta = {"filters": {"and": [
        {"type": "terms", "scope": {"entity": "metadata", "metadata_property": "teacher"}, "values": ["gemma3-270m"]},
        {"type": "range", "scope": {"entity": "metadata", "metadata_property": "sim"}, "ge": 0.2, "le": 0.8}]},
        "sort": [{"scope": {"entity": "metadata", "metadata_property": "sim"}, "order": "desc"}]}
    return {
        "pending page (50)": _latency(http, "POST", search, reps,
                                      lambda i: {"json": pending, "params": {"limit": 50, "offset": 50 * i}}),
        f"text search ({TEXT_QUERY!r})": _latency(http, "POST", search, reps, lambda i: {"json": text, "params": {"limit": 50}}),
        "metadata filter + sort": _latency(http, "POST", search, reps,
                                           lambda i: {"json": meta, "params": {"limit": 50, "offset": 50 * (i % 5)}}),
    }


def _write(results: dict) -> None:
    q = results["queries"]
    cell = lambda k: f"{q[k]['p50']:.0f} / {q[k]['p95']:.0f} ({q[k]['total']:,} hits)"
    text_key = next(k for k in q if k.startswith("text search"))
    worst = max(v["p95"] for v in q.values())
    log = results["logging"]
    row = (f"| {dt.date.today()} | {platform.machine()}, {os.cpu_count()} CPUs | {results['indexed']:,} "
           f"| {results['reindex_rps']:.0f} | {cell('pending page (50)')} | {cell(text_key)} "
           f"| {cell('metadata filter + sort')} | {log['sqlite_rps']:.0f} / {log['null_rps']:.0f} "
           f"| **{log['overhead']:+.0%}** ({'meets' if log['overhead'] < OVERHEAD_TARGET else 'MISSES'} <25%); "
           f"worst p95 {worst:.0f} ms ({'meets' if worst < P95_TARGET_MS else 'MISSES'} <150) |")
    append_rows("## Argilla:", "## Argilla: the local service's search engine (`python bench/argilla.py`)\n\n"
                "| date | machine | records indexed | reindex rec/s | pending page p50/p95 ms | text search p50/p95 ms "
                "| metadata filter+sort p50/p95 ms | SDK log rec/s (SQLite / null engine) | engine overhead |\n"
                "|---|---|---|---|---|---|---|---|---|", [row])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records indexed for the query latencies")
    parser.add_argument("--log", type=int, default=2000, help="records logged to each server for the rate")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()

    # This file is named argilla.py: keep its folder off the path so `import argilla` is the SDK.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.path.insert(0, str(REPO))
    from workbench.review.server.local import LocalArgilla
    from workbench.settings import WorkbenchSettings

    venv = WorkbenchSettings().argilla_venv_path()
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        engine = LocalArgilla(Path(tmp) / "sqlite", port=_port(), venv_dir=venv)
        null = LocalArgilla(Path(tmp) / "null", port=_port(), venv_dir=venv, engine="workbench-null",
                            plugins=(HERE / "null_engine.py",))
        try:
            engine.up(), null.up()
            print(f"logging {args.log} records to each server, alternating batches of {args.batch}...", flush=True)
            logging = bench_logging(engine, null, args.log, args.batch)
            null.down()
            print(f"  SQLite engine {logging['sqlite_rps']:.1f} rec/s, null engine {logging['null_rps']:.1f} rec/s: "
                  f"{logging['overhead']:+.1%}", flush=True)
            dataset_id = str(logging.pop("dataset").id)
            engine.down()
            indexed = _clone_until(engine.database, dataset_id, args.records)
            print(f"reindexing {indexed:,} records...", flush=True)
            t = time.perf_counter()
            engine.reindex()
            reindex_rps = indexed / (time.perf_counter() - t)
            print(f"  {reindex_rps:.0f} records/s", flush=True)
            engine.up()
            queries = bench_queries(engine, dataset_id, args.reps)
            for name, q in queries.items():
                print(f"  {name:<24} p50 {q['p50']:6.1f} ms  p95 {q['p95']:6.1f} ms  (total {q['total']})")
        finally:
            engine.down(), null.down()
    results = {"logging": logging, "indexed": indexed, "reindex_rps": reindex_rps, "queries": queries}
    if not args.no_write:
        _write(results)
        print(f"appended to {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
