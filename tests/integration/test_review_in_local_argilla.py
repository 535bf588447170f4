"""A team reviews data in the local Argilla through the `argilla` SDK.

One local Argilla (real argilla-server, SQLite, embedded Redis, the workbench's SQLite
search engine) serves the whole module; expected answers are computed from the data the
test logged, so each search, filter, sort and progress figure is checked against the truth.
"""

from __future__ import annotations

import random

import httpx
import numpy as np
import pytest

rg = pytest.importorskip("argilla")

LABELS = ["refund", "shipping", "billing", "quality", "account"]
TEACHERS = ["gemma3-270m", "smollm2-135m", "gpt-large"]
N = 1000
DIM = 8


def _records_data():
    rng = random.Random(7)
    rows = []
    for i in range(N):
        label = LABELS[i % len(LABELS)]
        words = [label, rng.choice(["coffee", "tea", "mug"]), rng.choice(["today", "again", "please"])]
        rows.append({
            "external_id": f"rec-{i:04d}",
            "text": f"message {i}: " + " ".join(words),
            "label": label,
            "score": round(rng.random(), 4),
            "teacher": TEACHERS[i % 3],
            "sim": round(rng.random(), 4),
            "length": 10 + i % 50,
            "vector": [rng.gauss(0, 1) for _ in range(DIM)],
        })
    return rows


@pytest.fixture(scope="module")
def review(local_argilla):
    client = local_argilla.client()
    workspace = rg.Workspace(name="review", client=client).create()
    settings = rg.Settings(
        fields=[rg.TextField(name="text"), rg.TextField(name="context", required=False)],
        questions=[
            rg.LabelQuestion(name="label", labels=LABELS),
            rg.MultiLabelQuestion(name="tags", labels=["urgent", "angry", "vip"], required=False),
            rg.RatingQuestion(name="quality", values=[1, 2, 3, 4, 5], required=False),
            rg.TextQuestion(name="note", required=False),
        ],
        metadata=[rg.TermsMetadataProperty(name="teacher"), rg.FloatMetadataProperty(name="sim"),
                  rg.IntegerMetadataProperty(name="length")],
        vectors=[rg.VectorField(name="emb", dimensions=DIM)],
        distribution=rg.TaskDistribution(min_submitted=2),
    )
    dataset = rg.Dataset(name="intents", workspace=workspace, settings=settings, client=client).create()
    rows = _records_data()
    dataset.records.log([
        rg.Record(id=r["external_id"], fields={"text": r["text"]},
                  metadata={"teacher": r["teacher"], "sim": r["sim"], "length": r["length"]},
                  suggestions=[rg.Suggestion("label", r["label"], score=r["score"], agent="teacher")],
                  vectors={"emb": r["vector"]})
        for r in rows
    ], batch_size=200)
    users = {}
    # Names of their own: the local Argilla is shared by the whole test session.
    for name in ("sdk-ana", "sdk-ben"):
        user = rg.User(username=name, password=f"{name}-pass-123", role="annotator", client=client).create()
        user.add_to_workspace(workspace)
        users[name] = user
    return client, dataset, rows, users


def _ids(records) -> list[str]:
    return [r.id for r in records]


def test_logs_1000_records_with_suggestions(review, local_argilla):
    _, dataset, rows, _ = review
    assert local_argilla.status().records >= N  # other tests' datasets share this Argilla
    assert dataset.progress()["total"] == N
    first = next(iter(dataset.records(query=rg.Query(query="message"), limit=1, with_suggestions=True)))
    assert first.suggestions["label"].agent == "teacher"


def test_search_filter_and_sort_through_sdk_queries(review):
    _, dataset, rows, _ = review
    expected = {r["external_id"] for r in rows if "coffee" in r["text"].split() and r["label"] == "refund"}
    assert set(_ids(dataset.records(query=rg.Query(query="coffee refund")))) == expected

    flt = rg.Filter([("metadata.teacher", "==", "gemma3-270m"), ("metadata.sim", ">=", 0.5),
                     ("label.suggestion", "==", "billing")])
    expected = {r["external_id"] for r in rows
                if r["teacher"] == "gemma3-270m" and r["sim"] >= 0.5 and r["label"] == "billing"}
    assert expected and set(_ids(dataset.records(query=rg.Query(filter=flt)))) == expected

    confident = rg.Filter(("label.score", ">=", 0.9))
    assert len(list(dataset.records(query=rg.Query(filter=confident)))) == sum(r["score"] >= 0.9 for r in rows)

    # Text query + range filter + sort + a page in the middle, through the search endpoint.
    api = review[0].api.http_client
    body = {"query": {"text": {"q": "tea"}},
            "filters": {"and": [{"type": "range", "scope": {"entity": "metadata", "metadata_property": "length"},
                                 "ge": 50}]},
            "sort": [{"scope": {"entity": "metadata", "metadata_property": "sim"}, "order": "desc"}]}
    resp = api.post(f"/api/v1/datasets/{dataset.id}/records/search", json=body, params={"limit": 10, "offset": 5})
    resp.raise_for_status()
    got = resp.json()
    matching = sorted((r for r in rows if "tea" in r["text"].split() and r["length"] >= 50),
                      key=lambda r: -r["sim"])
    assert got["total"] == len(matching)
    assert [i["record"]["external_id"] for i in got["items"]] == [r["external_id"] for r in matching[5:15]]


def test_metadata_metrics_through_the_api(review):
    client, dataset, rows, _ = review
    api = client.api.http_client
    props = api.get(f"/api/v1/me/datasets/{dataset.id}/metadata-properties").json()["items"]
    by_name = {p["name"]: p["id"] for p in props}
    terms = api.get(f"/api/v1/metadata-properties/{by_name['teacher']}/metrics").json()
    assert {v["term"]: v["count"] for v in terms["values"]} == {t: sum(r["teacher"] == t for r in rows) for t in TEACHERS}
    length = api.get(f"/api/v1/metadata-properties/{by_name['length']}/metrics").json()
    assert (length["min"], length["max"]) == (10, 59)


def _respond(dataset, user, decisions):
    """decisions: {external_id: (status, label or None)} submitted through the API as that user."""
    records = {r.id: r for r in dataset.records() if r.id in decisions}
    out = []
    for rid, (status, label) in decisions.items():
        record = records[rid]
        record.responses.add(rg.Response("label", label, user_id=user.id, status=status))
        out.append(record)
    dataset.records.log(out)


def test_two_users_respond_and_progress_is_per_user(review, local_argilla):
    client, dataset, rows, users = review
    ana, ben = users["sdk-ana"], users["sdk-ben"]
    ana_decisions = {f"rec-{i:04d}": ("submitted", rows[i]["label"]) for i in range(5)}
    ana_decisions.update({"rec-0005": ("draft", "shipping"), "rec-0006": ("draft", "refund"),
                          "rec-0007": ("discarded", None)})
    ben_decisions = {"rec-0000": ("submitted", "refund"), "rec-0001": ("submitted", "billing"),
                     "rec-0002": ("submitted", rows[2]["label"])}
    _respond(dataset, ana, ana_decisions)
    _respond(dataset, ben, ben_decisions)

    for name, want in (("sdk-ana", {"submitted": 5, "draft": 2, "discarded": 1}), ("sdk-ben", {"submitted": 3})):
        token = httpx.post(f"{local_argilla.url}/api/v1/token",
                           data={"username": name, "password": f"{name}-pass-123"}).json()["access_token"]
        metrics = httpx.get(f"{local_argilla.url}/api/v1/me/datasets/{dataset.id}/metrics",
                            headers={"Authorization": f"Bearer {token}"}).json()["responses"]
        assert {k: metrics[k] for k in ("submitted", "draft", "discarded")} == {
            "submitted": want.get("submitted", 0), "draft": want.get("draft", 0), "discarded": want.get("discarded", 0)}
        assert metrics["pending"] == N - sum(want.values())

    # min_submitted=2: the three records both users submitted are completed.
    assert dataset.progress()["completed"] == 3
    # Filters on responses: what ana submitted, and the one record where they disagree.
    api = client.api.http_client
    body = {"filters": {"and": [{"type": "terms", "scope": {"entity": "response", "property": "status"},
                                 "values": ["submitted"]}]}}
    got = api.post(f"/api/v1/datasets/{dataset.id}/records/search", json=body, params={"limit": 50}).json()
    assert got["total"] == 5  # records with any submitted response
    rec1 = next(r for r in dataset.records(with_responses=True) if r.id == "rec-0001")
    answers = {str(r.user_id): r.value for r in rec1.responses["label"]}
    assert answers == {str(ana.id): rows[1]["label"], str(ben.id): "billing"} and rows[1]["label"] != "billing"


def test_similarity_search_returns_the_nearest(review):
    _, dataset, rows, _ = review
    matrix = np.array([r["vector"] for r in rows])
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    target = rows[42]
    record = next(r for r in dataset.records() if r.id == target["external_id"])
    by_record = list(dataset.records(query=rg.Query(similar=rg.Similar(name="emb", value=record)), limit=5))
    cos = unit @ unit[42]
    cos[42] = -np.inf  # the query record itself is excluded
    expected = [rows[i]["external_id"] for i in np.argsort(-cos)[:5]]
    assert [rec.id for rec, _score in by_record] == expected

    probe = np.array(target["vector"]) + 0.01
    by_value = list(dataset.records(query=rg.Query(similar=rg.Similar(name="emb", value=probe.tolist())), limit=3))
    assert by_value[0][0].id == target["external_id"]


def test_records_update_and_delete(review):
    _, dataset, rows, _ = review
    record = next(r for r in dataset.records() if r.id == "rec-0999")
    record.metadata["teacher"] = "human"
    dataset.records.log([record])
    humans = _ids(dataset.records(query=rg.Query(filter=rg.Filter(("metadata.teacher", "==", "human")))))
    assert humans == ["rec-0999"]

    victims = [r for r in dataset.records() if r.id in ("rec-0998", "rec-0997")]
    dataset.records.delete(victims)
    left = {r.id for r in dataset.records(query=rg.Query(query="message"))}
    assert len(left) == N - 2 and "rec-0998" not in left
    assert dataset.progress()["total"] == N - 2
