"""The Generate stage: task spec + teacher -> a versioned synthetic dataset.

``run_generate`` is what the CLI, the panels, the notebooks and the tests all call.
It plans prompt jobs, runs them through the distilabel pipeline in rounds (a label still
short of its target gets another round), curates, balances per label and saves a
version with its manifest.

A planned run (``--plan``, per-label targets from ``workbench evaluate``) adds rows to a
dataset rather than starting one: it saves a complete snapshot, the parent version's rows
(``cfg.parent``, default the latest synthetic version) followed by the new ones, the new
ones de-duplicated (exactly and nearly) against the parent. So training on the latest
version after a round trains on everything, and pushing it to review adds only the new
rows (Argilla record ids are content hashes). The manifest names the parent, the rows
added and the plan.

Resuming: the run folder (``<home>/runs/<task>/generate/<key>/``) is keyed by task
spec, teacher, n, seed, generation settings and, with ``--plan`` (rows per label, from
``workbench evaluate``), the plan's targets. Its journal holds every teacher output,
so the same command run again after a kill skips the prompts already answered; once a
run has saved its version, running it again returns that version instead of a copy.

One run of a command at a time: the run holds its OS lock
(:func:`workbench.locks.run_lock`), so the same command started again meanwhile waits for it and
returns its version (or, with ``WORKBENCH_RUN_LOCK_TIMEOUT``, refuses naming its pid).

Saving the version and recording it are one step: the manifest carries the run's key
(``run_id``), and the version folder renamed into place is the commit. ``result.json`` in the
run folder is only a shortcut to it; a run that finds none looks for a version carrying its
run id before doing any work, so a kill between the rename and ``result.json`` returns that
version next time, never a second copy. (Recording an intent first would need a second
file kept in step with the first; the manifest is written atomically with the rows anyway.)

Only a planned run has a parent version: a plain run, whatever its seed, starts a dataset.

Example:
    >>> from workbench.generate import GenerateConfig, run_generate
    >>> result = run_generate(GenerateConfig(task="support_intents", n=40))   # doctest: +SKIP
    >>> result.version.version, result.counts["kept"]                         # doctest: +SKIP
    ('v001', 40)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import time
from collections import Counter
from dataclasses import dataclass
from itertools import chain, zip_longest
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench.generate.config import GenerateConfig
from workbench.generate.contrast import confusable_for_run
from workbench.generate.curate import ListCurator, curate_outputs
from workbench.generate.journal import Journal
from workbench.generate.jobs import list_jobs, output_jobs
from workbench.errors import WorkbenchError
from workbench.faults import kill_point
from workbench.generate.teachers import TeacherSpec, check_teacher
from workbench.html import html_table
from workbench.locks import run_lock
from workbench.manifest import GenerationCounts, SyntheticManifest
from workbench.settings import get_settings
from workbench.store import (DatasetVersion, get_version, latest_version, run_folder, save_version,
                             version_of_run)
from workbench.tasks import TaskSpec, load_task

# Completion-mode stops: a blank line ends a continued list; a reply ends where the
# next "Customer:" turn of the few-shot transcript would begin.
LIST_STOP = ["\n\n"]
REPLY_STOP = ["\nCustomer:", "\n\n\n"]


@dataclass
class GenerateResult:
    """What a generation run produced; shows as a table in a notebook."""

    version: DatasetVersion
    run_dir: Path
    manifest: SyntheticManifest
    reused: bool = False
    resumed: bool = False

    @property
    def counts(self) -> GenerationCounts:
        """The run's counts per stage (also readable by key: ``counts["kept"]``)."""
        return self.manifest.counts or GenerationCounts()

    def to_dict(self) -> dict[str, Any]:
        c, m = self.counts, self.manifest
        return {"task": self.version.task, "version": self.version.version, "path": str(self.version.path),
                "kept": c.kept, "rejected": sum((c.rejected or {}).values()),
                "per_label": c.per_label, "rows": m.total_rows,
                "parent_version": m.parent_version if m.plan else None, "reused": self.reused,
                "resumed": self.resumed, "run_dir": str(self.run_dir),
                "critic": m.critic.model_dump(exclude_none=True) if m.critic else None}

    def _repr_html_(self) -> str:
        note = " (already generated: the same command returns the saved version)" if self.reused else ""
        return (self.version._repr_html_() + f"{note}<br><b>rejected</b>"
                + html_table(self.counts.rejected or {}, headers=("reason", "items")))


def run_generate(cfg: GenerateConfig) -> GenerateResult:
    """Generate (or resume, or return) the synthetic dataset ``cfg`` describes."""
    started = time.perf_counter()
    settings = get_settings()
    spec = load_task(cfg.task)
    teacher = TeacherSpec.parse(cfg.teacher or settings.teacher)
    g = spec.generation
    sampling = {"max_new_tokens": cfg.max_new_tokens or g.max_new_tokens,
                "temperature": g.temperature if cfg.temperature is None else cfg.temperature, "top_p": g.top_p}
    targets = _targets(spec, cfg)
    key = _run_key(spec.spec_hash(), str(teacher), cfg, sampling, targets if cfg.plan else None)
    run_dir = run_folder(spec.name, "generate", key, create=True)
    with run_lock(spec.name, "generate", key):  # a second identical command waits here, then finds the saved version
        version = _saved(spec.name, key, run_dir / "result.json")
        if version is not None:
            return GenerateResult(version, run_dir, version.manifest, reused=True)
        return _generate(cfg, spec, teacher, sampling, targets, key, run_dir, started)


def _saved(task: str, key: str, done: Path) -> DatasetVersion | None:
    """The version this run saved: the one ``result.json`` names, else the one whose manifest
    carries the run's key (a kill landed between the two); None when there is none (never
    saved, or deleted by hand: then it is built again from the journal)."""
    if done.is_file():
        try:
            version = get_version(task, json.loads(done.read_text())["version"])
            if version.manifest.run_id in (key, None):
                return version
        except (WorkbenchError, ValueError, KeyError):
            pass  # deleted or broken by hand: look for the run's version by its key
    version = version_of_run(task, key)
    if version is not None:
        done.write_text(json.dumps({"version": version.version}))
    return version


def _generate(cfg: GenerateConfig, spec: TaskSpec, teacher: TeacherSpec, sampling: dict[str, Any],
              targets: dict[str | None, int], key: str, run_dir: Path, started: float) -> GenerateResult:
    """The run itself (under the run lock): rounds of teacher jobs, curation, the saved version."""
    g = spec.generation
    done = run_dir / "result.json"
    parent = _parent(spec, cfg, run_dir) if cfg.plan else None
    check_teacher(teacher)
    journal = Journal(run_dir / "journal.jsonl")
    journal.repair()
    resumed = journal.count() > 0
    continuation = teacher.mode == "completion"
    embed = _embedder()

    list_purpose = "generate" if spec.type == "classification" else "input"
    text_key = "text" if spec.type == "classification" else "input"
    labels: list[str | None] = list(targets)
    parent_rows = [dict(r) for r in parent.load()] if parent else []
    curator = ListCurator(spec, embed, continuation, sampling["max_new_tokens"],
                          existing=[r[text_key] for r in parent_rows if r.get(text_key)],
                          **_critic_args(spec, cfg, teacher))
    list_sampling = {**sampling, "stop": LIST_STOP if continuation else None}
    confusable: dict[str, list[str]] | None = None  # found once, when a round has work (it embeds the seeds)
    for round_no in range(g.max_rounds):
        entries = [e for e in journal.entries() if e["stage"] == list_purpose]
        kept, counts = curator.curate(entries)
        wanted = {lab: targets[lab] - len(kept.get(lab, [])) for lab in labels
                  if len(kept.get(lab, [])) < targets[lab]}
        if not wanted:
            break
        if round_no == 0:
            confusable = confusable_for_run(spec, teacher.mode, cfg.plan, embed)
        jobs = list_jobs(spec, list_purpose, teacher.mode, round_no=round_no, wanted=wanted,
                         yields=_yields(entries, kept) if round_no else {}, seed=cfg.seed, confusable=confusable)
        _run_jobs(jobs, str(teacher), journal, list_sampling, cfg, round_no, f"round {round_no + 1}: {list_purpose}")
    entries = [e for e in journal.entries() if e["stage"] == list_purpose]
    kept, counts = curator.curate(entries)
    rows = _balanced(kept, labels, targets, sum(targets.values()) if cfg.plan else cfg.n)
    counts["surplus"] = sum(len(v) for v in kept.values()) - len(rows)  # valid, but over a label's target

    if spec.type == "generation":
        rows, out_counts = _replies(spec, teacher, journal, rows, cfg, sampling, continuation)
        counts["outputs"] = out_counts

    all_entries = journal.entries()
    hashes = spec.template_hashes()
    for row in rows:
        row["teacher"] = str(teacher)
        row["template"] = ",".join(f"{k}:{hashes[k]}" for k in sorted(hashes))
    per_label = Counter(r.get("label") for r in rows) if spec.type == "classification" else {}
    counts.update(kept=len(rows), per_label=dict(sorted(per_label.items())),
                  short_labels=sorted(lab for lab in labels if per_label.get(lab, 0) < targets[lab])
                  if spec.type == "classification" else [],
                  duplicates_removed={"exact": counts["rejected"].get("duplicate_exact", 0),
                                      "near": counts["rejected"].get("duplicate_near", 0),
                                      **({"of_parent": counts["rejected"].get("duplicate_of_parent", 0)}
                                         if cfg.plan else {})})
    tokens = {"prompt": sum(e.get("input_tokens", 0) for e in all_entries),
              "completion": sum(e.get("output_tokens", 0) for e in all_entries)}
    seconds = round(time.perf_counter() - started, 2)
    # A planned run saves a snapshot: the parent's rows, then the new ones (counts are about the new ones).
    # Only a planned run extends a version; any other run starts a dataset of its own (no parent).
    snapshot = {"parent_version": parent.version if parent else None, "plan": cfg.plan, "added": len(rows),
                "parent_rows": len(parent_rows), "rows": len(parent_rows) + len(rows)} if cfg.plan \
        else {"parent_version": None}
    critic = counts.pop("critic", None)
    if curator.critic is not None:
        curator.critic.close()
    manifest = SyntheticManifest(
        task=spec.name, critic=critic, type=spec.type, kind="synthetic", teacher=str(teacher),
        spec_hash=spec.spec_hash(), template_hashes=hashes, seed=cfg.seed,
        parameters={"n": cfg.n, "slots": cfg.slots, "batch_size": cfg.batch_size, **sampling,
                    "generation": g.model_dump(), **({"plan": cfg.plan, "targets": targets} if cfg.plan else {}),
                    **({"confusable": confusable} if confusable else {})},
        counts=counts, tokens=tokens, wall_seconds=seconds, resumed=resumed, run_id=key,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), workbench_version=__version__,
        hardware={"machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version()},
        **snapshot)
    if cfg.plan:
        rows = _columns_aligned(parent_rows + rows)
    kill_point("generate_before_save")  # test hook (workbench.faults)
    version = save_version(spec.name, rows, manifest)
    done.write_text(json.dumps({"version": version.version}))
    kill_point("generate_after_save")  # test hook (workbench.faults)
    return GenerateResult(version, run_dir, version.manifest, resumed=resumed)


def _replies(spec: TaskSpec, teacher: TeacherSpec, journal: Journal, inputs: list[dict], cfg: GenerateConfig,
             sampling: dict[str, Any], continuation: bool) -> tuple[list[dict], dict[str, Any]]:
    """Generation tasks: the teacher answers each synthetic input; failed ones retry next round."""
    by_id = {r["id"]: r for r in inputs}
    reply_sampling = {**sampling, "stop": REPLY_STOP if continuation else None}
    for round_no in range(spec.generation.max_rounds):
        outs, counts = curate_outputs(spec, [e for e in journal.entries() if e["stage"] == "output"], by_id)
        missing = [r for r in inputs if r["id"] not in outs]
        if not missing:
            break
        jobs = output_jobs(spec, teacher.mode, missing, round_no=round_no, seed=cfg.seed)
        _run_jobs(jobs, str(teacher), journal, reply_sampling, cfg, round_no, f"round {round_no + 1}: replies")
    outs, counts = curate_outputs(spec, [e for e in journal.entries() if e["stage"] == "output"], by_id)
    counts["inputs"] = len(inputs)
    counts["unanswered_inputs"] = sum(1 for r in inputs if r["id"] not in outs)
    return [outs[r["id"]] for r in inputs if r["id"] in outs], counts


def _run_jobs(jobs, teacher: str, journal, sampling, cfg, round_no, desc) -> None:
    from workbench.generate.pipeline import run_jobs  # imports distilabel: only when there is work

    run_jobs(jobs, teacher, journal, sampling, cfg, round_no, desc)


def _yields(entries: list[dict], kept: dict[str | None, list[dict]]) -> dict[str | None, float]:
    """Kept items per prompt so far, per label: sizes the next round."""
    prompts = Counter(e.get("label") for e in entries)
    return {lab: len(kept.get(lab, [])) / n for lab, n in prompts.items() if n}


def _targets(spec: TaskSpec, cfg: GenerateConfig) -> dict[str | None, int]:
    """Rows wanted per label: ``n`` spread evenly, or a plan's per-label counts."""
    if cfg.plan:
        from workbench.next_round import NextRoundPlan, PlanError

        plan = NextRoundPlan.read(cfg.plan, spec.label_names if spec.type == "classification" else None)
        targets = {lab: n for lab, n in plan.labels.items() if n > 0}
        if not targets:
            raise PlanError(f"plan {cfg.plan} asks for no rows (every count is 0); nothing to generate")
        return targets
    labels: list[str | None] = list(spec.label_names) or [None]
    return {lab: math.ceil(cfg.n / len(labels)) for lab in labels}


def _balanced(kept: dict[str | None, list[dict]], labels: list[str | None], targets: dict[str | None, int],
              n: int) -> list[dict]:
    """At most ``targets[label]`` rows per label, interleaved across labels, ``n`` in all."""
    capped = [kept.get(lab, [])[:targets[lab]] for lab in labels]
    interleaved = [r for r in chain.from_iterable(zip_longest(*capped)) if r is not None]
    return interleaved[:n]


def _parent(spec: TaskSpec, cfg: GenerateConfig, run_dir: Path) -> DatasetVersion | None:
    """The version a planned run extends: ``cfg.parent``, else the latest synthetic one.

    Chosen when the run starts and kept in its folder, so a resumed run extends the same
    version even if another was saved in between.
    """
    chosen = run_dir / "parent.json"
    if chosen.is_file():
        name = json.loads(chosen.read_text())["version"]
    elif cfg.parent:
        name = cfg.parent.rpartition("/")[2]  # 'synthetic/v001' or 'v001'
    else:
        name = v.version if (v := latest_version(spec.name)) else None
    parent = get_version(spec.name, name) if name else None  # a missing version fails here, before any work
    run_dir.mkdir(parents=True, exist_ok=True)
    chosen.write_text(json.dumps({"version": name}))
    return parent


def _columns_aligned(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row with the same columns (a parent saved by hand may lack some): missing -> None."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return [{c: r.get(c) for c in columns} for r in rows]


def _critic_args(spec: TaskSpec, cfg: GenerateConfig, teacher: TeacherSpec) -> dict[str, Any]:
    """The curator's critic settings: the task's ``generation.critic``, on unless it or
    ``cfg.critic`` says off; a llama.cpp teacher's GGUF reads rows when its logprob is on."""
    critic = spec.generation.critic
    if spec.type != "classification" or not (critic.enabled if cfg.critic is None else cfg.critic):
        return {"critic": None}
    gguf = None
    if critic.logprob and teacher.kind == "llamacpp":
        from workbench.models import gguf_path

        gguf = gguf_path(teacher.model)
    return {"critic": critic, "teacher_gguf": gguf, "threads": get_settings().resolved_threads()}


def _embedder():
    """Embeds texts with the bundled embedder, loaded on first use: a run killed in its first
    round, or one that only returns its saved version, never pays for loading it."""
    model = None

    def embed(texts: list[str]):
        nonlocal model
        if model is None:
            from workbench.models import load_embedder

            model = load_embedder()
        return model.encode(texts, normalize_embeddings=True, batch_size=64, show_progress_bar=False)

    return embed


def _run_key(spec_hash: str, teacher: str, cfg: GenerateConfig, sampling: dict[str, Any],
             targets: dict | None = None) -> str:
    ident = {"spec": spec_hash, "teacher": teacher, "n": cfg.n, "seed": cfg.seed, "sampling": sampling}
    if targets:  # only planned runs carry it, so the keys of earlier runs (and their resumes) stay the same
        ident["targets"] = targets
    if targets and cfg.parent:
        ident["parent"] = cfg.parent
    if cfg.critic is not None:  # an override curates the same teacher outputs differently: its own version
        ident["critic"] = cfg.critic
    ident = json.dumps(ident, sort_keys=True)
    return hashlib.sha256(ident.encode()).hexdigest()[:12]
