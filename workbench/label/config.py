"""Typed configuration of the Label stage.

Example:
    >>> cfg = LabelConfig(task="clinc_bank", budget=30)
    >>> cfg.strategy, cfg.model, cfg.pseudo_labels
    ('default', 'auto', False)
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr

from workbench.limits import stage_config


@stage_config
class LabelConfig(BaseModel):
    """Which task's message log to label, how many messages people review, and how they are chosen."""

    task: str = Field(description="Task name (prompts/<task>/task.yaml); its spec names the `unlabeled:` file.")
    budget: int = Field(30, ge=1, le=10_000, description="Messages sent to people for review this round.")
    # 'default' was chosen on clinc_bank's validation split (bench/active.py): per predicted intent,
    # the least sure messages first, no two near-copies; plain margin and random are the controls.
    strategy: str = Field("default", description="How the messages to review are chosen: default (least sure "
                          "per predicted intent, no near-copies), margin, cluster or random.")
    model: str = Field("auto", description="Who labels the pool: auto (the task's latest fine-tuned student when it "
                       "beats, on the validation rows, logistic regression on MiniLM vectors of the seeds and reviewed "
                       "rows; else that regression), embeddings, or a run.")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the random choices (random and cluster strategies).")
    pseudo_labels: bool = Field(False, description="Also save the pool messages the model is sure about (a "
                                "threshold chosen on the task's validation rows) as pseudo-labels for training.")
    target_precision: float = Field(0.95, gt=0.5, le=1.0,
                                    description="Pseudo-labels: precision the threshold is chosen for, on validation.")
    push: bool = Field(True, description="Send the chosen messages to Argilla (off: choose and report only).")
    dataset: str | None = Field(None, description="Argilla dataset name; default the task name.")
    workspace: str = Field("workbench", description="Argilla workspace (created when missing).")
    url: str | None = Field(None, description="Argilla URL; default settings, ARGILLA_API_URL, or the local one.")
    api_key: SecretStr | None = Field(None, description="Its API key; default from settings or environment.")
    progress: bool = Field(True, description="Show tqdm progress bars.")
