"""A tiny classification task for the run fault tests (two labels, short teacher answers), and a
journal answered by hand, so a test that is about locks and versions needs no teacher.

Imported by tests/faults/test_runs_*.py (this folder is on sys.path when pytest collects them).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from workbench.generate import GenerateConfig
from workbench.generate.journal import Journal
from workbench.generate.jobs import list_jobs
from workbench.generate.run import _run_key, _targets
from workbench.generate.teachers import TeacherSpec
from workbench.settings import get_settings
from workbench.store import run_folder
from workbench.tasks import load_task

REPO = Path(__file__).resolve().parents[2]
TASK = "tiny_intents"
LABELS = {"delivery_status": "where an order is; tracking; late or lost parcels",
          "billing_issue": "unexpected, duplicate or wrong charges; refunds; failed payments"}
SPEC = """name: {task}
type: classification
description: Messages sent to the customer support of a coffee subscription that ships beans.
labels:
{labels}seeds: seeds.jsonl
templates:
  generate: generate.jinja
  generate_chat: generate_chat.jinja
generation:
  shots: 3
  items_per_prompt: 4
  max_new_tokens: {max_new_tokens}
  temperature: 0.9
  top_p: 0.95
  min_chars: 12
  max_chars: 300
  near_duplicate_threshold: 0.93
  overgenerate: 4.0
  max_rounds: 3
review:
  guidelines: Pick the intent support would act on.
  questions:
    - name: label
      kind: label
      title: Which intent is this message?
quality_bar:
  metric: macro_f1
  min: 0.8
"""
# What a teacher might answer, per label: enough distinct messages for any n up to 8.
ANSWERS = {
    "delivery_status": ["My coffee box still has not arrived and it is a week late now",
                        "The courier app says out for delivery since Friday, where is it?",
                        "Can you tell me which day my next beans parcel is going to arrive?",
                        "No tracking number came with my shipping email, how do I follow it?",
                        "The parcel went back to your warehouse, will you send it again?",
                        "Is the Monday roast shipped yet? I have not had a dispatch note"],
    "billing_issue": ["You charged my card twice for the same subscription box this month",
                      "Why was I billed 40 pounds when my plan costs 28 a delivery?",
                      "I cancelled last week but the payment still went out today",
                      "My bank declined the renewal, how do I retry the payment?",
                      "Please send me a VAT invoice for the last three orders",
                      "I was promised a refund for the stale bag and it never came"],
}


def write_task(root: Path, max_new_tokens: int = 48) -> Path:
    """``root/prompts/tiny_intents/`` (spec, the bundled templates, the seeds of its two labels).

    48 tokens a teacher answer: every answer of a round ends at the same decoding step.
    """
    folder = root / "prompts" / TASK
    folder.mkdir(parents=True, exist_ok=True)
    labels = "".join(f"  - name: {k}\n    description: {v}\n" for k, v in LABELS.items())
    (folder / "task.yaml").write_text(SPEC.format(task=TASK, labels=labels, max_new_tokens=max_new_tokens))
    for name in ("generate.jinja", "generate_chat.jinja"):
        (folder / name).write_text((REPO / "prompts" / "support_intents" / name).read_text())
    seeds = [line for line in (REPO / "datasets" / "support_intents" / "seeds.jsonl").read_text().splitlines()
             if json.loads(line)["label"] in LABELS]
    (folder / "seeds.jsonl").write_text("\n".join(seeds) + "\n")
    return root / "prompts"


def config(**overrides) -> GenerateConfig:
    """n=4 (two prompts per label, one round: seed 1's first answers are enough)."""
    return GenerateConfig(**{"task": TASK, "n": 4, "slots": 4, "batch_size": 4, "progress": False, **overrides})


def run_dir(cfg: GenerateConfig) -> Path:
    """The run folder ``run_generate(cfg)`` works in (its key, computed the way the run does)."""
    spec, teacher = load_task(cfg.task), TeacherSpec.parse(cfg.teacher or get_settings().teacher)
    g = spec.generation
    sampling = {"max_new_tokens": cfg.max_new_tokens or g.max_new_tokens,
                "temperature": g.temperature if cfg.temperature is None else cfg.temperature, "top_p": g.top_p}
    return run_folder(spec.name, "generate", _run_key(spec.spec_hash(), str(teacher), cfg, sampling), create=True)


def answer_by_hand(cfg: GenerateConfig) -> Path:
    """Journal an answer to every first-round prompt of ``cfg``'s run, as a teacher would have."""
    spec, teacher = load_task(cfg.task), TeacherSpec.parse(cfg.teacher or get_settings().teacher)
    jobs = list_jobs(spec, "generate", teacher.mode, round_no=0, wanted=_targets(spec, cfg), yields={}, seed=cfg.seed)
    entries = []
    for job in jobs:
        texts = ANSWERS[job.label][job.index * 3:] + ANSWERS[job.label][:job.index * 3]
        text = " " + "\n".join(f"{k + 4}. {t}" if k else t for k, t in enumerate(texts[:4])) + "\n\n"
        entries.append({"job": job.id, "stage": job.stage, "label": job.label, "round": 0, "index": job.index,
                        "source_id": None, "text": text, "input_tokens": 100, "output_tokens": 40})
    path = run_dir(cfg) / "journal.jsonl"
    Journal(path).append(entries)
    return path


def cli(cfg: GenerateConfig) -> list[str]:
    """The ``workbench generate`` command line for ``cfg``."""
    return [sys.executable, "-m", "workbench.cli", "generate", "--task", cfg.task, "--n", str(cfg.n),
            "--seed", str(cfg.seed), "--slots", str(cfg.slots), "--batch-size", str(cfg.batch_size), "--json"]
