"""From journal entries to clean rows: parse -> validate -> exact and near dedup -> the critic.

Classification rows then meet the label-consistency critic (:mod:`workbench.generate.critic`):
rows that fail are dropped, or (action ``review``) kept with ``critic_pass`` False; kept rows
carry ``critic_margin``, ``critic_vote``, ``critic_pass`` (and ``critic_logprob`` when read).

Curation is deterministic (entries are processed in job order, not arrival order), so a
resumed run curates to exactly what an uninterrupted run would have.

Example:
    >>> cur = ListCurator(spec, embed=my_embed_fn, continuation=True)   # doctest: +SKIP
    >>> kept, counts = cur.curate(journal.entries())                    # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Callable

from workbench.generate.critic import REASONS, Critic
from workbench.generate.filters import (Rules, exact_duplicates, near_duplicates, normalize, parse_list,
                                        rejection_reason)
from workbench.store import record_id
from workbench.tasks import CriticSpec, TaskSpec

Embed = Callable[[list[str]], Any]


def job_order(entry: dict[str, Any]) -> tuple:
    return (entry.get("round", 0), entry.get("label") or "", entry.get("index", 0), entry["job"])


class ListCurator:
    """Curates list-style generations (classification messages, generation-task inputs)."""

    def __init__(self, spec: TaskSpec, embed: Embed, continuation: bool, max_new_tokens: int | None = None,
                 existing: list[str] | None = None, critic: CriticSpec | None = None, teacher_gguf=None,
                 threads: int = 1):
        """``existing``: texts already in the dataset these rows extend (a planned run's parent
        version); a candidate that repeats one, exactly or nearly, is dropped like a duplicate.
        ``critic``: the critic's settings (classification tasks; None: no critic), fitted on the
        seeds when the first candidates arrive; ``teacher_gguf`` reads rows when its logprob is on."""
        self.spec = spec
        self.embed = embed
        self.continuation = continuation
        self.max_new_tokens = max_new_tokens
        g = spec.generation
        self.rules = Rules(g.min_chars, g.max_chars)
        self.text_key = "text" if spec.type == "classification" else "input"
        self.seeds_by_label: dict[str | None, set[str]] = defaultdict(set)
        for r in spec.seed_examples:
            self.seeds_by_label[r.get("label")].add(normalize(r[self.text_key]))
        self._seed_emb = None
        self.existing = list(existing or [])
        self._existing_norm = {normalize(t) for t in self.existing}
        self.critic_spec = critic if spec.type == "classification" and critic is not None else None
        self._critic_args = (teacher_gguf, threads)
        self.critic: Critic | None = None

    def curate(self, entries: list[dict[str, Any]]) -> tuple[dict[str | None, list[dict]], dict[str, Any]]:
        """Kept rows per label (in job order) and the stage counts for the manifest."""
        counts: Counter[str] = Counter()
        rejected: Counter[str] = Counter()
        cands: list[dict[str, Any]] = []
        for e in sorted(entries, key=job_order):
            counts["prompts"] += 1
            items = parse_list(e["text"], continuation=self.continuation)
            counts["parsed"] += len(items)
            if items and self.max_new_tokens and e.get("output_tokens", 0) >= self.max_new_tokens:
                items.pop()  # the token limit cut the last item off mid-sentence
                rejected["truncated"] += 1
            for k, text in enumerate(items):
                reason = rejection_reason(text, e.get("label"), self.seeds_by_label, self.rules)
                if not reason and normalize(text) in self._existing_norm:
                    reason = "duplicate_of_parent"
                if reason:
                    rejected[reason] += 1
                    continue
                cands.append({"text": text, "label": e.get("label"), "job": e["job"], "item": k,
                              "round": e.get("round", 0)})
        exact = exact_duplicates([c["text"] for c in cands])
        rejected["duplicate_exact"] += sum(exact)
        cands = [c for c, dup in zip(cands, exact) if not dup]
        kept: dict[str | None, list[dict]] = defaultdict(list)
        if cands:
            emb = self.embed([c["text"] for c in cands])
            if self._seed_emb is None:  # the seeds, then the parent's rows: new rows must differ from both
                self._seed_emb = self.embed([r[self.text_key] for r in self.spec.seed_examples] + self.existing)
            drop, sims = near_duplicates(emb, self._seed_emb, self.spec.generation.near_duplicate_threshold)
            rejected["duplicate_near"] += sum(drop)
            rows = []
            for c, d, s, e in zip(cands, drop, sims, emb):
                if d:
                    continue
                row = {"id": record_id(c["label"] or "", c["text"]), self.text_key: c["text"]}
                if self.spec.type == "classification":
                    row["label"] = c["label"]
                row.update(job=c["job"], round=c["round"], max_similarity=s, chars=len(c["text"]))
                rows.append((row, e))
            if self.critic_spec is not None:
                rows, critic_counts = self._criticize(rows)
                if critic_counts["dropped"]:
                    rejected["critic"] += critic_counts["dropped"]
            for row, _ in rows:
                kept[row.get("label")].append(row)
            for label_rows in kept.values():  # a label's target takes the rows that passed first (action 'review')
                label_rows.sort(key=lambda r: r.get("critic_pass") is False)
        if self.critic_spec is not None:
            counts["critic"] = critic_counts if cands else self._critic_counts([])
        counts["valid"] = counts["parsed"] - sum(v for k, v in rejected.items()
                                                 if not k.startswith("duplicate") and k != "critic")
        return dict(kept), {**counts, "rejected": dict(sorted(rejected.items()))}

    def _criticize(self, rows: list[tuple[dict, Any]]) -> tuple[list[tuple[dict, Any]], dict[str, Any]]:
        """The critic's columns on each row; the failed ones dropped unless the action is 'review'."""
        if self.critic is None:
            teacher_gguf, threads = self._critic_args
            self.critic = Critic.fit(self.spec, self.embed, self.critic_spec, teacher_gguf, threads)
        verdicts = self.critic.judge([r["text"] for r, _ in rows], [r["label"] for r, _ in rows],
                                     vectors=[e for _, e in rows]) if rows else []
        out = []
        for (row, e), v in zip(rows, verdicts):
            row.update(critic_margin=v.margin, critic_vote=v.vote, critic_pass=v.passed)
            if v.logprob is not None:
                row["critic_logprob"] = v.logprob
            if v.passed or self.critic_spec.action == "review":
                out.append((row, e))
        return out, self._critic_counts(verdicts)

    def _critic_counts(self, verdicts: list) -> dict[str, Any]:
        """The manifest's ``critic`` record (:class:`workbench.manifest.CriticCounts`)."""
        failed = sum(1 for v in verdicts if not v.passed)
        review = self.critic_spec.action == "review"
        reasons = Counter(r for v in verdicts for r in v.reasons)
        return {"checked": len(verdicts), "passed": len(verdicts) - failed, "failed": failed,
                "reasons": {r: reasons[r] for r in REASONS if reasons[r]},
                "dropped": 0 if review else failed, "review_first": failed if review else 0,
                "action": self.critic_spec.action,
                "logprob_seconds": round(self.critic.logprob_seconds, 2)
                if self.critic is not None and self.critic.reader is not None else None}


def curate_outputs(spec: TaskSpec, entries: list[dict[str, Any]], inputs: dict[str, dict]) -> tuple[
        dict[str, dict], dict[str, Any]]:
    """Replies per input id (first valid one wins) and counts; invalid replies are counted."""
    g = spec.generation
    rules = Rules(g.min_chars, g.max_chars, chatter=False)
    seed_outputs = {None: {normalize(r["output"]) for r in spec.seed_examples}}
    rows: dict[str, dict] = {}
    rejected: Counter[str] = Counter()
    for e in sorted(entries, key=job_order):
        src = e["source_id"]
        if src in rows or src not in inputs:
            continue
        reply = e["text"].strip()
        reason = rejection_reason(reply, None, seed_outputs, rules)
        if reason:
            rejected[reason] += 1
            continue
        inp = inputs[src]
        rows[src] = {"id": record_id(inp["input"], reply), "input": inp["input"], "output": reply,
                     "input_id": src, "job": e["job"], "round": e.get("round", 0),
                     "max_similarity": inp["max_similarity"], "chars": len(reply)}
    return rows, {"prompts": len(entries), "rejected": dict(sorted(rejected.items()))}
