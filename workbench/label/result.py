"""What one labelling round did: the typed ``label.json`` of its run folder, and how it shows.

Example:
    >>> r = LabelRecord(task="clinc_bank", pool_version="v001", pool_size=2, model="embeddings",
    ...                 strategy="random", budget=1, chosen=[ChosenMessage(id="a", text="hi",
    ...                 label="balance", confidence=0.4)], confidence_histogram=[1, 1],
    ...                 confidence_bins=[0.0, 0.5, 1.0])
    >>> r.per_label
    {'balance': 1}
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from markupsafe import escape
from pydantic import BaseModel, Field

from workbench.html import html_table
from workbench.records import JsonRecord

RECORD = "label.json"


class ChosenMessage(BaseModel):
    """A pool message sent to review, with the model's suggestion."""

    id: str
    text: str
    label: str = Field(description="The model's label (or out_of_scope when it abstained).")
    confidence: float = Field(description="Its calibrated probability of that label.")


class LabelRecord(JsonRecord):
    """``label.json``: one round of `workbench label`."""

    task: str
    pool_version: str
    pool_size: int = Field(description="Pool messages scored.")
    model: str = Field(description="Who labelled: 'embeddings' or the fine-tuned run's id.")
    validation_accuracy: dict[str, float] | None = Field(
        None, description="With model 'auto': each model considered, by its accuracy on the validation rows.")
    strategy: str
    budget: int
    seed: int = 0
    excluded: int = Field(0, description="Pool messages left out: already in Argilla or already reviewed.")
    chosen: list[ChosenMessage]
    abstained: int = Field(0, description="Pool messages the out-of-scope gate turned away.")
    confidence_histogram: list[int] = Field(description="Pool messages per confidence bin.")
    confidence_bins: list[float]
    pushed: int | None = Field(None, description="New records logged to Argilla (None: not pushed).")
    argilla: str | None = Field(None, description="The Argilla URL and dataset they went to.")
    pseudo_labels: str | None = Field(None, description="The pseudo-label version saved, if asked for.")
    pseudo_labelled: int | None = None
    pseudo_threshold: float | None = None

    @property
    def per_label(self) -> dict[str, int]:
        """Messages sent to review per suggested intent."""
        return dict(sorted(Counter(c.label for c in self.chosen).items()))


class LabelResult:
    """The round's record and the folder it lives in; shows as a table and a plot in a notebook."""

    def __init__(self, run_dir: Path, record: LabelRecord):
        self.run_dir, self.record = run_dir, record

    def to_dict(self) -> dict:
        return {"run_dir": str(self.run_dir), **self.record.to_json_dict(), "per_label": self.record.per_label}

    def __str__(self) -> str:
        r = self.record
        where = f"; pushed {r.pushed} new to {r.argilla}" if r.pushed is not None else "; not pushed"
        pseudo = f"; {r.pseudo_labelled} pseudo-labels saved as {r.pseudo_labels}" if r.pseudo_labels else ""
        return (f"{r.task}: chose {len(r.chosen)} of {r.pool_size} pool messages ({r.pool_version}) for review "
                f"by {r.strategy} with {r.model}{where}{pseudo}; {r.abstained} look out of scope")

    def figure(self):
        """Two panels: the model's confidence over the pool, and messages to review per intent."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        r = self.record
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.2))
        edges = r.confidence_bins
        left.bar(edges[:-1], r.confidence_histogram, width=[b - a for a, b in zip(edges, edges[1:])], align="edge")
        left.set(title=f"confidence over the pool ({r.pool_size})", xlabel="calibrated confidence", ylabel="messages")
        labels = r.per_label
        right.barh(list(labels), list(labels.values()))
        right.set(title=f"to review per intent ({len(r.chosen)}, {r.strategy})", xlabel="messages")
        right.tick_params(axis="y", labelsize=7)
        fig.tight_layout()
        return fig

    def _repr_html_(self) -> str:
        r = self.record
        compared = ", ".join(f"{m} {a:.3f}" for m, a in (r.validation_accuracy or {}).items())
        facts = {"pool": f"{r.pool_version} ({r.pool_size} messages)",
                 "model": r.model + (f" (validation accuracy: {compared})" if compared else ""), "strategy": r.strategy,
                 "chosen": len(r.chosen), "left out (already in review)": r.excluded,
                 "out of scope (abstained)": r.abstained,
                 "pushed to Argilla": r.pushed if r.pushed is not None else "no", "Argilla": r.argilla or "-"}
        if r.pseudo_labels:
            facts["pseudo-labels"] = f"{r.pseudo_labelled} in {r.pseudo_labels} (threshold {r.pseudo_threshold})"
        sample = [{"text": c.text, "suggested": c.label, "confidence": round(c.confidence, 3)} for c in r.chosen[:10]]
        return (f"<b>{escape(r.task)}: label round</b>" + html_table(facts, headers=("label", ""))
                + html_table(r.per_label, headers=("intent", "to review")) + html_table(sample))
