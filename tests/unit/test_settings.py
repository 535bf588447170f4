from pathlib import Path

import pytest
from pydantic import SecretStr

from workbench.settings import WorkbenchSettings


def test_env_prefix_and_dotenv(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("WORKBENCH_TEACHER=llamacpp:smollm2-135m-instruct\nWORKBENCH_THREADS=3\n")
    monkeypatch.chdir(tmp_path)
    s = WorkbenchSettings()
    assert s.teacher == "llamacpp:smollm2-135m-instruct" and s.resolved_threads() == 3
    monkeypatch.setenv("WORKBENCH_TEACHER", "gemma3-270m")
    assert WorkbenchSettings().teacher == "gemma3-270m"  # the environment beats .env


def test_secrets_never_show_in_repr_or_dump(monkeypatch):
    monkeypatch.setenv("WORKBENCH_OPENAI_API_KEY", "sk-live-abcdefghijkl")
    s = WorkbenchSettings()
    assert s.api_key() == "sk-live-abcdefghijkl"
    assert "abcdefghijkl" not in repr(s) and "abcdefghijkl" not in s.model_dump_json()


def test_openai_api_key_fallback(monkeypatch):
    monkeypatch.delenv("WORKBENCH_OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-other")
    assert WorkbenchSettings().api_key() == "sk-other"


def test_home_default_is_dot_workbench(monkeypatch):
    monkeypatch.delenv("WORKBENCH_HOME", raising=False)
    assert WorkbenchSettings().home == Path(".workbench")


@pytest.mark.parametrize("field, ours, theirs", [
    ("openai_api_key", "WORKBENCH_OPENAI_API_KEY", "OPENAI_API_KEY"),
    ("argilla_url", "WORKBENCH_ARGILLA_URL", "ARGILLA_API_URL"),
    ("argilla_api_key", "WORKBENCH_ARGILLA_API_KEY", "ARGILLA_API_KEY"),
])
def test_either_name_works_and_the_workbench_one_wins(monkeypatch, field, ours, theirs):
    def value():
        v = getattr(WorkbenchSettings(), field)
        return v.get_secret_value() if isinstance(v, SecretStr) else v

    monkeypatch.delenv(ours, raising=False)
    monkeypatch.delenv(theirs, raising=False)
    assert value() is None
    monkeypatch.setenv(theirs, "their-value")
    assert value() == "their-value"
    monkeypatch.setenv(ours, "our-value")
    assert value() == "our-value"  # both set: WORKBENCH_ first
    monkeypatch.delenv(theirs)
    assert value() == "our-value"


def test_argilla_key_and_argilla_venv_path(monkeypatch, tmp_path):
    monkeypatch.delenv("WORKBENCH_ARGILLA_API_KEY", raising=False)
    monkeypatch.setenv("ARGILLA_API_KEY", "argilla.key")
    monkeypatch.delenv("WORKBENCH_ARGILLA_VENV", raising=False)
    monkeypatch.setenv("WORKBENCH_HOME", "rel-home")
    monkeypatch.chdir(tmp_path)
    s = WorkbenchSettings()
    assert s.argilla_key() == "argilla.key"
    assert s.argilla_venv_path() == tmp_path / "rel-home" / "argilla" / "venv"  # absolute
    monkeypatch.setenv("WORKBENCH_ARGILLA_VENV", str(tmp_path / "elsewhere"))
    assert WorkbenchSettings().argilla_venv_path() == tmp_path / "elsewhere"
