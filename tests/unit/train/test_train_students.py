"""Resolving student names and folders."""

import json

import pytest

from workbench.train.students import UnknownStudentError, resolve_student


def test_bundled_students_are_known_with_their_kind():
    assert resolve_student("minilm-l6").decoder is False
    assert resolve_student("smollm2-135m").decoder is True
    assert resolve_student("gemma3-270m").decoder is True


def test_bad_student_name_says_what_to_use(tmp_path):
    with pytest.raises(UnknownStudentError, match=r"unknown student 'bert-huge'; choose one of \['minilm-l6'"):
        resolve_student("bert-huge")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UnknownStudentError, match="has no config.json"):
        resolve_student(str(tmp_path / "empty"))


def test_a_local_folder_is_a_student(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    student = resolve_student(str(folder))
    assert student.decoder and student.path() == folder.resolve() and student.slug == "my-model"
