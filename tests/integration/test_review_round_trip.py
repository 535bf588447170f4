"""A team pushes synthetic data to Argilla, two reviewers decide, and the pull keeps every decision.

Runs against the local Argilla (the session fixture); the workbench reaches it the way it
reaches a remote one, through WORKBENCH_ARGILLA_URL and WORKBENCH_ARGILLA_API_KEY.
"""

from __future__ import annotations

import json

import pytest

from workbench.review import ReviewConfig, ReviewError, review_status, run_pull, run_push
from workbench.review.pull import ReviewPending
from workbench.store import latest_version, record_id, save_version
from workbench.tasks import load_task

rg = pytest.importorskip("argilla")
TASK = "support_intents"


def _rows(spec, extra: int = 0) -> list[dict]:
    """200 synthetic-like rows from the task's own messages, some with the wrong label."""
    base = spec.heldout_examples() + spec.seed_examples
    rows = []
    for i in range(200 + extra):
        ex = base[i % len(base)]
        text = ex["text"] if i < len(base) else f"{ex['text']} (asked again, #{i})"
        label = ex["label"] if i % 7 else spec.label_names[(spec.label_names.index(ex["label"]) + 1) % 10]
        rows.append({"id": record_id(label, text), "text": text, "label": label, "max_similarity": 0.5,
                     "chars": len(text), "template": "t:abc", "teacher": "llamacpp:gemma3-270m",
                     "critic_margin": 0.5 if i % 7 else -0.5, "critic_pass": bool(i % 7)})  # the critic's columns
    return rows


def _save(spec, rows):
    return save_version(spec.name, rows, {"task": spec.name, "teacher": "llamacpp:gemma3-270m"})


def _respond(dataset, user, decisions: dict[str, tuple[str, str | None]]):
    records = {r.id: r for r in dataset.records(with_responses=True) if r.id in decisions}
    for rid, (status, label) in decisions.items():
        records[rid].responses.add(rg.Response("label", label, user_id=user.id, status=status))
    dataset.records.log(list(records.values()))


def test_push_review_pull_with_two_reviewers(argilla_env):
    spec = load_task(TASK)
    cfg = ReviewConfig(task=TASK, dataset="round-trip", progress=False)
    rows = _rows(spec)
    _save(spec, rows)

    first = run_push(cfg)
    assert (first.pushed, first.already_there, first.version) == (200, 0, "v001")
    again = run_push(cfg)
    assert (again.pushed, again.already_there, again.total_in_argilla) == (0, 200, 200)
    _save(spec, _rows(spec, extra=10))  # a newer version: the old 200 plus 10 new
    newer = run_push(cfg)
    assert (newer.pushed, newer.already_there, newer.version) == (10, 200, "v002")

    client = argilla_env.client()
    dataset = client.datasets("round-trip", workspace="workbench")
    assert len(dataset.settings.vectors) == 1 and dataset.settings.guidelines.startswith("Read the message")
    record = next(iter(dataset.records(with_suggestions=True, with_vectors=True, limit=1)))
    assert record.suggestions["label"].agent == "llamacpp:gemma3-270m"
    assert 0.0 <= record.suggestions["label"].score <= 1.0 and len(record.vectors["minilm"]) == 384
    assert record.metadata["version"] in ("v001", "v002")
    doubted = dataset.records(query=rg.Query(filter=rg.Filter(("metadata.critic", "==", "review_first"))))
    pushed = _rows(spec, extra=10)  # both versions' rows
    assert {r.id for r in doubted} == {r["id"] for r in pushed if not r["critic_pass"]}  # Generate's critic's doubts

    users = {}
    for name in ("ana", "ben"):
        users[name] = rg.User(username=name, password=f"{name}-pass-123", role="annotator", client=client).create()
        users[name].add_to_workspace(client.workspaces("workbench"))
    by_label: dict[str, list[dict]] = {}
    for r in rows:
        by_label.setdefault(r["label"], []).append(r)
    la, lb, lc = spec.label_names[:3]
    r0, r1 = by_label[la][0], by_label[la][1]
    r2, r3 = by_label[lb][0], by_label[lb][1]
    r4 = by_label[lc][0]
    r5, r6, r7, r8, r9 = by_label[spec.label_names[3]][:5]
    other = spec.label_names[4]
    _respond(dataset, users["ana"], {
        r0["id"]: ("submitted", la), r1["id"]: ("submitted", la), r2["id"]: ("submitted", lb),
        r3["id"]: ("submitted", lb), r4["id"]: ("submitted", lc),
        r5["id"]: ("submitted", other), r6["id"]: ("submitted", other), r7["id"]: ("discarded", None),
        r9["id"]: ("draft", other)})
    _respond(dataset, users["ben"], {
        r0["id"]: ("submitted", la), r1["id"]: ("submitted", la), r2["id"]: ("submitted", lb),
        r3["id"]: ("submitted", lb), r4["id"]: ("submitted", la),  # the one disagreement
        r8["id"]: ("submitted", r8["label"])})

    status = review_status(cfg)
    assert status.total == 210
    assert status.reviewers["ana"]["submitted"] == 7 and status.reviewers["ben"]["submitted"] == 6

    pulled = run_pull(cfg)
    c = pulled.counts
    assert (c["reviewed"], c["unreviewed"]) == (9, 201)  # the draft does not count
    assert c["decisions"] == {"accepted": 6, "corrected": 2, "discarded": 1}
    assert c["decided_by"] == {"human": 9}
    # ana [a, a, b, b, c] vs ben [a, a, b, b, a]: observed 0.8, chance (2*3 + 2*2) / 25 = 0.4.
    assert c["agreement"]["method"] == "cohen_kappa" and c["agreement"]["records"] == 5
    assert c["agreement"]["value"] == pytest.approx((0.8 - 0.4) / 0.6, abs=1e-4)

    got = {r["id"]: r for r in pulled.version.load()}
    assert set(got) == {r["id"] for r in (r0, r1, r2, r3, r4, r5, r6, r7, r8)}
    assert got[r4["id"]]["decision"] == "accepted" and got[r4["id"]]["agreement"] == 0.0  # tie: suggestion wins
    assert got[r4["id"]]["reviewers"] == ["ana", "ben"]
    assert got[r5["id"]]["decision"] == "corrected" and got[r5["id"]]["label"] == other
    assert got[r5["id"]]["suggestion"] == r5["label"] and got[r5["id"]]["agreement"] is None
    assert got[r7["id"]]["decision"] == "discarded" and got[r7["id"]]["label"] is None
    assert got[r0["id"]]["agreement"] == 1.0
    manifest = pulled.version.manifest
    assert manifest["kind"] == "reviewed" and manifest["parent_synthetic_versions"] == ["v001"]
    assert manifest["acceptance_by_suggested_label"][la] == 1.0
    assert manifest["acceptance_by_suggested_label"][spec.label_names[3]] == pytest.approx(1 / 4)
    assert argilla_env.credentials().api_key not in json.dumps(manifest.to_json_dict())

    assert run_pull(cfg).reused  # nothing changed: the same version

    with pytest.raises(ReviewPending, match=r"201 records await review at http://127\.0\.0\.1"):
        run_pull(cfg.model_copy(update={"policy": "wait"}))
    assert latest_version(TASK, "reviewed").version == "v001"

    auto = run_pull(cfg.model_copy(update={"policy": "auto"}))
    a = auto.counts
    assert a["decided_by"] == {"human": 9, "auto": 201} and a["unreviewed"] == 0
    assert a["agreement"] == c["agreement"]  # automatic answers never count as a reviewer
    auto_rows = [r for r in auto.version.load() if r["decided_by"] == "auto"]
    assert {r["reviewers"][0] for r in auto_rows} == {"auto-reviewer"}
    assert {r["decision"] for r in auto_rows} <= {"accepted", "discarded"}
    # The rule is a nearest-seed vote: most mislabelled rows (every 7th) are discarded.
    wrong = {r["id"] for r in _rows(spec, extra=10)[::7]}
    discarded = {r["id"] for r in auto_rows if r["decision"] == "discarded"}
    assert len(wrong & discarded) >= 0.6 * len(wrong & {r["id"] for r in auto_rows})
    assert got[r5["id"]]["decided_by"] == "human"


def test_wrong_url_wrong_key_or_mismatched_dataset_change_nothing(argilla_env, monkeypatch):
    from workbench.settings import get_settings

    spec = load_task(TASK)
    _save(spec, _rows(spec)[:20])
    client = argilla_env.client()
    ws = client.workspaces("other") or rg.Workspace(name="other", client=client).create()
    clash = rg.Dataset(name=TASK, workspace=ws, client=client, settings=rg.Settings(
        fields=[rg.TextField(name="text")], questions=[rg.LabelQuestion("label", ["yes", "no"])])).create()
    with pytest.raises(ReviewError, match="does not match task 'support_intents'.*question 'label'"):
        run_push(ReviewConfig(task=TASK, workspace="other", progress=False))
    assert len(list(clash.records())) == 0

    monkeypatch.setenv("WORKBENCH_ARGILLA_API_KEY", "wb.not-the-key-0000000000")
    get_settings.cache_clear()
    with pytest.raises(ReviewError, match="rejected the API key") as exc:
        run_push(ReviewConfig(task=TASK, dataset="never", progress=False))
    assert "not-the-key" not in str(exc.value)

    monkeypatch.setenv("WORKBENCH_ARGILLA_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    with pytest.raises(ReviewError, match=r"cannot reach Argilla at http://127\.0\.0\.1:9"):
        run_push(ReviewConfig(task=TASK, dataset="never", progress=False))
    assert client.datasets("never", workspace="workbench") is None

    monkeypatch.delenv("WORKBENCH_ARGILLA_URL")
    monkeypatch.delenv("WORKBENCH_ARGILLA_API_KEY")
    monkeypatch.delenv("ARGILLA_API_URL", raising=False)
    get_settings.cache_clear()
    with pytest.raises(ReviewError, match="local Argilla is not running.*workbench argilla up"):
        run_push(ReviewConfig(task=TASK, progress=False))


def test_generation_task_reply_corrected_and_rated(argilla_env):
    spec = load_task("support_replies")
    pairs = spec.seed_examples[:4]
    rows = [{"id": record_id(p["input"], p["output"]), "input": p["input"], "output": p["output"],
             "max_similarity": 0.3, "chars": len(p["output"])} for p in pairs]
    save_version(spec.name, rows, {"task": spec.name, "teacher": "llamacpp:gemma3-270m"})
    cfg = ReviewConfig(task=spec.name, progress=False)
    assert run_push(cfg).pushed == 4

    client = argilla_env.client()
    dataset = client.datasets(spec.name, workspace="workbench")
    assert {f.name for f in dataset.settings.fields} == {"input", "output"}
    assert {q.name for q in dataset.settings.questions} == {"reply", "quality"}
    records = {r.id: r for r in dataset.records(with_suggestions=True)}
    first, second = rows[0]["id"], rows[1]["id"]
    assert records[first].suggestions["reply"].value == rows[0]["output"]
    me = client.me
    better = rows[0]["output"] + " We're sorry for the wait."
    records[first].responses.add(rg.Response("reply", better, user_id=me.id, status="submitted"))
    records[first].responses.add(rg.Response("quality", 2, user_id=me.id, status="submitted"))
    records[second].responses.add(rg.Response("reply", rows[1]["output"], user_id=me.id, status="submitted"))
    records[second].responses.add(rg.Response("quality", 5, user_id=me.id, status="submitted"))
    dataset.records.log([records[first], records[second]])

    pulled = run_pull(cfg)
    got = {r["id"]: r for r in pulled.version.load()}
    assert (got[first]["output"], got[first]["decision"], got[first]["rating"]) == (better, "corrected", 2)
    assert (got[second]["decision"], got[second]["rating"]) == ("accepted", 5)
    assert got[first]["input"] == rows[0]["input"] and pulled.counts["unreviewed"] == 2


def test_a_dataset_made_before_sources_were_recorded_gets_their_metadata_and_takes_the_push(argilla_env):
    from workbench.review.schema import build_settings

    spec = load_task(TASK)
    _save(spec, _rows(spec)[:20])
    client = argilla_env.client()
    old = build_settings(spec)
    for name in ("source", "confidence"):  # what a workbench of before the label stage created
        old.metadata.remove(name)
    rg.Dataset(name="older", workspace=client.workspaces("workbench"), client=client, settings=old).create()
    result = run_push(ReviewConfig(task=TASK, dataset="older", progress=False))
    dataset = client.datasets("older", workspace="workbench")
    assert result.pushed == 20 and {"source", "confidence"} <= {m.name for m in dataset.settings.metadata}
    assert {r.metadata["source"] for r in dataset.records()} == {"synthetic"}
