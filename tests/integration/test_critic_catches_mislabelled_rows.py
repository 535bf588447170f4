"""User story: a teacher writes messages under the wrong intent; the critic keeps them out.

A planted synthetic set on clinc_bank (real banking messages, never the held-out ones): 60 of its
validation rows under their own intent, and the same 60 under the intent whose seeds look most
like theirs (a confusable wrong label, the mistake a teacher makes). The critic, trained on the
150 seeds with the real MiniLM, must let the right rows through and catch the mislabelled ones;
curation then drops them and the manifest counts them.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from workbench.generate.critic import Critic
from workbench.generate.curate import ListCurator
from workbench.manifest import SyntheticManifest
from workbench.tasks import CriticSpec, load_task


@pytest.fixture(scope="module")
def clinc():
    """(spec, MiniLM embed, 60 validation rows, confusable wrong label per label)."""
    from workbench.models import load_embedder

    spec = load_task("clinc_bank")
    model = load_embedder("minilm-l6")

    def embed(texts):
        return model.encode(list(texts), normalize_embeddings=True, batch_size=64, show_progress_bar=False)

    rows = spec.validation_examples()[::10]
    seeds = spec.seed_examples
    vectors = embed([r["text"] for r in seeds])
    names = spec.label_names
    centroid = np.stack([vectors[[r["label"] == lab for r in seeds]].mean(0) for lab in names])
    sims = centroid @ centroid.T
    np.fill_diagonal(sims, -1.0)
    confusable = {lab: names[int(sims[i].argmax())] for i, lab in enumerate(names)}
    return spec, embed, rows, confusable


def test_the_critic_passes_real_rows_and_catches_confusable_labels(clinc):
    spec, embed, rows, confusable = clinc
    critic = Critic.fit(spec, embed)
    texts = [r["text"] for r in rows]
    right = critic.judge(texts, [r["label"] for r in rows])
    wrong = critic.judge(texts, [confusable[r["label"]] for r in rows])
    assert np.mean([v.passed for v in right]) >= 0.9  # 0.967 of all 600 validation rows pass
    assert np.mean([not v.passed for v in wrong]) >= 0.85  # 0.932 of all 600 are caught
    assert np.mean([v.vote == r["label"] for v, r in zip(wrong, rows)]) >= 0.8  # the vote names the real one


def test_curation_drops_the_mislabelled_rows_and_counts_them(clinc):
    spec, embed, rows, confusable = clinc
    # The label most rows of other labels are confusable with: its list holds its own rows and theirs.
    label = Counter(confusable[r["label"]] for r in rows).most_common(1)[0][0]
    own = [r["text"] for r in rows if r["label"] == label]
    planted = [r["text"] for r in rows if confusable[r["label"]] == label and r["label"] != label][:2]
    assert own and planted
    body = "\n".join(f"{k + 6}. {t}" for k, t in enumerate(own + planted))
    entry = {"job": f"r0-{label}-0000", "stage": "generate", "label": label, "round": 0, "index": 0,
             "text": " " + body.split(" ", 1)[1], "output_tokens": 10}
    kept, counts = ListCurator(spec, embed, continuation=True, critic=CriticSpec()).curate([entry])
    assert [r["text"] for r in kept[label]] == own
    critic = SyntheticManifest(kind="synthetic", critic=counts["critic"]).critic
    assert critic.checked == len(own) + len(planted) and critic.dropped == len(planted) == critic.failed
    assert critic.reasons.get("low_margin", 0) + critic.reasons.get("seed_vote", 0) >= len(planted)
