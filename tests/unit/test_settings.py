from pathlib import Path

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
