"""The label-consistency critic's decisions on planted rows, and what curation does with them.

Vectors come from scikit-learn's hashing bag of words (no model to load): a row made of two seeds
of one label reads as that label, so giving it the next label plants a mislabelled row.
"""

from __future__ import annotations

import pytest
from sklearn.feature_extraction.text import HashingVectorizer

from workbench.generate.critic import Critic, CriticError
from workbench.generate.curate import ListCurator
from workbench.manifest import SyntheticManifest
from workbench.tasks import CriticSpec, load_task

_HASH = HashingVectorizer(n_features=256, alternate_sign=False, norm="l2")


def embed(texts):
    return _HASH.transform(texts).toarray()


@pytest.fixture(scope="module")
def planted():
    """(spec, texts, intended labels, true labels): per label one right row and one mislabelled."""
    spec = load_task("support_intents")
    by_label: dict[str, list[str]] = {}
    for r in spec.seed_examples:
        by_label.setdefault(r["label"], []).append(r["text"])
    labels = list(by_label)
    texts, intended, truth = [], [], []
    for i, label in enumerate(labels):
        text = by_label[label][0] + " " + by_label[label][1]
        texts += [text, text]
        intended += [label, labels[(i + 1) % len(labels)]]
        truth += [label, label]
    return spec, texts, intended, truth


def test_right_rows_pass_and_mislabelled_rows_fail_low_margin(planted):
    spec, texts, intended, truth = planted
    verdicts = Critic.fit(spec, embed).judge(texts, intended)
    for v, want, true in zip(verdicts, intended, truth):
        assert v.vote == true  # the nearest seeds name the row's real label
        if want == true:
            assert v.passed and v.reasons == () and v.margin > 0.5 and v.logprob is None
        else:
            assert not v.passed and "low_margin" in v.reasons and v.margin < -0.5


def test_each_signal_names_its_own_reason(planted):
    spec, texts, intended, truth = planted
    wrong = [i for i, (w, t) in enumerate(zip(intended, truth)) if w != t]
    x, y = [texts[i] for i in wrong], [intended[i] for i in wrong]
    vote_only = Critic.fit(spec, embed, CriticSpec(min_margin=-1.0, min_vote_share=0.6)).judge(x, y)
    assert all(v.reasons == ("seed_vote",) for v in vote_only)
    lenient = Critic.fit(spec, embed, CriticSpec(min_margin=-1.0, min_vote_share=0.0)).judge(x, y)
    assert all(v.passed for v in lenient)


def test_logprob_needs_a_llamacpp_teacher(planted):
    with pytest.raises(CriticError, match="logprob: false"):
        Critic.fit(planted[0], embed, CriticSpec(logprob=True))


def _entry(spec, texts, label):
    """A journal entry of the teacher listing ``texts`` for ``label`` (a completion prompt's continuation)."""
    body = "\n".join(f"{k + 6}. {t}" for k, t in enumerate(texts))
    return {"job": f"r0-{label}-0000", "stage": "generate", "label": label, "round": 0, "index": 0,
            "text": " " + body.split(" ", 1)[1], "output_tokens": 10}


@pytest.mark.parametrize("action", ["drop", "review"])
def test_curation_drops_or_flags_failed_rows_and_counts_them(planted, action):
    spec, texts, intended, truth = planted
    # Under one label: its own right row, and the previous label's row (mislabelled as this one).
    label = intended[1]
    right = next(t for t, w, tr in zip(texts, intended, truth) if w == tr == label)
    wrong = texts[1]
    cur = ListCurator(spec, embed, continuation=True, critic=CriticSpec(action=action))
    kept, counts = cur.curate([_entry(spec, [wrong, right], label)])  # the passing row comes first all the same
    rows = kept[label]
    assert rows[0]["text"] == right and rows[0]["critic_pass"] is True and rows[0]["critic_vote"] == label
    assert rows[0]["critic_margin"] > 0.5 and "critic_logprob" not in rows[0]
    critic = SyntheticManifest(kind="synthetic", critic=counts["critic"]).critic
    assert (critic.checked, critic.passed, critic.failed, critic.action) == (2, 1, 1, action)
    assert critic.reasons["low_margin"] == 1
    if action == "drop":
        assert len(rows) == 1 and critic.dropped == 1 and critic.review_first == 0
        assert counts["rejected"]["critic"] == 1
    else:
        assert rows[1]["text"] == wrong and rows[1]["critic_pass"] is False and rows[1]["critic_vote"] == truth[1]
        assert critic.dropped == 0 and critic.review_first == 1 and "critic" not in counts["rejected"]


def test_without_a_critic_rows_carry_no_critic_columns(planted):
    spec, texts, intended, _ = planted
    kept, counts = ListCurator(spec, embed, continuation=True).curate([_entry(spec, texts[:2], intended[1])])
    assert len(kept[intended[1]]) == 1 and "critic" not in counts  # the exact repeat goes, the critic never ran
    assert not any(k.startswith("critic") for k in kept[intended[1]][0])
