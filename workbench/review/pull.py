"""Bring reviewed data back from Argilla as a versioned dataset that keeps every decision.

Per record: the final label (or corrected reply), the decision (``accepted`` the teacher's
suggestion, ``corrected`` it, or ``discarded`` the record), who decided (``human`` or
``auto``: the auto-reviewer's answers never pass as human ones and lose to any human's), the
reviewers, and their agreement when two or more answered. Drafts do not count. Records
nobody reviewed are left out and counted. The manifest keeps the parent synthetic versions,
counts per decision and label, acceptance per label and the team's agreement (Cohen's kappa
for two reviewers, Krippendorff's alpha for more).

Example:
    >>> from workbench.review import ReviewConfig, run_pull
    >>> result = run_pull(ReviewConfig(task="support_intents"))    # doctest: +SKIP
    >>> result.version.load()                                       # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from workbench.review.agreement import cohen_kappa, krippendorff_alpha, unit_agreement
from workbench.review.config import ReviewConfig
from workbench.review.policies import AUTO_REVIEWER, FINAL, auto_review
from workbench.review.schema import ReviewError, answer_question, text_fields
from workbench.review.sync import open_dataset
from workbench.manifest import ReviewedManifest
from workbench.locks import run_lock
from workbench.store import DatasetVersion, data_hash, latest_version, save_version
from workbench.tasks import TaskSpec, load_task

DISCARDED = "discarded"
PAGE = 500


class ReviewPending(ReviewError):
    """Policy ``wait``: not enough records are reviewed yet; run again later (CLI exit code 3)."""

    exit_code = 3

    def __init__(self, waiting: int, url: str, dataset: str):
        super().__init__(f"{waiting} records await review at {url} (dataset {dataset}); "
                         "run again once they are reviewed")
        self.waiting, self.url = waiting, url


@dataclass
class PullResult:
    """The reviewed version written (or the identical one already there) and its figures."""

    version: DatasetVersion
    url: str
    reused: bool
    counts: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"version": self.version.version, "path": str(self.version.path), "url": self.url,
                "reused": self.reused, **self.counts}

    def __str__(self) -> str:
        c = self.counts
        return (f"{'kept' if self.reused else 'saved'} {self.version.task} reviewed {self.version.version}: "
                f"{c['reviewed']} reviewed ({', '.join(f'{k} {v}' for k, v in c['decisions'].items())}), "
                f"{c['unreviewed']} not yet reviewed; agreement {c['agreement']['method']} = "
                f"{c['agreement']['value'] if c['agreement']['value'] is not None else 'n/a'}")

    def _repr_html_(self) -> str:
        from workbench.html import html_table

        c = self.counts
        agreement = c.get("agreement") or {}
        summary = {"version": f"{self.version.task} reviewed {self.version.version}"
                              + (" (identical to the last pull: kept)" if self.reused else ""),
                   "reviewed": c.get("reviewed"), "not yet reviewed": c.get("unreviewed"),
                   **{k: v for k, v in (c.get("decisions") or {}).items()},
                   f"agreement ({agreement.get('method', '-')})": agreement.get("value"), "Argilla": self.url}
        acceptance = c.get("acceptance_by_suggested_label") or {}
        labels = [{"label": lab, "rows kept": c.get("per_label", {}).get(lab, 0),
                   "suggestions accepted": acceptance.get(lab)}
                  for lab in dict.fromkeys([*(c.get("per_label") or {}), *acceptance])]
        return html_table(summary, headers=("pull", "")) + (html_table(labels) if labels else "")


def fetch(client, dataset) -> tuple[list[dict], dict[str, str], dict[str, str]]:
    """Raw records with responses and suggestions, question names by id, usernames by id.

    The REST API rather than the SDK's record objects: those drop a discarded response
    that carries no values, and a discard is a decision to keep.
    """
    http = client.api.http_client
    questions = {q["id"]: q["name"] for q in http.get(f"/api/v1/datasets/{dataset.id}/questions").json()["items"]}
    users = {u["id"]: u["username"] for u in http.get("/api/v1/users").json()["items"]}
    records, offset = [], 0
    while True:
        resp = http.get(f"/api/v1/datasets/{dataset.id}/records",
                        params=[("include", "responses"), ("include", "suggestions"), ("offset", offset),
                                ("limit", PAGE)])
        resp.raise_for_status()
        items = resp.json()["items"]
        records += items
        if len(items) < PAGE:
            return records, questions, users
        offset += PAGE


def _same(a, b) -> bool:
    norm = lambda v: " ".join(str(v).split()) if v is not None else None
    return norm(a) == norm(b)


def decide(spec: TaskSpec, record: dict, questions: dict, users: dict) -> dict | None:
    """The decision on one raw record, or None when nobody has reviewed it."""
    question = answer_question(spec)
    suggestion = next((s["value"] for s in record.get("suggestions") or []
                       if questions.get(s["question_id"]) == question), None)
    final = [r for r in record.get("responses") or [] if r["status"] in FINAL]
    humans = [r for r in final if users.get(r["user_id"]) != AUTO_REVIEWER]
    deciders = humans or final
    if not deciders:
        return None
    answers = [DISCARDED if r["status"] == DISCARDED else (r.get("values") or {}).get(question, {}).get("value")
               for r in deciders]
    tally = Counter(answers)
    top = max(tally.values())
    winners = [a for a in answers if tally[a] == top]
    # Ties go to the teacher's suggestion when it is among them, else to the earliest answer.
    chosen = suggestion if any(_same(w, suggestion) for w in winners) else winners[0]
    decision = DISCARDED if chosen == DISCARDED else "accepted" if _same(chosen, suggestion) else "corrected"
    row = {"id": record["external_id"]}
    for name in text_fields(spec):
        row[name] = record["fields"].get(name)
    target = "label" if spec.type == "classification" else "output"
    row[target] = None if decision == DISCARDED else chosen
    ratings = [v["value"] for r in deciders for k, v in (r.get("values") or {}).items()
               if k != question and isinstance(v.get("value"), (int, float))]
    row.update(suggestion=suggestion, decision=decision, decided_by="human" if humans else "auto",
               reviewers=sorted(users.get(r["user_id"], r["user_id"]) for r in deciders),
               agreement=unit_agreement([str(a) for a in answers]),
               rating=sum(ratings) / len(ratings) if ratings else None,
               **_lineage(record.get("metadata") or {}))
    row["_answers"] = {users.get(r["user_id"], r["user_id"]): str(a) for r, a in zip(deciders, answers)}
    return row


def _lineage(metadata: dict) -> dict:
    """Where a record came from: ``source`` (``synthetic``, a teacher's row; ``real``, a message of the
    task's own log the student labelled), the version it was pushed from, and its teacher or student."""
    source = metadata.get("source") or "synthetic"  # records pushed before sources were recorded
    real = source == "real"
    return {"source": source, "source_version": None if real else metadata.get("version"),
            "pool_version": metadata.get("version") if real else None,
            "teacher": None if real else metadata.get("teacher"),
            "labelled_by": metadata.get("teacher") if real else None}


def team_agreement(rows: list[dict]) -> dict:
    """Cohen's kappa when exactly two people reviewed, Krippendorff's alpha for more."""
    human = [r["_answers"] for r in rows if r["decided_by"] == "human"]
    people = sorted({name for answers in human for name in answers})
    if len(people) < 2:
        return {"method": None, "value": None, "records": 0, "reviewers": people}
    if len(people) == 2:
        both = [a for a in human if len(a) == 2]
        value = cohen_kappa([a[people[0]] for a in both], [a[people[1]] for a in both])
        return {"method": "cohen_kappa", "value": _round(value), "records": len(both), "reviewers": people}
    units = [list(a.values()) for a in human if len(a) >= 2]
    return {"method": "krippendorff_alpha", "value": _round(krippendorff_alpha(units)), "records": len(units),
            "reviewers": people}


def _round(x):
    return None if x is None else round(x, 4)


def summarize(spec: TaskSpec, rows: list[dict], unreviewed: int) -> dict:
    decisions = Counter(r["decision"] for r in rows)
    by_suggestion: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        if spec.type == "classification":
            by_suggestion[str(r["suggestion"])][r["decision"]] += 1
    acceptance = {label: round(c["accepted"] / sum(c.values()), 4) for label, c in sorted(by_suggestion.items())}
    kept_labels = Counter(r["label"] for r in rows if spec.type == "classification" and r["decision"] != DISCARDED)
    return {"reviewed": len(rows), "unreviewed": unreviewed,
            "decisions": {k: decisions.get(k, 0) for k in ("accepted", "corrected", DISCARDED)},
            "decided_by": dict(Counter(r["decided_by"] for r in rows)),
            "sources": dict(Counter(r["source"] for r in rows)),
            "per_label": dict(sorted(kept_labels.items())), "acceptance_by_suggested_label": acceptance,
            "agreement": team_agreement(rows)}


def run_pull(cfg: ReviewConfig) -> PullResult:
    """Write the next reviewed version from what reviewers decided so far (see the policies).

    One pull of a dataset at a time (:func:`workbench.locks.run_lock`): a second one started
    meanwhile waits, then finds the same decisions and returns the version the first saved.
    """
    spec = load_task(cfg.task)
    with run_lock(spec.name, "review", f"pull-{cfg.workspace}-{cfg.dataset_name}"):
        return _pull(cfg, spec)


def _pull(cfg: ReviewConfig, spec: TaskSpec) -> PullResult:
    client, url, dataset = open_dataset(cfg, spec, create=False)
    records, questions, users = fetch(client, dataset)
    if cfg.policy == "auto":
        if auto_review(client, dataset, spec, records, questions, users, cfg.workspace):
            records, questions, users = fetch(client, dataset)
    decided = [decide(spec, r, questions, users) for r in records]
    rows = [d for d in decided if d is not None]
    if cfg.policy == "wait":
        needed = len(records) if cfg.min_reviewed is None else min(cfg.min_reviewed, len(records))
        human = sum(1 for r in rows if r["decided_by"] == "human")
        if human < needed:
            raise ReviewPending(needed - human, url, dataset.name)
    if not rows:
        raise ReviewError(f"nobody has reviewed any of the {len(records)} records in {dataset.name} at {url} yet")
    counts = summarize(spec, rows, len(records) - len(rows))
    for r in rows:
        r.pop("_answers")
    rows.sort(key=lambda r: r["id"])
    parents = sorted({r["source_version"] for r in rows if r["source_version"]})
    pools = sorted({r["pool_version"] for r in rows if r["pool_version"]})
    manifest = ReviewedManifest(task=spec.name, type=spec.type, kind="reviewed", spec_hash=spec.spec_hash(),
                                argilla={"url": url, "workspace": cfg.workspace, "dataset": dataset.name},
                                policy=cfg.policy, parent_synthetic_versions=parents, pool_versions=pools,
                                **counts)
    previous = latest_version(spec.name, "reviewed")
    if previous is not None and previous.manifest.data_sha256 == data_hash(rows):
        return PullResult(previous, url, True, counts)
    return PullResult(save_version(spec.name, rows, manifest, kind="reviewed"), url, False, counts)
