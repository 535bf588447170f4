"""Stand-in students for the service's unit tests: the duck type the service serves, no model.

The HTTP layer is what these tests check; a real student is loaded only in
tests/integration/test_serve_round_trip.py.
"""

from __future__ import annotations

import threading

from workbench.train.predict import check_inputs


class KeywordClassifier:
    """Labels a text by the first label name it contains (else the first label)."""

    objective = "classify"

    def __init__(self, labels: list[str]):
        self.labels = labels
        self.calls: list[list[str]] = []
        self.release = threading.Event()
        self.release.set()

    def predict_proba(self, texts: list[str], batch_size: int = 32) -> list[dict[str, float]]:
        self.release.wait(10)
        self.calls.append(list(texts))
        out = []
        for text in texts:
            hit = next((lab for lab in self.labels if lab in text), self.labels[0])
            rest = (1 - 0.9) / (len(self.labels) - 1)
            out.append({lab: 0.9 if lab == hit else rest for lab in self.labels})
        return out

    def predict(self, texts, batch_size: int = 32, max_new_tokens: int = 128) -> list[str]:
        probs = self.predict_proba(check_inputs(texts, batch_size), batch_size)
        return [max(p, key=p.get) for p in probs]


class EchoGenerator:
    """Replies 'echo: <text>' cut to max_new_tokens words."""

    objective = "sft"
    labels = None

    def __init__(self):
        self.calls: list[tuple[list[str], int]] = []

    def predict(self, texts, batch_size: int = 8, max_new_tokens: int = 128) -> list[str]:
        texts = check_inputs(texts, batch_size)
        self.calls.append((list(texts), max_new_tokens))
        return [" ".join(f"echo: {t}".split()[:max_new_tokens]) for t in texts]
