"""The SQLite search engine against argilla-server's own models and filter/sort types.

Runs in argilla-server's virtualenv (tests/integration/test_argilla_search_engine.py starts
it there); the expected answers are what the Elasticsearch engine in argilla-server's
``search_engine/commons.py`` returns for the same calls.
"""

import asyncio
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest
from argilla_server.enums import RecordSortField, ResponseStatus, ResponseStatusFilter, SimilarityOrder, SortOrder
from argilla_server.models import (
    Dataset, Field, MetadataProperty, Question, Record, Response, Suggestion, User, Vector, VectorSettings,
)
from argilla_server.search_engine import (
    AndFilter, MetadataFilterScope, Order, RangeFilter, RecordFilterScope, ResponseFilterScope,
    SuggestionFilterScope, TermsFilter, TextQuery,
)
from sqlite_engine import SQLiteSearchEngine, fts_query

T0 = datetime(2026, 1, 1, 12, 0, 0)
USERS = {name: User(id=uuid4(), username=name) for name in ("ana", "ben")}


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def dataset():
    ds = Dataset(id=uuid4(), name="support", status="ready")
    ds.fields = [Field(name="text", settings={"type": "text"}), Field(name="reply", settings={"type": "text"})]
    ds.questions = [
        Question(id=uuid4(), name="label", settings={"type": "label_selection"}),
        Question(id=uuid4(), name="tags", settings={"type": "multi_label_selection"}),
        Question(id=uuid4(), name="quality", settings={"type": "rating"}),
        Question(id=uuid4(), name="comment", settings={"type": "text"}),
    ]
    ds.metadata_properties = [
        MetadataProperty(name="teacher", settings={"type": "terms"}),
        MetadataProperty(name="sim", settings={"type": "float"}),
        MetadataProperty(name="length", settings={"type": "integer"}),
    ]
    ds.vectors_settings = [VectorSettings(id=uuid4(), name="emb", dimensions=3)]
    return ds


def question(ds, name):
    return next(q for q in ds.questions if q.name == name)


# name, text, reply, label suggestion (score), metadata, vector, responses {user: (status, values)}
ROWS = [
    ("r0", "refund my espresso machine", "Sure", ("refund", 0.9), {"teacher": "gemma", "sim": 0.1, "length": 30},
     [1, 0, 0], {"ana": ("submitted", {"label": "refund", "quality": 5, "tags": ["urgent", "money"]}),
                 "ben": ("submitted", {"label": "billing", "quality": 3})}),
    ("r1", "where is my coffee order", "It ships", ("shipping", 0.8), {"teacher": "gemma", "sim": 0.5, "length": 24},
     [0.9, 0.1, 0], {"ana": ("discarded", {}), "ben": ("draft", {"label": "shipping", "quality": 4})}),
    ("r2", "coffee beans arrived stale", "Sorry", ("quality", 0.4), {"teacher": "smollm", "sim": 0.9, "length": 26},
     [0, 1, 0], {"ana": ("submitted", {"label": "quality", "quality": 2, "tags": ["money"]})}),
    ("r3", "cancel subscription please", "Done", ("billing", 0.6), {"teacher": ["smollm", "gemma"], "length": 27},
     [0.2, 0.9, 0.1], {}),
    ("r4", "my e-mail address changed", "Updated", None, {"sim": 0.3},
     [0, 0, 1], {}),
    ("r5", "espresso tastes burnt, refund?", "Coffee refund", ("refund", 0.95), {"teacher": "gemma", "length": 31},
     None, {}),
]


@pytest.fixture
def engine(tmp_path, dataset):
    engine = SQLiteSearchEngine(path=str(tmp_path / "search.db"))
    run(engine.create_index(dataset))
    records = {}
    for i, (name, text, reply, sugg, meta, vec, responses) in enumerate(ROWS):
        rec = Record(id=uuid4(), external_id=name, fields={"text": text, "reply": reply}, metadata_=meta,
                     dataset=dataset, dataset_id=dataset.id, inserted_at=T0 + timedelta(minutes=i),
                     updated_at=T0 + timedelta(minutes=10 - i),
                     status="completed" if len(responses) >= 2 else "pending")
        rec.suggestions = ([Suggestion(question=question(dataset, "label"), value=sugg[0], score=sugg[1],
                                       agent="teacher", type="model", record_id=rec.id)] if sugg else [])
        rec.vectors = [Vector(vector_settings_id=dataset.vectors_settings[0].id, value=vec)] if vec else []
        rec.responses = [Response(id=uuid4(), record_id=rec.id, user_id=USERS[u].id, status=ResponseStatus(s),
                                  values={q: {"value": v} for q, v in values.items()})
                         for u, (s, values) in responses.items()]
        records[name] = rec
    run(engine.index_records(dataset, list(records.values())))
    engine.records = records
    return engine


def names(engine, result):
    by_id = {r.id: n for n, r in engine.records.items()}
    return [by_id[item.record_id] for item in result.items]


def search(engine, dataset, **kw):
    return run(engine.search(dataset, **kw))


def test_text_query_is_and_across_all_fields_or_one(engine, dataset):
    assert sorted(names(engine, search(engine, dataset, query="coffee"))) == ["r1", "r2", "r5"]
    # AND by default: both words, possibly in different fields (r5 has "refund" in both).
    assert names(engine, search(engine, dataset, query="coffee refund")) == ["r5"]
    assert names(engine, search(engine, dataset, query=TextQuery(q="coffee", field="reply"))) == ["r5"]
    assert sorted(names(engine, search(engine, dataset, query=TextQuery(q="coffee", field="text")))) == ["r1", "r2"]
    with pytest.raises(Exception, match="Field nope not found"):
        search(engine, dataset, query=TextQuery(q="x", field="nope"))


def test_text_query_operators_phrase_prefix_not_or(engine, dataset):
    assert names(engine, search(engine, dataset, query='"coffee order"')) == ["r1"]
    assert names(engine, search(engine, dataset, query='"order coffee"')) == []
    assert sorted(names(engine, search(engine, dataset, query="espress*"))) == ["r0", "r5"]
    assert names(engine, search(engine, dataset, query="espresso -burnt")) == ["r0"]
    assert sorted(names(engine, search(engine, dataset, query="cancel | stale"))) == ["r2", "r3"]
    assert names(engine, search(engine, dataset, query="e-mail")) == ["r4"]
    assert fts_query("-only") == (None, ['"only"'])
    assert len(names(engine, search(engine, dataset, query="-coffee"))) == 3


def test_text_results_are_ranked_with_scores(engine, dataset):
    result = search(engine, dataset, query="refund")
    assert result.total == 2 and all(item.score > 0 for item in result.items)
    assert names(engine, result)[0] == "r5"  # two hits beat one


def test_record_and_metadata_filters(engine, dataset):
    completed = TermsFilter(scope=RecordFilterScope(property="status"), values=["completed"])
    assert sorted(names(engine, search(engine, dataset, filter=completed))) == ["r0", "r1"]
    gemma = TermsFilter(scope=MetadataFilterScope(metadata_property="teacher"), values=["gemma"])
    assert sorted(names(engine, search(engine, dataset, filter=gemma))) == ["r0", "r1", "r3", "r5"]
    sim = RangeFilter(scope=MetadataFilterScope(metadata_property="sim"), ge=0.3, le=0.9)
    assert sorted(names(engine, search(engine, dataset, filter=sim))) == ["r1", "r2", "r4"]
    longish = RangeFilter(scope=MetadataFilterScope(metadata_property="length"), ge=27)
    both = AndFilter(filters=[gemma, longish])
    assert sorted(names(engine, search(engine, dataset, filter=both))) == ["r0", "r3", "r5"]
    # Filters and text query combine.
    assert names(engine, search(engine, dataset, query="refund", filter=AndFilter([gemma, longish]))) == ["r5", "r0"]


def test_suggestion_filters(engine, dataset):
    refund = TermsFilter(scope=SuggestionFilterScope(question="label", property="value"), values=["refund"])
    assert sorted(names(engine, search(engine, dataset, filter=refund))) == ["r0", "r5"]
    confident = RangeFilter(scope=SuggestionFilterScope(question="label", property="score"), ge=0.8)
    assert sorted(names(engine, search(engine, dataset, filter=confident))) == ["r0", "r1", "r5"]
    agent = TermsFilter(scope=SuggestionFilterScope(question="label", property="agent"), values=["teacher"])
    assert search(engine, dataset, filter=agent).total == 5


def test_response_status_per_user_pending_means_no_response(engine, dataset):
    ana, ben = USERS["ana"], USERS["ben"]

    def status(values, user):
        f = TermsFilter(scope=ResponseFilterScope(property="status", user=user), values=values)
        return sorted(names(engine, search(engine, dataset, filter=f)))

    assert status([ResponseStatusFilter.pending], ana) == ["r3", "r4", "r5"]
    assert status([ResponseStatusFilter.pending], ben) == ["r2", "r3", "r4", "r5"]
    assert status([ResponseStatusFilter.submitted], ana) == ["r0", "r2"]
    assert status([ResponseStatusFilter.draft, ResponseStatusFilter.pending], ben) == ["r1", "r2", "r3", "r4", "r5"]
    assert status([ResponseStatusFilter.discarded], ana) == ["r1"]
    # Without a user: pending means nobody responded; submitted means anybody did.
    assert status([ResponseStatusFilter.pending], None) == ["r3", "r4", "r5"]
    assert status([ResponseStatusFilter.submitted], None) == ["r0", "r2"]


def test_response_value_filters_hold_within_one_users_response(engine, dataset):
    ana, ben = USERS["ana"], USERS["ben"]
    refund = lambda user: TermsFilter(scope=ResponseFilterScope(question="label", user=user), values=["refund"])
    assert names(engine, search(engine, dataset, filter=refund(ana))) == ["r0"]
    assert names(engine, search(engine, dataset, filter=refund(ben))) == []
    assert names(engine, search(engine, dataset, filter=refund(None))) == ["r0"]
    money = TermsFilter(scope=ResponseFilterScope(question="tags", user=ana), values=["money"])
    assert sorted(names(engine, search(engine, dataset, filter=money))) == ["r0", "r2"]
    good = RangeFilter(scope=ResponseFilterScope(question="quality"), ge=4)
    assert sorted(names(engine, search(engine, dataset, filter=good))) == ["r0", "r1"]
    # Rating values arrive from the API as strings, as ES coerces them.
    three = TermsFilter(scope=ResponseFilterScope(question="quality", user=ben), values=["3"])
    assert names(engine, search(engine, dataset, filter=three)) == ["r0"]


def test_sorts_with_missing_values_last(engine, dataset):
    inserted = lambda o: [Order(scope=RecordFilterScope(property=RecordSortField.inserted_at), order=o)]
    assert names(engine, search(engine, dataset, sort=inserted(SortOrder.asc))) == [f"r{i}" for i in range(6)]
    assert names(engine, search(engine, dataset, sort=inserted(SortOrder.desc))) == [f"r{i}" for i in reversed(range(6))]
    updated = [Order(scope=RecordFilterScope(property=RecordSortField.updated_at), order=SortOrder.asc)]
    assert names(engine, search(engine, dataset, sort=updated))[0] == "r5"
    sim = lambda o: [Order(scope=MetadataFilterScope(metadata_property="sim"), order=o)]
    assert names(engine, search(engine, dataset, sort=sim(SortOrder.asc))) == ["r0", "r4", "r1", "r2", "r3", "r5"]
    assert names(engine, search(engine, dataset, sort=sim(SortOrder.desc))) == ["r2", "r1", "r4", "r0", "r3", "r5"]
    # Multi-valued terms: min ascending, max descending (r3 has smollm and gemma).
    teacher = [Order(scope=MetadataFilterScope(metadata_property="teacher"), order=SortOrder.desc)]
    assert names(engine, search(engine, dataset, sort=teacher))[:2] == ["r2", "r3"]
    score = [Order(scope=SuggestionFilterScope(question="label", property="score"), order=SortOrder.desc)]
    assert names(engine, search(engine, dataset, sort=score)) == ["r5", "r0", "r1", "r3", "r2", "r4"]
    by_ana = [Order(scope=ResponseFilterScope(question="quality", user=USERS["ana"]), order=SortOrder.desc)]
    assert names(engine, search(engine, dataset, sort=by_ana))[:2] == ["r0", "r2"]
    # Sorting with a text query keeps the filter; scores are not reported when sorted.
    result = search(engine, dataset, query="coffee", sort=inserted(SortOrder.desc))
    assert names(engine, result) == ["r5", "r2", "r1"] and result.items[0].score is None


def test_pagination_and_totals(engine, dataset):
    order = [Order(scope=RecordFilterScope(property="inserted_at"), order=SortOrder.asc)]
    page = search(engine, dataset, sort=order, offset=2, limit=3)
    assert names(engine, page) == ["r2", "r3", "r4"] and page.total == 6
    last = search(engine, dataset, sort=order, offset=5, limit=3)
    assert names(engine, last) == ["r5"] and last.total == 6
    beyond = search(engine, dataset, sort=order, offset=10, limit=3)
    assert beyond.items == [] and beyond.total == 6
    assert search(engine, dataset, limit=0).total == 6


def test_user_order_is_a_stable_per_user_shuffle(engine, dataset):
    ana = [i.record_id for i in search(engine, dataset, user_id=USERS["ana"].id).items]
    again = [i.record_id for i in search(engine, dataset, user_id=USERS["ana"].id).items]
    ben = [i.record_id for i in search(engine, dataset, user_id=USERS["ben"].id).items]
    assert ana == again and sorted(ana) == sorted(ben) and len(set(ana)) == 6


def test_metadata_metrics(engine, dataset):
    teacher, sim, length = dataset.metadata_properties
    for p in dataset.metadata_properties:
        p.dataset = dataset
    terms = run(engine.compute_metrics_for(teacher))
    assert terms.total == 6  # values, not records: r3 carries two
    assert [(t.term, t.count) for t in terms.values] == [("gemma", 4), ("smollm", 2)]
    floats = run(engine.compute_metrics_for(sim))
    assert (floats.min, floats.max) == (0.1, 0.9)
    ints = run(engine.compute_metrics_for(length))
    assert (ints.min, ints.max, ints.type) == (24, 31, "integer")
    run(engine.delete_records(dataset, list(engine.records.values())))
    empty = run(engine.compute_metrics_for(sim))
    assert (empty.min, empty.max) == (None, None)
    assert run(engine.compute_metrics_for(teacher)).total == 0


def test_progress_for_dataset_and_each_user(engine, dataset):
    assert run(engine.get_dataset_progress(dataset)) == {"total": 6, "completed": 2, "pending": 4}
    assert run(engine.get_dataset_user_progress(dataset, USERS["ana"])) == {"total": 3, "submitted": 2, "discarded": 1}
    assert run(engine.get_dataset_user_progress(dataset, USERS["ben"])) == {"total": 2, "submitted": 1, "draft": 1}
    draft = Dataset(id=uuid4(), status="draft")
    assert run(engine.get_dataset_progress(draft)) == {}


def test_similarity_search(engine, dataset):
    vs = dataset.vectors_settings[0]
    r0 = engine.records["r0"]
    most = run(engine.similarity_search(dataset, vs, record=r0, max_results=3))
    assert names(engine, most) == ["r1", "r3", "r2"] and "r0" not in names(engine, most)
    assert most.items[0].score == pytest.approx((1 + 0.9 / (0.9**2 + 0.1**2) ** 0.5) / 2, abs=1e-5)
    least = run(engine.similarity_search(dataset, vs, value=[1, 0, 0], order=SimilarityOrder.least_similar, max_results=2))
    assert set(names(engine, least)) == {"r2", "r4"}
    smollm = TermsFilter(scope=MetadataFilterScope(metadata_property="teacher"), values=["smollm"])
    filtered = run(engine.similarity_search(dataset, vs, record=r0, filter=smollm))
    assert names(engine, filtered) == ["r3", "r2"]
    text = run(engine.similarity_search(dataset, vs, value=[1, 0, 0], query="coffee"))
    assert names(engine, text) == ["r1", "r2"]  # r5 has no vector
    cut = run(engine.similarity_search(dataset, vs, record=r0, threshold=0.9))
    assert names(engine, cut) == ["r1"] and cut.total == 4
    with pytest.raises(ValueError):
        run(engine.similarity_search(dataset, vs))


def test_updates_reach_the_index(engine, dataset):
    r3, ana = engine.records["r3"], USERS["ana"]
    pending = TermsFilter(scope=ResponseFilterScope(property="status", user=ana), values=["pending"])
    response = Response(id=uuid4(), record_id=r3.id, user_id=ana.id, status=ResponseStatus.draft,
                        values={"label": {"value": "billing"}})
    run(engine.update_record_response(response))
    assert "r3" not in names(engine, search(engine, dataset, filter=pending))
    response.status, response.values = ResponseStatus.submitted, {"label": {"value": "refund"}}
    run(engine.update_record_response(response))
    refund = TermsFilter(scope=ResponseFilterScope(question="label", user=ana), values=["refund"])
    assert sorted(names(engine, search(engine, dataset, filter=refund))) == ["r0", "r3"]
    assert run(engine.get_dataset_user_progress(dataset, ana))["submitted"] == 3
    run(engine.delete_record_response(response))
    assert "r3" in names(engine, search(engine, dataset, filter=pending))

    run(engine.partial_record_update(r3, status="completed"))
    completed = TermsFilter(scope=RecordFilterScope(property="status"), values=["completed"])
    assert "r3" in names(engine, search(engine, dataset, filter=completed))

    suggestion = r3.suggestions[0]
    suggestion.value, suggestion.score = "refund", 0.99
    run(engine.update_record_suggestion(suggestion))
    sugg = TermsFilter(scope=SuggestionFilterScope(question="label", property="value"), values=["refund"])
    assert sorted(names(engine, search(engine, dataset, filter=sugg))) == ["r0", "r3", "r5"]
    run(engine.delete_record_suggestion(suggestion))
    assert "r3" not in names(engine, search(engine, dataset, filter=sugg))

    # Re-indexing a record replaces its document: the old text no longer matches.
    r3.fields = {"text": "brand new words", "reply": ""}
    run(engine.index_records(dataset, [r3]))
    assert names(engine, search(engine, dataset, query="cancel")) == []
    assert names(engine, search(engine, dataset, query="brand")) == ["r3"]
    assert search(engine, dataset).total == 6

    run(engine.delete_records(dataset, [r3]))
    assert search(engine, dataset).total == 5 and names(engine, search(engine, dataset, query="brand")) == []
    run(engine.delete_index(dataset))
    assert search(engine, dataset).total == 0


def test_datasets_are_isolated(engine, dataset, tmp_path):
    other = Dataset(id=uuid4(), name="other", status="ready", fields=[Field(name="text", settings={"type": "text"})],
                    questions=[], metadata_properties=[], vectors_settings=[])
    run(engine.create_index(other))
    rec = Record(id=uuid4(), fields={"text": "coffee coffee"}, metadata_={}, dataset=other, status="pending",
                 inserted_at=T0, updated_at=T0)
    rec.responses, rec.suggestions, rec.vectors = [], [], []
    run(engine.index_records(other, [rec]))
    assert search(engine, dataset, query="coffee").total == 3
    assert search(engine, other, query="coffee").total == 1
    assert run(engine.ping()) and run(engine.info())["documents"] == 7
