"""Argilla dataset settings built from a task spec, and the check that an existing one agrees.

Classification: the message as a field; a label question (the teacher's label as a
suggestion, scored by how many of its nearest seeds share it); metadata; MiniLM vectors so
reviewers can pull up similar records. Generation: the customer's message and the teacher's
reply as fields; a text question holding the corrected reply (the teacher's as suggestion)
and the spec's rating question.

Example:
    >>> from workbench.tasks import load_task
    >>> settings = build_settings(load_task("support_intents"))
    >>> [q.name for q in settings.questions]
    ['label']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.errors import WorkbenchError
from workbench.tasks import OUT_OF_SCOPE, TaskSpec

if TYPE_CHECKING:
    import argilla as rg

VECTOR_NAME = "minilm"
VECTOR_DIM = 384
# ``source`` tells reviewers a real message (the team's own log, labelled by the student) from a
# teacher's synthetic one; ``confidence`` is the student's calibrated confidence, to sort by;
# ``critic`` ("passed" / "review_first") and ``critic_margin`` are Generate's critic's verdict.
METADATA = {"teacher": "terms", "template": "terms", "version": "terms", "similarity": "float", "length": "integer",
            "source": "terms", "confidence": "float", "critic": "terms", "critic_margin": "float"}


class ReviewError(WorkbenchError, RuntimeError):
    """A review problem, with what to do about it in the message; nothing was changed."""


def text_fields(spec: TaskSpec) -> list[str]:
    """The record fields reviewers read: the message, and for generation the teacher's reply."""
    return ["text"] if spec.type == "classification" else ["input", "output"]


def answer_question(spec: TaskSpec) -> str:
    """The question whose answer becomes the training target (label, or corrected reply)."""
    kinds = {"classification": ("label",), "generation": ("text",)}[spec.type]
    for q in spec.review.questions:
        if q.kind in kinds:
            return q.name
    raise ReviewError(f"task {spec.name!r}: review.questions needs a question of kind {kinds[0]!r} "
                      f"for the {'label' if spec.type == 'classification' else 'corrected reply'}")


def review_labels(spec: TaskSpec) -> list[str]:
    """The choices of the label question: the task's labels, and "none of these" (``out_of_scope``)
    when the task abstains on messages that fit no intent."""
    oos = spec.out_of_scope is not None and spec.out_of_scope.enabled
    return spec.label_names + ([OUT_OF_SCOPE] if oos else [])


def build_settings(spec: TaskSpec) -> "rg.Settings":
    """The Argilla settings for a task spec's review."""
    import argilla as rg

    answer_question(spec)  # fail early with the spec's problem, not Argilla's
    titles = {"text": "Message", "input": "Customer message", "output": "Teacher's reply"}
    fields = [rg.TextField(name=f, title=titles[f]) for f in text_fields(spec)]
    questions = []
    for q in spec.review.questions:
        if q.kind == "label":
            questions.append(rg.LabelQuestion(name=q.name, title=q.title, labels=review_labels(spec),
                                              required=q.required))
        elif q.kind == "multi_label":
            questions.append(rg.MultiLabelQuestion(name=q.name, title=q.title, labels=spec.label_names,
                                                   required=q.required))
        elif q.kind == "rating":
            questions.append(rg.RatingQuestion(name=q.name, title=q.title, values=[1, 2, 3, 4, 5],
                                               required=q.required))
        else:
            questions.append(rg.TextQuestion(name=q.name, title=q.title, required=q.required))
    kinds = {"terms": rg.TermsMetadataProperty, "float": rg.FloatMetadataProperty,
             "integer": rg.IntegerMetadataProperty}
    metadata = [kinds[kind](name=name) for name, kind in METADATA.items()]
    guidelines = spec.review.guidelines or spec.description
    return rg.Settings(fields=fields, questions=questions, metadata=metadata, guidelines=guidelines,
                       vectors=[rg.VectorField(name=VECTOR_NAME, dimensions=VECTOR_DIM)])


def _shape(settings: "rg.Settings") -> dict:
    questions = {}
    for q in settings.questions:
        labels = getattr(q, "labels", None)
        questions[q.name] = (type(q).__name__, tuple(labels) if labels else None)
    return {"fields": sorted(f.name for f in settings.fields), "questions": questions}


def check_compatible(dataset: "rg.Dataset", spec: TaskSpec) -> None:
    """Raise ReviewError when an existing Argilla dataset disagrees with the task spec."""
    want, have = _shape(build_settings(spec)), _shape(dataset.settings)
    if want == have:
        return
    problems = []
    if want["fields"] != have["fields"]:
        problems.append(f"fields {have['fields']} in Argilla, {want['fields']} in the spec")
    for name in sorted(set(want["questions"]) | set(have["questions"])):
        w, h = want["questions"].get(name), have["questions"].get(name)
        if w != h:
            problems.append(f"question {name!r}: {h or 'missing'} in Argilla, {w or 'missing'} in the spec")
    raise ReviewError(f"the Argilla dataset {dataset.name!r} does not match task {spec.name!r}: "
                      + "; ".join(problems)
                      + ". Nothing was changed: review under another dataset name (--dataset) or delete it in Argilla.")
