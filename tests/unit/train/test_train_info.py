"""run.json as a typed RunInfo: same file back, clear errors, and finding runs in the one layout."""

import json

import pytest

from workbench.records import RecordError
from workbench.store import run_folder
from workbench.train.info import RunInfo, latest_finished
from workbench.train.predict import RunNotFoundError, find_run


def _write(task: str, run_id: str, info: dict):
    folder = run_folder(task, "train", run_id, create=True)
    (folder / "run.json").write_text(json.dumps(info))
    return folder


def test_run_json_reads_back_to_the_same_keys_and_values(make_run_info):
    written = make_run_info()
    info = RunInfo.read(_write("support_intents", "r1", written))
    assert info.to_json_dict() == written and list(info.to_json_dict()) == list(written)
    assert info.hyperparameters.max_length == 128 and info.dataset.source_versions == ["v001"]
    # Scripts written against the plain dict keep working.
    assert info["hyperparameters"]["lora_r"] == 8 and info["rows"]["dropped"] == {} and info.get("nope", 1) == 1


def test_a_run_from_an_older_workbench_still_reads(make_run_info):
    old = make_run_info()
    del old["pooling"], old["rows"]["seeds_added"], old["hyperparameters"]["train_on_seeds"]
    info = RunInfo.parse(old)
    assert info.pooling is None and info.rows.seeds_added is None and "pooling" not in info


def test_a_hand_edited_run_json_names_the_file_and_the_field(make_run_info):
    folder = _write("support_intents", "r1", make_run_info(steps="many"))
    with pytest.raises(RecordError, match=r"run\.json: field 'steps': .*integer.*'many'"):
        RunInfo.read(folder)
    (folder / "run.json").write_text("{not json")
    with pytest.raises(RecordError, match=r"run\.json is not valid JSON"):
        RunInfo.read(folder)
    (folder / "run.json").write_text(json.dumps({k: v for k, v in make_run_info().items() if k != "objective"}))
    with pytest.raises(RecordError, match=r"field 'objective': Field required"):
        RunInfo.read(folder)


def test_latest_finished_picks_the_objective_and_the_newest_run_per_student(make_run_info):
    for name, objective, student, when in [("a", "sft", "smollm2-135m", "2024-01-01"),
                                           ("b", "sft", "smollm2-135m", "2024-02-01"),
                                           ("c", "classify", "minilm-l6", "2024-03-01")]:
        _write("t", name, make_run_info(objective=objective, student=student, finished=when))
    run_folder("t", "train", "unfinished", create=True)  # no run.json: still training, or killed
    assert [p.name for p in latest_finished("t", "sft")] == ["b"]
    assert [p.name for p in latest_finished("t")] == ["c"]
    assert latest_finished("other") == []


def test_find_run_by_id_by_task_and_id_and_by_folder(make_run_info):
    folder = _write("support_intents", "minilm-l6-synthetic-v001-1a2b3c4d", make_run_info())
    assert folder.parts[-3:] == ("support_intents", "train", "minilm-l6-synthetic-v001-1a2b3c4d")
    assert find_run("minilm-l6-synthetic-v001-1a2b3c4d") == folder
    assert find_run("support_intents/minilm-l6-synthetic-v001-1a2b3c4d") == folder
    assert find_run(folder) == folder
    with pytest.raises(RunNotFoundError, match=r"runs: \['support_intents/minilm-l6-synthetic-v001-1a2b3c4d'\]"):
        find_run("nope")
