"""Environment-derived configuration, in one place.

Every path, endpoint and secret the workbench reads from the environment lives in
:class:`WorkbenchSettings`; no other module reads ``os.environ`` (the argilla-server side,
which runs in its own virtualenv, is the one exception). Experiments (labels, templates, hyperparameters) live in
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

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkbenchSettings(BaseSettings):
    """Where the workbench keeps its state and how it reaches outside services.

    Values come from ``WORKBENCH_*`` environment variables or a ``.env`` file in the
    working directory. A few also take the variable their own tool reads (``OPENAI_API_KEY``,
    ``ARGILLA_API_URL``, ``ARGILLA_API_KEY``) so existing shells keep working; the
    ``WORKBENCH_`` name wins when both are set. Secrets are :class:`~pydantic.SecretStr`,
    so they never show in a repr, a log line or a manifest.
    """

    model_config = SettingsConfigDict(
        env_prefix="WORKBENCH_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        populate_by_name=True,  # WorkbenchSettings(argilla_url=...) too, not only its aliases
    )

    home: Path = Field(Path(".workbench"), description="Generated state: models, runs, caches.")
    prompts_dir: Path = Field(Path("prompts"), description="Where task specs live: <dir>/<task>/task.yaml.")
    datasets_dir: Path = Field(Path("datasets"), description="Versioned datasets: <dir>/<task>/synthetic/<version>/.")
    models_dir: Path | None = Field(None, description="Converted model cache; default <home>/models.")
    teacher: str = Field("llamacpp:gemma3-270m", description="Default teacher spec (see workbench.generate.teachers).")
    threads: int = Field(0, description="CPU threads for llama.cpp; 0 means all cores.")
    # validation_alias replaces the prefixed name, so each lists its WORKBENCH_ name first.
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("WORKBENCH_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="Key for openai:<model>@<url> teachers; OPENAI_API_KEY works too.")

    argilla_url: str | None = Field(
        None, validation_alias=AliasChoices("WORKBENCH_ARGILLA_URL", "ARGILLA_API_URL"),
        description="A remote Argilla (ARGILLA_API_URL works too); unset means the local one.")
    argilla_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("WORKBENCH_ARGILLA_API_KEY", "ARGILLA_API_KEY"),
        description="Its API key (ARGILLA_API_KEY works too).")
    argilla_host: str = Field("127.0.0.1", description="Where the local Argilla listens; loopback by default.")
    argilla_port: int = Field(6900, description="The local Argilla's port.")
    pipeline_progress: Path | None = Field(
        None, description="Set by `pipeline run` for the kernels it starts: the file their progress bars go to "
                          "(plumbing between two processes, not a user setting).")
    argilla_venv: Path | None = Field(
        None, description="argilla-server's own virtualenv; default <home>/argilla/venv.")
    run_lock_timeout: float | None = Field(
        None, description="Seconds a run waits for another run of the same command to finish before it "
                          "refuses (workbench.locks); unset: wait as long as it takes; 0: refuse at once.")
    fault_kill_at: str | None = Field(
        None, description="Test hook (tests/faults/): SIGKILL the run at this named point (workbench.faults).")

    def resolved_threads(self) -> int:
        return self.threads if self.threads > 0 else (os.cpu_count() or 1)

    def api_key(self) -> str | None:
        """The OpenAI-compatible key: WORKBENCH_OPENAI_API_KEY, else OPENAI_API_KEY."""
        return self.openai_api_key.get_secret_value() if self.openai_api_key else None

    def argilla_key(self) -> str | None:
        """The remote Argilla's key: WORKBENCH_ARGILLA_API_KEY, else ARGILLA_API_KEY."""
        return self.argilla_api_key.get_secret_value() if self.argilla_api_key else None

    def argilla_venv_path(self) -> Path:
        """argilla-server's virtualenv, absolute: WORKBENCH_ARGILLA_VENV, else <home>/argilla/venv.

        Example:
            >>> WorkbenchSettings(home=Path("/tmp/wb"), argilla_venv=None).argilla_venv_path()
            PosixPath('/tmp/wb/argilla/venv')
        """
        return (self.argilla_venv or self.home / "argilla" / "venv").resolve()

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
