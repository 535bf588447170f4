"""Typed configuration of the Generate stage.

Example:
    >>> GenerateConfig(task="support_intents", n=40).slots
    16
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from workbench.limits import stage_config


@stage_config
class GenerateConfig(BaseModel):
    """What to generate. Unset fields fall back to the task spec and the settings."""

    task: str = Field(description="Task name (prompts/<task>/task.yaml) or a path to a task.yaml.")
    n: int = Field(300, ge=1, le=100_000, description="Rows wanted in the dataset.")
    teacher: str | None = Field(None, description="Teacher spec; default WORKBENCH_TEACHER.")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Drives few-shot sampling and teacher sampling.")
    slots: int = Field(16, ge=1, le=256, description="Parallel sequences decoded together (llama.cpp teachers).")
    batch_size: int = Field(64, ge=1, le=10_000, description="Prompts per distilabel batch (each answer is journaled as it arrives, whatever the batch).")
    temperature: float | None = Field(None, ge=0.0, le=2.0, description="Teacher sampling temperature; default "
                                                                        "the task's generation.temperature.")
    max_new_tokens: int | None = Field(None, ge=8, le=4096, description="Tokens the teacher writes per prompt at "
                                                                        "most; default the task's "
                                                                        "generation.max_new_tokens.")
    progress: bool = Field(True, description="Show tqdm progress bars.")
    plan: str | None = Field(None, description="A generation plan (YAML/JSON, e.g. written by `workbench evaluate`): "
                                               "its 'labels' map sets the rows wanted per label, replacing n. "
                                               "The new version is a snapshot: the parent's rows plus the new ones.")
    parent: str | None = Field(None, description="With plan: the synthetic version the new rows extend "
                                                 "(e.g. 'v001'); default the latest.")
    critic: bool | None = Field(None, description="Judge classification rows with the label-consistency critic; "
                                                  "default the task's generation.critic.enabled.")
