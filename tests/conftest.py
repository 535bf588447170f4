"""Every test gets its own workbench home and datasets folder; nothing touches the repo's."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from workbench.settings import WorkbenchSettings

REPO = Path(__file__).resolve().parents[1]
# Run by argilla-server's own Python (tests/integration/test_argilla_search_engine.py).
collect_ignore = ["argilla_engine"]
# argilla-server's virtualenv, made by `make setup` (`workbench argilla install`): read before
# the fixtures below point WORKBENCH_HOME at a temporary folder, so it is the real one.
ARGILLA_VENV = WorkbenchSettings().argilla_venv_path()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def unused_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def argilla_venv() -> Path:
    if not (ARGILLA_VENV / "bin" / "python").exists():
        pytest.fail(f"argilla-server's venv is missing at {ARGILLA_VENV}: run `make setup`")
    return ARGILLA_VENV


def start_local_argilla(root: Path):
    """A LocalArgilla of its own under ``root``, on a free loopback port, started."""
    from workbench.review.server.local import LocalArgilla

    if not (ARGILLA_VENV / "bin" / "python").exists():
        pytest.fail(f"argilla-server's venv is missing at {ARGILLA_VENV}: run `make setup`")
    argilla = LocalArgilla(root, port=free_port(), venv_dir=ARGILLA_VENV)
    argilla.up()
    return argilla


@pytest.fixture
def start_argilla():
    """Start a LocalArgilla of one's own: ``start_argilla(root)``; stopped after the test."""
    started = []

    def start(root: Path):
        started.append(start_local_argilla(root))
        return started[-1]

    yield start
    for argilla in started:
        argilla.down()


@pytest.fixture(scope="session")
def local_argilla(tmp_path_factory):
    """One local Argilla shared by the SDK and browser tests; stopped at the end."""
    argilla = start_local_argilla(tmp_path_factory.mktemp("argilla"))
    yield argilla
    argilla.down()


@pytest.fixture
def argilla_env(local_argilla, monkeypatch):
    """The session's local Argilla as the configured one (WORKBENCH_ARGILLA_URL / _API_KEY)."""
    from workbench.settings import get_settings

    monkeypatch.setenv("WORKBENCH_ARGILLA_URL", local_argilla.url)
    monkeypatch.setenv("WORKBENCH_ARGILLA_API_KEY", local_argilla.credentials().api_key)
    get_settings.cache_clear()
    return local_argilla


@pytest.fixture(scope="session")
def openai_server():
    """llama.cpp's own OpenAI-compatible server on loopback with the bundled SmolLM2 and an API
    key (log-probabilities on, for the judge): ``(base_url, key)``."""
    import secrets
    import subprocess
    import sys
    import time
    import urllib.request

    from workbench.models import gguf_path

    port, key = free_port(), "wb-" + secrets.token_hex(12)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path("smollm2-135m-instruct")),
         "--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port), "--api_key", key,
         "--n_ctx", "2048", "--n_threads", "1", "--logits_all", "True"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            req = urllib.request.Request(f"{url}/models", headers={"Authorization": f"Bearer {key}"})
            urllib.request.urlopen(req, timeout=2)
            break
        except OSError:
            assert proc.poll() is None, "llama_cpp.server exited"
            time.sleep(0.5)
    yield url, key
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="session")
def module_home(tmp_path_factory, models_cache):
    """``with module_home("name") as root:`` a home of its own for a module-scoped fixture
    (the autouse home below is per test); yields the folder holding home/ and datasets/."""
    from contextlib import contextmanager

    from workbench.settings import get_settings

    @contextmanager
    def home(name: str):
        root = tmp_path_factory.mktemp(name)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("WORKBENCH_HOME", str(root / "home"))
            mp.setenv("WORKBENCH_DATASETS_DIR", str(root / "datasets"))
            mp.setenv("WORKBENCH_PROMPTS_DIR", str(REPO / "prompts"))
            mp.setenv("WORKBENCH_MODELS_DIR", str(models_cache))
            mp.delenv("WORKBENCH_TEACHER", raising=False)
            get_settings.cache_clear()
            yield root
        get_settings.cache_clear()

    return home


@pytest.fixture(scope="session")
def models_cache(tmp_path_factory) -> Path:
    """Converted models are shared by the whole session (an F16 GGUF is 0.5 GB)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(autouse=True)
def workbench_env(tmp_path, monkeypatch, models_cache):
    from workbench.settings import get_settings

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WORKBENCH_DATASETS_DIR", str(tmp_path / "datasets"))
    monkeypatch.setenv("WORKBENCH_PROMPTS_DIR", str(REPO / "prompts"))
    monkeypatch.setenv("WORKBENCH_MODELS_DIR", str(models_cache))
    monkeypatch.delenv("WORKBENCH_TEACHER", raising=False)
    monkeypatch.chdir(tmp_path)  # a stray relative path or .env lands here, not in the repo
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def task_copy(tmp_path) -> Path:
    """A writable copy of support_intents (spec, templates, seeds) to break on purpose."""
    import shutil

    dst = tmp_path / "tasks" / "broken"
    shutil.copytree(REPO / "prompts" / "support_intents", dst)
    data = tmp_path / "tasks" / "data"
    shutil.copytree(REPO / "datasets" / "support_intents", data)
    text = (dst / "task.yaml").read_text().replace("../../datasets/support_intents/", "../data/")
    (dst / "task.yaml").write_text(text)
    return dst


def pytest_configure(config):
    os.environ["HF_HUB_OFFLINE"] = "1"
    # pydantic warns about distilabel's field definitions at import; not ours to fix.
    warnings.filterwarnings("ignore", message=".*'default' attribute with value None.*")

def run_info_dict(**overrides) -> dict:
    """A run.json as run_train writes it; nested dicts in ``overrides`` update the defaults'."""
    info = {"task": "support_intents", "type": "classification", "objective": "classify", "method": "lora",
            "run_id": "minilm-l6-reviewed-v003-abcd1234", "run_dir": "/runs/support_intents/train/x",
            "student": "minilm-l6", "student_path": "/models/minilm", "labels": ["a", "b"], "pooling": "mean",
            "dataset": {"kind": "reviewed", "version": "v003", "path": "/datasets/support_intents/reviewed/v003",
                        "data_sha256": "f" * 64, "teacher": "llamacpp:gemma3-270m", "spec_hash": "1234abcd",
                        "parent_version": None, "source_versions": ["v001"]},
            "spec_hash": "1234abcd",
            "hyperparameters": {"method": "lora", "epochs": 4, "learning_rate": 0.003, "batch_size": 8,
                                "validation_fraction": 0.15, "max_length": 128, "seed": 0, "max_steps": None,
                                "warmup_ratio": 0.06, "weight_decay": 0.0, "early_stopping_patience": 2,
                                "checkpoint_every": None, "class_weights": True, "train_on_seeds": True,
                                "lora_r": 8, "lora_alpha": 16, "lora_dropout": 0.0, "effective_batch_size": 8},
            "rows": {"train": 50, "validation": 10, "seeds_added": 0, "dropped": {},
                     "label_counts": {"a": 30, "b": 30}},
            "metrics": {"eval_macro_f1": 0.9}, "train": {"train_runtime": 3.2}, "steps": 24,
            "resumed_from_step": None, "trainable_parameters": 1000, "total_parameters": 100000,
            "hardware": {"device": "cpu"}, "wall_seconds": 12.5, "finished": "2026-12-01T10:00:00Z",
            "workbench_version": "0.1.0"}
    for key, value in overrides.items():
        info[key] = {**info[key], **value} if isinstance(value, dict) and isinstance(info.get(key), dict) else value
    return info


@pytest.fixture
def make_run_info():
    """A complete run.json as a dict (what run_train writes): ``make_run_info(student=...)``."""
    return run_info_dict
