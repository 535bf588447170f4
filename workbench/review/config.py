"""Typed configuration of the Review stage.

Example:
    >>> ReviewConfig(task="support_intents").policy
    'human'
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from workbench.limits import stage_config

Policy = Literal["human", "wait", "auto"]


@stage_config
class ReviewConfig(BaseModel):
    """Which task's data goes to which Argilla dataset, and how a pipeline waits for reviews."""

    task: str = Field(description="Task name (prompts/<task>/task.yaml).")
    version: str | None = Field(None, description="Synthetic version to push (e.g. v002); default the latest.")
    dataset: str | None = Field(None, description="Argilla dataset name; default the task name.")
    workspace: str = Field("workbench", description="Argilla workspace (created when missing).")
    policy: Policy = Field("human", description=(
        "human: pull whatever people reviewed; wait: stop until min_reviewed records are reviewed; "
        "auto: an 'auto-reviewer' account answers unreviewed records first (marked as automatic)."))
    min_reviewed: int | None = Field(None, ge=0, le=10_000_000,
                                     description="For policy wait: reviewed records needed; default all.")
    batch_size: int = Field(200, ge=1, le=1000, description="Records per request when pushing.")
    url: str | None = Field(None, description="Argilla URL; default settings, ARGILLA_API_URL, or the local one.")
    api_key: SecretStr | None = Field(None, description="Its API key; default from settings or environment.")
    progress: bool = Field(True, description="Show tqdm progress bars.")

    @property
    def dataset_name(self) -> str:
        return self.dataset or self.task

    def connect(self):
        """(client, url) for this config's Argilla, checked (see :mod:`workbench.review.connection`)."""
        from workbench.review.connection import connect

        return connect(self.url, self.api_key.get_secret_value() if self.api_key else None)
