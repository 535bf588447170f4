"""The ``auto`` review policy: a separate reviewer account answers records nobody reviewed.

Rule (documented, deterministic, and cheap enough for a pipeline):
- classification: the record's 5 nearest seed messages (MiniLM cosine) vote; when the
  teacher's label wins the vote with at least 3 of 5, the suggestion is submitted as is;
  otherwise the record is discarded;
- generation: the teacher's reply is submitted (rated 3) when its message is close to a seed
  message (cosine >= 0.35) and the reply is not empty; otherwise discarded.

Its answers are Argilla responses by the user ``auto-reviewer``, so they show in the UI as
such, and :mod:`workbench.review.pull` marks them ``decided_by: auto`` and lets any human's
answer win over them.
"""

from __future__ import annotations

import secrets

import numpy as np

from workbench.review.schema import answer_question
from workbench.tasks import TaskSpec

AUTO_REVIEWER = "auto-reviewer"
MIN_VOTE = 0.6
MIN_SEED_SIMILARITY = 0.35
# Response statuses that decide a record; drafts do not.
FINAL = ("submitted", "discarded")


def reviewer_account(client, workspace: str):
    """The auto-reviewer user, created (annotator, random password) and added to the workspace."""
    import argilla as rg

    user = client.users(AUTO_REVIEWER)
    if user is None:
        user = rg.User(username=AUTO_REVIEWER, first_name="Auto", last_name="Reviewer",
                       password=secrets.token_urlsafe(18), role="annotator", client=client).create()
    ws = client.workspaces(workspace)
    if ws is not None and AUTO_REVIEWER not in {u.username for u in ws.users}:
        user.add_to_workspace(ws)
    return user


def decisions(spec: TaskSpec, rows: list[dict]) -> list[tuple[str, object]]:
    """(status, value) per row by the rule above; rows carry the record fields and suggestion."""
    from workbench.models import embed
    from workbench.review.sync import neighbour_votes

    main = "text" if spec.type == "classification" else "input"
    vectors = embed([r[main] for r in rows])
    out = []
    if spec.type == "classification":
        for row, vote in zip(rows, neighbour_votes(spec, vectors)):
            top = max(vote, key=vote.get)
            ok = top == row["suggestion"] and vote[top] >= MIN_VOTE
            out.append(("submitted", row["suggestion"]) if ok else ("discarded", None))
        return out
    seed_vectors = embed([s["input"] for s in spec.seed_examples])
    nearest = (vectors @ seed_vectors.T).max(axis=1) if len(seed_vectors) else np.zeros(len(rows))
    for row, sim in zip(rows, nearest):
        ok = sim >= MIN_SEED_SIMILARITY and bool((row["suggestion"] or "").strip())
        out.append(("submitted", row["suggestion"]) if ok else ("discarded", None))
    return out


def auto_review(client, dataset, spec: TaskSpec, records: list[dict], questions: dict, users: dict,
                workspace: str) -> int:
    """Answer, as the auto-reviewer, every record without a submitted or discarded response."""
    import argilla as rg

    question = answer_question(spec)
    todo = {}
    for r in records:
        if not any(x["status"] in FINAL for x in r.get("responses") or []):
            suggestion = next((s["value"] for s in r.get("suggestions") or []
                               if questions.get(s["question_id"]) == question), None)
            todo[r["external_id"]] = {**r["fields"], "suggestion": suggestion}
    if not todo:
        return 0
    user = reviewer_account(client, workspace)
    ids = list(todo)
    answers = dict(zip(ids, decisions(spec, [todo[i] for i in ids])))
    rating = next((q.name for q in spec.review.questions if q.kind == "rating"), None)
    batch = []
    for record in dataset.records(with_responses=True):
        if record.id not in answers:
            continue
        status, value = answers[record.id]
        record.responses.add(rg.Response(question, value, user_id=user.id, status=status))
        if rating and status == "submitted":
            record.responses.add(rg.Response(rating, 3, user_id=user.id, status=status))
        batch.append(record)
    dataset.records.log(batch)
    return len(batch)
