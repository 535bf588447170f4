"""The pool import: message logs in JSONL / CSV / Parquet, and a planted log imported into a version.

MiniLM loads once for the module (workbench.models caches the embedder)."""

import csv
import json

import numpy as np
import pytest

from workbench.examples import ExampleFileError, read_texts
from workbench.label import LabelError, import_pool, load_pool
from workbench.store import latest_version
from workbench.tasks import TaskSpecError, load_task

MESSAGES = ["where is my box", "", "the grinder squeaks", "  Refund please  "]


def _write(path, rows):
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif path.suffix == ".csv":
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_read_texts_reads_each_format_in_order(tmp_path, suffix):
    rows = [{"id": str(i), "message": m} for i, m in enumerate(MESSAGES)]
    if suffix != ".csv":
        rows[1]["message"] = None  # a null is an empty message, not an error
    path = _write(tmp_path / f"log{suffix}", rows)
    assert read_texts(path, "message") == ["where is my box", "", "the grinder squeaks", "Refund please"]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_a_missing_text_column_names_the_column_the_file_and_the_columns(tmp_path, suffix):
    path = _write(tmp_path / f"log{suffix}", [{"id": "1", "message": "where is my box"}])
    with pytest.raises(ExampleFileError) as info:
        read_texts(path)
    msg = str(info.value)
    assert str(path) in msg and "no column 'text'" in msg and "['id', 'message']" in msg and "text_column" in msg


def test_a_jsonl_row_without_the_column_and_an_unknown_format(tmp_path):
    path = _write(tmp_path / "log.jsonl", [{"text": "hello there"}, {"body": "no text here"}])
    with pytest.raises(ExampleFileError, match=r"log.jsonl row 2: no column 'text' \(it has \['body'\]\)"):
        read_texts(path)
    (tmp_path / "log.xlsx").write_text("x")
    with pytest.raises(ExampleFileError, match=r"unsupported format '.xlsx'; use one of \['.jsonl', '.csv', '.parquet'\]"):
        read_texts(tmp_path / "log.xlsx")


def test_a_task_without_a_log_is_a_label_error():
    with pytest.raises(LabelError, match="no `unlabeled:` file.*add one to prompts/support_intents/task.yaml"):
        import_pool(load_task("support_intents"))


def test_import_counts_what_it_removes_and_reuses_an_unchanged_pool(task_copy):
    data = task_copy.parent / "data"
    seed = json.loads((data / "seeds.jsonl").read_text().splitlines()[0])["text"]
    held = json.loads((data / "heldout.jsonl").read_text().splitlines()[0])["text"]
    (data / "validation.jsonl").write_text(json.dumps({"text": "my beans came ground, I ordered whole",
                                                       "label": "damaged_or_wrong_item"}) + "\n")
    log = ["where is my coffee delivery, it is a week late",
           "WHERE is my coffee   delivery, it is a week late",    # exact duplicate (case, spacing)
           "where is my coffee delivery? it is a week late!",     # near duplicate (MiniLM cosine 0.977)
           "", held, seed.upper(), "my beans came ground, I ordered whole",
           "how do i cancel my subscription for good", "the discount code SPRING10 says it expired"]
    _write(data / "log.csv", [{"message": m} for m in log])
    spec = task_copy / "task.yaml"
    spec.write_text(spec.read_text() + "validation: ../data/validation.jsonl\n"
                    "unlabeled: {path: ../data/log.csv, text_column: message}\n")

    pool = import_pool(load_task(task_copy))
    assert not pool.reused and pool.version.version == "v001" and pool.version.kind == "unlabeled"
    assert pool.texts == [log[0], log[7], log[8]]
    assert len(set(pool.ids)) == 3 and pool.vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(pool.vectors, axis=1), 1.0, atol=1e-4)
    m = pool.version.manifest
    assert m.counts.to_json_dict() == {"read": 9, "empty": 1, "exact_duplicates": 1, "near_duplicates": 1,
                                       "in_heldout": 1, "in_seeds": 1, "in_validation": 1, "kept": 3}
    assert m.source == str(data / "log.csv") and m.text_column == "message" and len(m.source_sha256) == 64

    again = import_pool(load_task(task_copy))  # unchanged: nothing is embedded or written
    assert again.reused and again.version.version == "v001" and again.ids == pool.ids
    # Another near copy changes the log but not the pool: still v001.
    _write(data / "log.csv", [{"message": m} for m in log + ["where is my coffee delivery? it is a week late!"]])
    assert import_pool(load_task(task_copy)).version.version == "v001"

    # A crash between the version's rename and the vectors: load_pool embeds and writes them again.
    (pool.version.path / "vectors.npy").unlink()
    loaded = load_pool(latest_version(pool.version.task, "unlabeled"))
    assert np.allclose(loaded.vectors, pool.vectors, atol=1e-5) and (pool.version.path / "vectors.npy").is_file()

    _write(data / "log.csv", [{"message": m} for m in log + ["can I send a gift subscription to my dad"]])
    grown = import_pool(load_task(task_copy))
    assert grown.version.version == "v002" and grown.version.manifest.parent_version == "v001" and len(grown) == 4


def test_a_log_with_nothing_left_is_a_label_error(task_copy):
    data = task_copy.parent / "data"
    _write(data / "log.jsonl", [{"text": ""}, {"text": None}])
    spec = task_copy / "task.yaml"
    spec.write_text(spec.read_text() + "unlabeled: ../data/log.jsonl\n")
    with pytest.raises(LabelError, match="no messages left for the pool"):
        import_pool(load_task(task_copy))
