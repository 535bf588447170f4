"""Typed configuration of the Evaluate stage, and its error.

``STRATEGIES`` (the names ``strategies`` takes) comes from the task types' strategy
registries (:mod:`workbench.evaluate.task_types`): registering a strategy there adds it here.

Example:
    >>> cfg = EvaluateConfig(task="support_intents", strategies=["prompt", "retrieval"], limit=20)
    >>> cfg.k, cfg.students, cfg.controls, cfg.seeds
    (5, None, True, 1)
    >>> "retrieval" in STRATEGIES
    True
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from workbench.errors import WorkbenchError
from workbench.evaluate.task_types import strategy_names
from workbench.limits import stage_config
from workbench.models import student_names


class EvaluateError(WorkbenchError, ValueError):
    """An evaluation that cannot run as asked: an unknown strategy, no held-out rows, nothing to score."""


STRATEGIES = strategy_names()


@stage_config
class EvaluateConfig(BaseModel):
    """What to score, on what. ``None`` means "everything available"."""

    task: str = Field(description="Task name (prompts/<task>/task.yaml) or a path to a task.yaml.")
    strategies: list[str] | None = Field(None, description=f"Any of {list(STRATEGIES)}; default all.")
    students: list[str] | None = Field(None, description=f"{', '.join(student_names())}, a .gguf path or an "
                                                         "export folder (a 'finetuned' cell); default every "
                                                         "bundled student.")
    runs: list[str] | None = Field(None, description="Finished train runs for the fine-tuned strategies; default "
                                                     "the latest finished run of each student of this task.")
    teacher: str | None = Field(None, description="Teacher spec for 'teacher'; default WORKBENCH_TEACHER.")
    dataset: str | None = Field(None, description="Retrieval pool: 'reviewed/v002', 'synthetic/v001'; default "
                                                  "the latest reviewed version, else the latest synthetic.")
    limit: int | None = Field(None, ge=1, le=100_000, description="Score only N held-out rows: round-robin over "
                                                                  "labels (classification), the first N "
                                                                  "(generation); quick looks, tests.")
    k: int = Field(5, ge=1, le=100, description="Neighbours for retrieval (a vote, or in-context examples).")
    shots_per_label: int = Field(1, ge=1, le=20, description="Seed examples per label in few-shot prompts.")
    shots: int | None = Field(None, ge=1, le=50, description="Seed pairs in few-shot reply prompts (generation "
                                                             "tasks; the teacher's prompt too); default the task's "
                                                             "generation.shots.")
    max_new_tokens: int | None = Field(None, ge=1, le=2048, description="Reply length cap, greedy decoding "
                                                                        "(generation tasks); default the task's "
                                                                        "generation.max_new_tokens, at most 128.")
    judge: bool = Field(True, description="Rate replies with the teacher as a judge against the task's rubric "
                                          "(generation tasks with a 'judge:' section) and check it against the "
                                          "reviewed data.")
    calibration_limit: int = Field(100, ge=1, le=100_000, description="Reviewed records the judge rates to check its "
                                                          "agreement with the reviewers' decisions.")
    retrieval_weight: float = Field(0.5, ge=0.0, le=1.0,
                                    description="Weight of the neighbour vote in fine-tuned + retrieval.")
    plan_size: int = Field(100, ge=1, le=100_000, description="New examples the next-round generation plan asks for.")
    worst_errors: int = Field(10, ge=0, le=1000, description="Errors listed in the report.")
    threads: int = Field(1, ge=1, le=256, description="CPU threads per model (torch and llama.cpp). One is the steady "
                                              "choice on a shared 2-core machine: with two, llama.cpp and torch "
                                              "threads wait on each other whenever another process holds a core "
                                              "(measured here: 2.5 s vs 0.03 s per token).")
    controls: bool = Field(True, description="The controls beside the fine-tuned student: 'seeds_lr' (logistic "
                           "regression on frozen MiniLM vectors of the seeds) and the student fine-tuned on the seeds "
                           "alone with the focus run's hyperparameters (trained when missing, then reused); the "
                           "report's first line is the synthetic data's worth against it.")
    seeds: int = Field(1, ge=1, le=10, description="Training seeds per fine-tuned cell (and its control): the extra "
                       "seeds are trained and scored, and mean ± sd reported beside the seed-0 interval.")
    eval_id: str | None = Field(None, description="Report folder name; default a timestamp.")
    progress: bool = Field(True, description="Show tqdm progress bars.")
