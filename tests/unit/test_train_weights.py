"""Training rows by source: reviewed real messages count more, "none of these" is not a label."""

from workbench.store import save_version
from workbench.tasks import load_task
from workbench.train.data import load_rows, weigh_real


def test_real_messages_are_repeated_and_out_of_scope_answers_are_left_out():
    spec = load_task("support_intents")
    a, b = spec.seed_examples[0], next(r for r in spec.seed_examples if r["label"] != spec.seed_examples[0]["label"])
    rows = [{"id": "1", "text": "where is my box, it is late", "label": a["label"], "decision": "accepted",
             "source": "real", "pool_version": "v003"},
            {"id": "2", "text": "a teacher's take on a refund", "label": b["label"], "decision": "accepted",
             "source": "synthetic", "pool_version": None},
            {"id": "3", "text": "what time is it in tokyo", "label": "out_of_scope", "decision": "corrected",
             "source": "real", "pool_version": "v003"}]
    data = load_rows(save_version(spec.name, rows, {"kind": "reviewed"}, kind="reviewed"), spec)
    assert [r["text"] for r in data.rows] == [rows[0]["text"], rows[1]["text"]]
    assert data.dropped == {"out_of_scope": 1} and data.pools == ["v003"]
    weighted = weigh_real(data.rows, data.real, 3)
    assert [r["text"] for r in weighted].count(rows[0]["text"]) == 3
    assert [r["text"] for r in weighted].count(rows[1]["text"]) == 1
