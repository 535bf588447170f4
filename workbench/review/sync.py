"""Push synthetic data to Argilla for review, and report review progress.

Pushing is idempotent: Argilla record ids are the workbench's content hashes, and records
already in the dataset are left alone (their responses included), so pushing the same
version twice adds nothing and pushing a newer version adds only its new records.

Example:
    >>> from workbench.review import ReviewConfig, run_push, review_status
    >>> result = run_push(ReviewConfig(task="support_intents"))    # doctest: +SKIP
    >>> review_status(ReviewConfig(task="support_intents"))        # doctest: +SKIP
"""

from __future__ import annotations

import re

from dataclasses import asdict, dataclass, field

import httpx
import numpy as np

from workbench.review.config import ReviewConfig
from workbench.review.schema import (VECTOR_NAME, ReviewError, answer_question, build_settings, check_compatible,
                                     text_fields)
from workbench.models import embed
from workbench.settings import get_settings
from workbench.store import get_version, latest_version
from workbench.tasks import TaskSpec, load_task

NEIGHBOURS = 5


@dataclass
class PushResult:
    """What one push did."""

    url: str
    dataset: str
    workspace: str
    version: str
    pushed: int
    already_there: int
    total_in_argilla: int

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return (f"pushed {self.pushed} new records of {self.version} to {self.workspace}/{self.dataset} "
                f"({self.already_there} already there; {self.total_in_argilla} in Argilla) at {self.url}")

    def _repr_html_(self) -> str:
        from workbench.html import html_table

        return html_table({"dataset": f"{self.workspace}/{self.dataset}", "version": self.version,
                           "pushed (new records)": self.pushed, "already there": self.already_there,
                           "records in Argilla": self.total_in_argilla, "Argilla": self.url},
                          headers=("push", ""))


@dataclass
class ReviewStatus:
    """Progress of a review dataset, overall and per reviewer."""

    url: str
    dataset: str
    total: int
    completed: int
    pending: int
    reviewers: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        lines = [f"{self.dataset} at {self.url}: {self.completed}/{self.total} records complete, {self.pending} pending"]
        for name, counts in self.reviewers.items():
            lines.append(f"  {name:<16} " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from workbench.html import html_table

        overall = html_table({"dataset": self.dataset, "complete": f"{self.completed}/{self.total}",
                              "pending": self.pending, "Argilla": self.url}, headers=("review", ""))
        reviewers = [{"reviewer": name, **counts} for name, counts in self.reviewers.items()]
        return overall + (html_table(reviewers) if reviewers else "")


def neighbour_votes(spec: TaskSpec, vectors: np.ndarray) -> list[dict[str, float]]:
    """Per text, each label's share among its nearest seed messages (MiniLM cosine)."""
    seeds = spec.seed_examples
    seed_vectors = embed([s["text"] for s in seeds])
    sims = vectors @ seed_vectors.T
    k = min(NEIGHBOURS, len(seeds))
    votes = []
    for row in np.argsort(-sims, axis=1)[:, :k]:
        share: dict[str, float] = {}
        for i in row:
            share[seeds[i]["label"]] = share.get(seeds[i]["label"], 0.0) + 1.0 / k
        votes.append(share)
    return votes


def open_dataset(cfg: ReviewConfig, spec: TaskSpec, create: bool):
    """(client, url, dataset or None): the review dataset, checked against the spec."""
    import argilla as rg

    client, url = cfg.connect()
    workspace = client.workspaces(cfg.workspace)
    dataset = client.datasets(cfg.dataset_name, workspace=cfg.workspace) if workspace else None
    if dataset is not None:
        check_compatible(dataset, spec)
        add_missing_metadata(dataset, spec)
        return client, url, dataset
    if not create:
        raise ReviewError(f"no dataset {cfg.workspace}/{cfg.dataset_name} in Argilla at {url}: "
                          f"push first (`workbench review push --task {spec.name}`)")
    if workspace is None:
        workspace = rg.Workspace(name=cfg.workspace, client=client).create()
    dataset = rg.Dataset(name=cfg.dataset_name, workspace=workspace, settings=build_settings(spec), client=client)
    return client, url, dataset.create()


def add_missing_metadata(dataset, spec: TaskSpec) -> None:
    """Give a dataset made by an older workbench the metadata properties added since (``source``,
    ``confidence``): Argilla refuses a record whose metadata has no property, and without them
    reviewers could not sort by them."""
    have = {m.name for m in dataset.settings.metadata}
    for prop in build_settings(spec).metadata:
        if prop.name not in have:
            prop.dataset = dataset
            prop.create()


def suggestion_agent(teacher: str) -> str:
    """The teacher spec as an Argilla suggestion agent, which allows only letters, digits, ``-_:./``
    and spaces: ``llamacpp:gemma3-270m?mode=completion`` -> ``llamacpp:gemma3-270m mode completion``.
    The metadata keeps the spec as it is.
    """
    return " ".join(re.sub(r"[^a-zA-Z0-9\-_:./\s]+", " ", teacher).split()) or "teacher"


def _records(spec: TaskSpec, rows: list[dict], version: str, teacher: str, progress: bool):
    import argilla as rg

    agent = suggestion_agent(teacher)

    question = answer_question(spec)
    main = "text" if spec.type == "classification" else "input"
    vectors = embed([r[main] for r in rows], progress=progress)
    votes = neighbour_votes(spec, vectors) if spec.type == "classification" else [None] * len(rows)
    records = []
    for row, vector, vote in zip(rows, vectors, votes):
        if spec.type == "classification":
            # Score: the share of the message's nearest seeds that carry the teacher's label.
            suggestion = rg.Suggestion(question, row["label"], score=round(vote.get(row["label"], 0.0), 3),
                                       agent=agent)
        else:
            suggestion = rg.Suggestion(question, row["output"], agent=agent)
        metadata = {"source": "synthetic", "teacher": teacher, "template": row.get("template", ""), "version": version,
                    "similarity": float(row.get("max_similarity") or 0.0), "length": int(row.get("chars") or 0)}
        if row.get("critic_pass") is not None:  # sort or filter the rows the critic doubts to the top
            metadata.update(critic="passed" if row["critic_pass"] else "review_first",
                            critic_margin=float(row["critic_margin"]))
        records.append(rg.Record(id=row["id"], fields={f: row[f] for f in text_fields(spec)}, metadata=metadata,
                                 suggestions=[suggestion], vectors={VECTOR_NAME: vector.tolist()}))
    return records


def existing_ids(dataset) -> set[str]:
    return {r.id for r in dataset.records(with_suggestions=False, with_responses=False, batch_size=1000)}


def run_push(cfg: ReviewConfig) -> PushResult:
    """Send a synthetic version to Argilla (only its records not already there)."""
    spec = load_task(cfg.task)
    version = get_version(spec.name, cfg.version) if cfg.version else latest_version(spec.name)
    if version is None:
        raise ReviewError(f"no synthetic data for {spec.name!r} yet: run `workbench generate --task {spec.name}`")
    rows = [dict(r) for r in version.load()]
    teacher = getattr(version.manifest, "teacher", None) or "unknown"
    return send_rows(cfg, spec, rows, version.version,
                     lambda batch: _records(spec, batch, version.version, teacher, progress=False))


def send_rows(cfg: ReviewConfig, spec: TaskSpec, rows: list[dict], version: str, to_records) -> PushResult:
    """Log the ``rows`` (each with an ``id``) not yet in the task's review dataset, in batches;
    ``to_records(batch)`` makes their Argilla records. Shared by synthetic and real messages."""
    from tqdm.auto import tqdm

    _, url, dataset = open_dataset(cfg, spec, create=True)
    new, sent, present = rows, 0, set()  # until the ids in Argilla are known, every row is still to send
    try:
        present = existing_ids(dataset)
        new = [r for r in rows if r["id"] not in present]
        with tqdm(total=len(new), desc=f"push {spec.name} {version}", unit="rec", disable=not cfg.progress) as bar:
            for start in range(0, len(new), cfg.batch_size):
                batch = new[start:start + cfg.batch_size]
                dataset.records.log(to_records(batch), batch_size=cfg.batch_size)
                sent += len(batch)
                bar.update(len(batch))
    except httpx.TransportError:  # the server went away (killed, stopped, network): nothing is lost
        local = not (cfg.url or get_settings().argilla_url)
        again = "start it with `workbench argilla up`" if local else "check that it is up"
        raise ReviewError(f"lost the connection to Argilla at {url} during push: {sent} of {len(new)} records "
                          f"sent; {again} and push again: records already sent are not duplicated") from None
    return PushResult(url, dataset.name, cfg.workspace, version, len(new), len(rows) - len(new),
                      len(present) + len(new))


def real_records(spec: TaskSpec, rows: list[dict], version: str, agent: str, vectors: np.ndarray):
    """Argilla records for real messages: the student's label as the suggestion, its calibrated
    confidence as the suggestion's score and as metadata (reviewers sort by it), ``source: real``.

    ``rows`` hold ``id``, ``text``, ``label`` (the student's) and ``confidence``.
    """
    import argilla as rg

    question, agent = answer_question(spec), suggestion_agent(agent)
    return [rg.Record(id=row["id"], fields={"text": row["text"]},
                      metadata={"source": "real", "version": version, "teacher": agent,
                                "confidence": round(float(row["confidence"]), 4), "length": len(row["text"])},
                      suggestions=[rg.Suggestion(question, row["label"], score=round(float(row["confidence"]), 4),
                                                 agent=agent)],
                      vectors={VECTOR_NAME: vector.tolist()})
            for row, vector in zip(rows, vectors)]


def review_status(cfg: ReviewConfig) -> ReviewStatus:
    """Overall and per-reviewer progress of the task's review dataset."""
    spec = load_task(cfg.task)
    _, url, dataset = open_dataset(cfg, spec, create=False)
    progress = dataset.progress(with_users_distribution=True)
    reviewers = {}
    for name, dist in (progress.get("users") or {}).items():
        counts = {}
        for part in dist.values():
            for status, n in part.items():
                counts[status] = counts.get(status, 0) + n
        reviewers[name] = counts
    return ReviewStatus(url, dataset.name, progress.get("total", 0), progress.get("completed", 0),
                        progress.get("pending", 0), reviewers)
