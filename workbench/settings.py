"""Environment-derived configuration, in one place.

Every path, endpoint and secret the workbench reads from the environment lives in
:class:`WorkbenchSettings`. Experiments (labels, templates, hyperparameters) live in
task specs instead (see :mod:`workbench.tasks`).

Example:
    >>> from workbench.settings import get_settings
    >>> get_settings().home.name
    '.workbench'
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkbenchSettings(BaseSettings):
    """Where the workbench keeps its state and how it reaches outside services.

    Values come from ``WORKBENCH_*`` environment variables or a ``.env`` file in the
    working directory. Secrets are :class:`~pydantic.SecretStr`, so they never show in
    a repr, a log line or a manifest.
    """

    model_config = SettingsConfigDict(
        env_prefix="WORKBENCH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Field(Path(".workbench"), description="Generated state: models, runs, caches.")
    prompts_dir: Path = Field(Path("prompts"), description="Where task specs live: <dir>/<task>/task.yaml.")
    datasets_dir: Path = Field(Path("datasets"), description="Versioned datasets: <dir>/<task>/synthetic/<version>/.")
    models_dir: Path | None = Field(None, description="Converted model cache; default <home>/models.")
    teacher: str = Field("llamacpp:gemma3-270m", description="Default teacher spec (see workbench.generate.teachers).")
    threads: int = Field(0, description="CPU threads for llama.cpp; 0 means all cores.")
    openai_api_key: SecretStr | None = Field(
        None, description="Key for openai:<model>@<url> teachers; OPENAI_API_KEY works too."
    )

    argilla_url: str | None = Field(
        None, description="A remote Argilla (ARGILLA_API_URL works too); unset means the local one.")
    argilla_api_key: SecretStr | None = Field(None, description="Its API key (ARGILLA_API_KEY works too).")
    argilla_host: str = Field("127.0.0.1", description="Where the local Argilla listens; loopback by default.")
    argilla_port: int = Field(6900, description="The local Argilla's port.")
    argilla_venv: Path | None = Field(
        None, description="argilla-server's own virtualenv; default <home>/argilla/venv.")

    def resolved_threads(self) -> int:
        return self.threads if self.threads > 0 else (os.cpu_count() or 1)

    def api_key(self) -> str | None:
        """The OpenAI-compatible key: WORKBENCH_OPENAI_API_KEY, else OPENAI_API_KEY."""
        if self.openai_api_key is not None:
            return self.openai_api_key.get_secret_value()
        # The conventional variable is honoured so existing shells keep working.
        return os.environ.get("OPENAI_API_KEY")

    def models_path(self) -> Path:
        p = self.models_dir or self.home / "models"
        p.mkdir(parents=True, exist_ok=True)
        return p

    def path(self, *parts: str) -> Path:
        """A path under the home, created on demand."""
        p = self.home.joinpath(*parts)
        p.mkdir(parents=True, exist_ok=True)
        return p


@lru_cache(maxsize=1)
def get_settings() -> WorkbenchSettings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing env."""
    return WorkbenchSettings()
