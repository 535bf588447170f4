"""The model registry: one entry per model, and every other table derived from it."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from workbench import models
from workbench.models import (
    BundledModel,
    UnknownModelError,
    find_model,
    get_model,
    gguf_students,
    list_models,
    models_for,
    prompt_mode,
    student_names,
)

REPO = Path(__file__).resolve().parents[2]


def _tiny(path: Path, **overrides) -> BundledModel:
    fields = dict(name="tiny-chat-1m", kind="gguf", mode="chat", architecture="decoder",
                  roles=("teacher", "student", "judge"), description="a tiny chat model", locate=lambda: path,
                  student_name="tiny")
    return BundledModel(**{**fields, **overrides})


def test_roles_say_what_each_model_can_be():
    assert [m.name for m in models_for("teacher")] == ["smollm2-135m-instruct", "gemma3-270m",
                                                       "qwen2.5-coder-1.5b-instruct"]
    assert [m.name for m in models_for("judge")] == ["smollm2-135m-instruct", "gemma3-270m",
                                                     "qwen2.5-coder-1.5b-instruct"]
    assert [m.name for m in models_for("embedder")] == ["minilm-l6"]
    assert [m.name for m in models_for("student")] == ["minilm-l6", "smollm2-135m-instruct", "gemma3-270m"]
    assert [m.decoder for m in models_for("student")] == [False, True, True]
    with pytest.raises(ValueError, match="unknown role"):
        models_for("oracle")


def test_every_name_that_worked_still_finds_its_model():
    assert sorted(list_models()) == ["gemma3-270m", "minilm-l6", "qwen2.5-coder-1.5b-instruct",
                                     "smollm2-135m-instruct"]
    assert get_model("qwen-coder-1.5b") is get_model("qwen2.5-coder-1.5b-instruct")
    assert get_model("smollm2-135m") is get_model("smollm2-135m-instruct")  # the student name is an alias
    assert find_model("llama-70b") is None
    with pytest.raises(UnknownModelError, match="choose one of"):
        get_model("llama-70b")


def test_modes_come_from_the_registry_and_default_to_chat():
    assert prompt_mode("gemma3-270m") == "completion"
    assert prompt_mode("smollm2-135m") == prompt_mode("smollm2-135m-instruct") == "chat"
    assert prompt_mode("qwen-coder-1.5b") == "chat" and get_model("qwen-coder-1.5b").student is None
    assert prompt_mode("/models/other.gguf") == prompt_mode("qwen2.5-7b-instruct") == "chat"


def test_the_stages_tables_are_derived_from_the_registry():
    from workbench.evaluate.config import EvaluateConfig
    from workbench.evaluate.ladder import DEFAULT_STUDENTS, GGUF_STUDENTS
    from workbench.train.students import list_students, resolve_student

    assert DEFAULT_STUDENTS == list_students() == student_names() == ["minilm-l6", "smollm2-135m", "gemma3-270m"]
    assert GGUF_STUDENTS == gguf_students() == {"smollm2-135m": "smollm2-135m-instruct",
                                                "gemma3-270m": "gemma3-270m"}
    assert [resolve_student(s).decoder for s in student_names()] == [m.decoder for m in models_for("student")]
    assert ", ".join(student_names()) in EvaluateConfig.model_fields["students"].description


def test_an_entry_is_checked_when_it_is_made(tmp_path):
    with pytest.raises(ValueError, match="unknown roles"):
        _tiny(tmp_path, roles=("teacher", "oracle"))
    with pytest.raises(ValueError, match="needs a prompting mode"):
        _tiny(tmp_path, mode=None)


def test_one_entry_is_all_a_new_model_needs(tmp_path, monkeypatch):
    from workbench.generate.teachers import TeacherSpec
    from workbench.train.students import list_students, resolve_student

    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setitem(models.REGISTRY, "tiny-chat-1m", _tiny(gguf))
    assert "tiny-chat-1m" in list_models() and "tiny" in student_names() and "tiny" in list_students()
    student = resolve_student("tiny")
    assert student.name == "tiny" and student.decoder
    assert [m.name for m in models_for("teacher")][-1] == "tiny-chat-1m"
    assert str(TeacherSpec.parse("tiny-chat-1m")) == "llamacpp:tiny-chat-1m?mode=chat"
    assert TeacherSpec.parse("llamacpp:tiny").mode == "chat"
    assert gguf_students()["tiny"] == "tiny-chat-1m" and models.gguf_path("tiny") == gguf
    monkeypatch.setitem(models.REGISTRY, "tiny-chat-1m", _tiny(gguf, mode="completion", roles=("student",)))
    assert prompt_mode("tiny") == "completion" and "tiny" in student_names()
    assert "tiny-chat-1m" not in [m.name for m in models_for("teacher")]


def test_an_entry_added_before_the_stages_load_reaches_their_tables(tmp_path):
    # The stages' module constants (the ladder's students, the help texts) are derived when
    # they are imported; a fresh interpreter shows an entry reaches them with no other edit.
    code = textwrap.dedent(f"""
        import json
        from pathlib import Path
        from workbench import models
        models.REGISTRY["tiny-chat-1m"] = models.BundledModel(
            name="tiny-chat-1m", kind="gguf", mode="chat", architecture="decoder", roles=("teacher", "student"),
            description="a tiny chat model", locate=lambda: Path({str(tmp_path / "tiny.gguf")!r}),
            student_name="tiny")
        from workbench.evaluate.config import EvaluateConfig
        from workbench.evaluate.ladder import DEFAULT_STUDENTS, GGUF_STUDENTS
        print(json.dumps({{"students": DEFAULT_STUDENTS, "gguf": GGUF_STUDENTS,
                          "help": EvaluateConfig.model_fields["students"].description}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["students"][-1] == "tiny" and seen["gguf"]["tiny"] == "tiny-chat-1m"
    assert "tiny" in seen["help"]
