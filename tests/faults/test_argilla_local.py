"""The local Argilla under faults: a fresh home, secrets on disk, a non-default port, SDK date
filters, a server killed mid-push, and pushes killed at random moments.

One local Argilla, started the way a user starts it (`workbench argilla up --port P`, P not
6900), serves the whole module; each test points WORKBENCH_HOME at its home. Pushing embeds
with MiniLM; here a seeded stand-in gives the vectors, so no model loads.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import numpy as np
import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.settings import get_settings
from workbench.store import record_id, save_version
from workbench.tasks import load_task

rg = pytest.importorskip("argilla")
TASK = "support_intents"
SEED = int(os.environ.get("WORKBENCH_FAULT_SEED", "13"))


def fake_embed(texts, progress=False):
    """Unit vectors seeded by each text: the same text always gets the same vector."""
    rows = [np.random.default_rng(int(hashlib.sha256(t.encode()).hexdigest()[:12], 16)).standard_normal(384)
            for t in texts]
    out = np.stack(rows) if rows else np.zeros((0, 384))
    return out / np.linalg.norm(out, axis=1, keepdims=True).clip(1e-9)


# A push in a process of its own (so it can be SIGKILLed): it says "batch" before each request.
PUSH_SCRIPT = f"""
import hashlib, sys
import numpy as np
import workbench.review.sync as sync
{"".join(__import__("inspect").getsource(fake_embed))}
sync.embed = fake_embed
real = sync._records
def loud(*args, **kwargs):
    print("batch", flush=True)
    return real(*args, **kwargs)
sync._records = loud
from workbench.review import ReviewConfig, run_push
r = run_push(ReviewConfig(task="{TASK}", dataset=sys.argv[1], batch_size=int(sys.argv[2]), progress=False))
print("done", r.pushed, r.already_there, flush=True)
"""


def _rows(n: int, tag: str) -> list[dict]:
    spec = load_task(TASK)
    base = spec.seed_examples
    rows = []
    for i in range(n):
        ex = base[i % len(base)]
        text = f"{ex['text']} ({tag} #{i})"
        rows.append({"id": record_id(ex["label"], text), "text": text, "label": ex["label"], "max_similarity": 0.5,
                     "chars": len(text), "template": "t:abc", "teacher": "llamacpp:gemma3-270m"})
    return rows


def _free_port() -> int:
    import socket

    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            if s.getsockname()[1] != 6900:  # the default port: the point is to run elsewhere
                return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(module_home, argilla_venv):
    """(folder holding home/ and datasets/, port): `workbench argilla up --port P` on a fresh home."""
    # The argilla-server venv `make setup` made: a fresh home would otherwise install its own.
    with module_home("argilla-faults") as root, pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_ARGILLA_VENV", str(argilla_venv))
        get_settings.cache_clear()
        port = _free_port()
        result = CliRunner().invoke(app, ["argilla", "up", "--port", str(port), "--json"])
        assert result.exit_code == 0, result.output
        try:
            yield root, port
        finally:
            from workbench.review.server.local import LocalArgilla

            LocalArgilla.from_settings(port=port).down()


@pytest.fixture
def home(served, monkeypatch, argilla_venv):
    """This test runs in the module's home (the one whose Argilla runs)."""
    root, port = served
    monkeypatch.setenv("WORKBENCH_HOME", str(root / "home"))
    monkeypatch.setenv("WORKBENCH_DATASETS_DIR", str(root / "datasets"))
    monkeypatch.setenv("WORKBENCH_ARGILLA_VENV", str(argilla_venv))
    monkeypatch.delenv("WORKBENCH_ARGILLA_URL", raising=False)
    monkeypatch.delenv("WORKBENCH_ARGILLA_API_KEY", raising=False)
    monkeypatch.delenv("ARGILLA_API_URL", raising=False)
    monkeypatch.delenv("ARGILLA_API_KEY", raising=False)
    get_settings.cache_clear()
    yield root, port
    get_settings.cache_clear()


def _local(port: int):
    from workbench.review.server.local import LocalArgilla

    return LocalArgilla.from_settings(port=port)


def _settings():
    return rg.Settings(fields=[rg.TextField(name="text")], questions=[rg.LabelQuestion("label", ["a", "b"])])


def test_a_fresh_home_gives_the_sdk_a_workspace(home):
    """Case 15: right after `up` on a fresh home, the SDK's first Dataset(...).create() works."""
    _, port = home
    client = _local(port).client()
    dataset = rg.Dataset(name="first", settings=_settings(), client=client).create()
    assert dataset.workspace.name == "workbench"
    assert client.me.username in [u.username for u in dataset.workspace.users]


def test_every_file_holding_a_secret_is_private(home):
    """Case 5: the database (which holds the owner's API key) and the credentials are 0600 in 0700
    folders, and so is every other file under the home that holds a secret."""
    _, port = home
    argilla = _local(port)
    creds = argilla.credentials()
    client = argilla.client()
    dataset = rg.Dataset(name="secrets", settings=_settings(), client=client,
                         workspace=rg.Workspace(name="secrets", client=client).create()).create()
    dataset.records.log([{"text": f"row {i}"} for i in range(3)])

    secrets = [creds.api_key.encode(), creds.password.encode(),
               json.loads(argilla.credentials_file.read_text())["auth_secret"].encode()]
    holding = []
    for path in get_settings().home.rglob("*"):
        if path.is_file() and not path.is_symlink() and any(s in path.read_bytes() for s in secrets):
            holding.append(path)
    assert argilla.database in holding and argilla.credentials_file in holding
    for path in holding + [argilla.database, *argilla.data_dir.glob("argilla.db-*"), argilla.search_db]:
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path} is {oct(path.stat().st_mode)}"
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, f"{path.parent} is not 0700"


def test_every_command_talks_to_the_argilla_up_started(home, monkeypatch):
    """Case 7: after `argilla up --port P`, push, status and the notebooks' ensure_argilla use P,
    never 127.0.0.1:6900; `down` and `status` take --port like `up`."""
    import workbench.review.sync as sync
    from workbench.review.connection import ensure_argilla, resolve

    _, port = home
    monkeypatch.setattr(sync, "embed", fake_embed)
    url = f"http://127.0.0.1:{port}"
    assert resolve()[0] == url and ensure_argilla() == url
    runner = CliRunner()
    status = runner.invoke(app, ["argilla", "status", "--json"])
    assert status.exit_code == 0 and json.loads(status.stdout.splitlines()[-1])["url"] == url
    status = runner.invoke(app, ["argilla", "status", "--port", str(port), "--json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout.splitlines()[-1])["healthy"] is True

    save_version(TASK, _rows(12, "port"), {"task": TASK, "teacher": "llamacpp:gemma3-270m"})
    pushed = runner.invoke(app, ["review", "push", "--task", TASK, "--dataset", "port", "--json"])
    assert pushed.exit_code == 0, pushed.output
    assert json.loads(pushed.stdout.splitlines()[-1])["url"] == url

    other = port + 1
    down = runner.invoke(app, ["argilla", "down", "--port", str(other)])
    assert down.exit_code == 2 and f"runs on port {port}, not {other}" in down.output
    assert _local(port).healthy(), "a down for another port must not stop this one"


def test_sdk_date_range_filters_on_inserted_and_updated_at(home):
    """Case 14: filtering records by inserted_at / updated_at with a date range through the SDK works
    (it was an HTTP 500 from the local engine) and selects by the records' own timestamps."""
    _, port = home
    client = _local(port).client()
    dataset = rg.Dataset(name="dates", settings=_settings(), client=client,
                         workspace=rg.Workspace(name="dates", client=client).create()).create()
    dataset.records.log([{"text": f"early {i}"} for i in range(3)])
    time.sleep(0.3)
    dataset.records.log([{"text": f"late {i}"} for i in range(2)])
    records = list(dataset.records())
    early = [r for r in records if r.fields["text"].startswith("early")]
    late = [r for r in records if r.fields["text"].startswith("late")]
    cut = max(r.inserted_at for r in early) + (min(r.inserted_at for r in late) - max(r.inserted_at for r in early)) / 2

    def texts(*conditions) -> set[str]:
        return {r.fields["text"] for r in dataset.records(query=rg.Query(filter=rg.Filter(list(conditions))))}

    names = lambda rs: {r.fields["text"] for r in rs}  # noqa: E731
    for field in ("inserted_at", "updated_at"):
        assert texts((field, "<=", cut.isoformat())) == names(early)
        assert texts((field, ">=", cut)) == names(late)  # a datetime: the SDK sends it as ISO 8601
        day = cut.date()
        assert texts((field, ">=", (day - timedelta(days=1)).isoformat()),
                     (field, "<=", (day + timedelta(days=1)).isoformat())) == names(records)
    with pytest.raises(rg._exceptions.UnprocessableEntityError, match="not an ISO 8601 date"):
        texts(("inserted_at", ">=", "last tuesday"))


def _ids_in_argilla(argilla, dataset: str) -> tuple[Counter, set, set]:
    """(ids the SDK lists, as a Counter; ids in the database; ids in the search index) for a dataset."""
    listed = Counter(r.id for r in argilla.client().datasets(dataset, workspace="workbench").records())
    with sqlite3.connect(f"file:{argilla.database}?mode=ro", uri=True) as db:
        ds_id = db.execute("SELECT id FROM datasets WHERE name = ?", (dataset,)).fetchone()[0]
        in_db = {r[0] for r in db.execute("SELECT external_id FROM records WHERE dataset_id = ?", (ds_id,))}
        record_ids = {str(r[0]).replace("-", "") for r in db.execute("SELECT id FROM records WHERE dataset_id = ?",
                                                                      (ds_id,))}
    with sqlite3.connect(f"file:{argilla.search_db}?mode=ro", uri=True) as db:
        indexed = {r[0].replace("-", "") for r in db.execute("SELECT id FROM docs")}
    return listed, in_db, record_ids <= indexed and len(record_ids) == len(in_db)


def test_a_server_killed_mid_push_is_one_clear_line_and_the_next_push_completes(home, monkeypatch):
    """Case 13: killing the Argilla server mid-push ends the push with one line (no httpx traceback),
    exit 2; after `up` the same push sends the rest and every record is there once."""
    import workbench.review.sync as sync
    from workbench.review import ReviewConfig, ReviewError, run_push

    _, port = home
    argilla = _local(port)
    monkeypatch.setenv("WORKBENCH_ARGILLA_PORT", str(port))  # this case without case 7's fix
    get_settings.cache_clear()
    monkeypatch.setattr(sync, "embed", fake_embed)
    rows = _rows(100, "kill-server")
    save_version(TASK, rows, {"task": TASK, "teacher": "llamacpp:gemma3-270m"})
    real, calls = sync._records, []

    def kill_before_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            os.kill(json.loads(argilla.state_file.read_text())["pids"]["server"], signal.SIGKILL)
            time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(sync, "_records", kill_before_third_batch)
    runner = CliRunner()
    push = ["review", "push", "--task", TASK, "--dataset", "killed", "--json"]

    with pytest.raises(ReviewError) as err:
        run_push(ReviewConfig(task=TASK, dataset="killed", batch_size=20, progress=False))
    message = str(err.value)
    assert message == (f"lost the connection to Argilla at http://127.0.0.1:{port} during push: 40 of 100 records "
                       "sent; start it with `workbench argilla up` and push again: records already sent are not "
                       "duplicated")
    # The CLI shows it as one line, exit 2 (the server is still down: the check before the push says so).
    result = runner.invoke(app, push)
    assert result.exit_code == 2 and "Traceback" not in result.output and len(result.output.splitlines()) == 1

    monkeypatch.setattr(sync, "_records", real)
    up = runner.invoke(app, ["argilla", "up", "--json"])
    assert up.exit_code == 0 and json.loads(up.stdout.splitlines()[-1])["url"].endswith(f":{port}")
    again = run_push(ReviewConfig(task=TASK, dataset="killed", batch_size=20, progress=False))
    assert again.total_in_argilla == 100 and again.already_there >= 40
    listed, in_db, indexed = _ids_in_argilla(argilla, "killed")
    assert set(listed) == {r["id"] for r in rows} and max(listed.values()) == 1 and indexed
    assert in_db == set(listed)


def test_pushes_killed_at_random_moments_leave_every_record_once(home, tmp_path, monkeypatch):
    """Kill-at-random (review push): the push process is SIGKILLed at seed-chosen moments (a batch
    and a delay into it), then run again; in the end every record is in Argilla exactly once."""
    _, port = home
    argilla = _local(port)
    monkeypatch.setenv("WORKBENCH_ARGILLA_PORT", str(port))
    get_settings.cache_clear()
    argilla.up()  # running already, unless a test before this one failed with it down
    rows = _rows(240, "kill-push")
    save_version(TASK, rows, {"task": TASK, "teacher": "llamacpp:gemma3-270m"})
    script = tmp_path / "push.py"
    script.write_text(PUSH_SCRIPT)
    rng, batch, kills = random.Random(SEED), 20, []
    env = dict(os.environ)
    for _ in range(4):
        at, delay = rng.randint(1, 3), rng.uniform(0.0, 0.3)  # after the at-th batch began, delay s later
        proc = subprocess.Popen([sys.executable, str(script), "random-kills", str(batch)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        seen = 0
        for line in proc.stdout:
            if line.startswith("batch"):
                seen += 1
                if seen == at:
                    time.sleep(delay)
                    proc.kill()
                    break
            elif line.startswith("done"):
                break
        proc.wait(60)
        kills.append((at, round(delay, 3), proc.returncode))
    final = subprocess.run([sys.executable, str(script), "random-kills", str(batch)], capture_output=True, text=True,
                           env=env, timeout=120)
    assert final.returncode == 0, final.stderr[-2000:]
    assert [k for k in kills if k[2] == -signal.SIGKILL], f"no push was killed: {kills}"
    listed, in_db, indexed = _ids_in_argilla(argilla, "random-kills")
    assert set(listed) == {r["id"] for r in rows}, kills
    assert max(listed.values()) == 1 and in_db == set(listed) and indexed
