import json

import pytest

from workbench.store import get_version, latest_version, list_versions, record_id, save_version


def test_versions_increment_with_lineage():
    assert latest_version("t") is None
    v1 = save_version("t", [{"id": "a", "text": "x"}], {"teacher": "tch"})
    v2 = save_version("t", [{"id": "b", "text": "y"}], {"teacher": "tch"})
    assert (v1.version, v2.version) == ("v001", "v002")
    assert v1.manifest["parent_version"] is None and v2.manifest["parent_version"] == "v001"
    assert [v.version for v in list_versions("t")] == ["v001", "v002"]
    assert v2.load()[0] == {"id": "b", "text": "y"}
    assert len(v1.manifest["data_sha256"]) == 64


def test_a_half_written_version_is_invisible(tmp_path):
    save_version("t", [{"id": "a"}], {})
    partial = latest_version("t").path.parent / ".v002.partial-123"
    partial.mkdir()
    (partial.parent / "v003").mkdir()  # no manifest: not a version
    assert [v.version for v in list_versions("t")] == ["v001"]


def test_unknown_version_error_lists_what_exists():
    save_version("t", [{"id": "a"}], {})
    with pytest.raises(FileNotFoundError, match=r"versions: \['v001'\]"):
        get_version("t", "v009")


def test_record_ids_are_content_hashes():
    assert record_id("a", "b") == record_id("a", "b") != record_id("a", "c") != record_id("ab", "")
    assert json.dumps(record_id("x"))  # plain hex string


def test_manifests_are_typed_by_kind_and_written_as_given():
    from workbench.manifest import ReviewedManifest, SyntheticManifest

    v = save_version("t", [{"id": "a"}], SyntheticManifest(kind="synthetic", teacher="tch", counts={"kept": 1}))
    m = v.manifest
    assert isinstance(m, SyntheticManifest) and m.teacher == "tch" and m.counts.kept == 1 and m.total_rows == 1
    on_disk = json.loads((v.path / "manifest.json").read_text())
    assert on_disk == {"kind": "synthetic", "teacher": "tch", "counts": {"kept": 1}, "version": "v001",
                       "parent_version": None, "data_sha256": m.data_sha256}
    # A manifest saved by hand (no kind) takes its folder's kind, and reads by key as the dict did.
    r = save_version("t", [{"id": "a"}], {"parent_synthetic_versions": ["v001"]}, kind="reviewed")
    assert isinstance(r.manifest, ReviewedManifest) and r.manifest.parent_synthetic_versions == ["v001"]
    assert "kind" not in json.loads((r.path / "manifest.json").read_text())
    assert r.manifest["parent_version"] is None and r.manifest.get("teacher", "none") == "none"
    assert r.to_dict() == {"task": "t", "kind": "reviewed", "version": "v001", "path": str(r.path), "kept": None,
                           "rows": None, "parent": None}


def test_a_hand_edited_manifest_names_the_file_and_the_field():
    from workbench.records import RecordError

    v = save_version("t", [{"id": "a"}], {"counts": {"kept": 1}})
    path = v.path / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "counts": {"kept": "lots"}}))
    with pytest.raises(RecordError, match=r"v001/manifest\.json: field 'counts\.kept': .*'lots'.*fix or delete"):
        v.manifest
    with pytest.raises(RecordError, match="field 'counts"):
        save_version("t", [{"id": "b"}], {"counts": []})  # a bad manifest is never saved
    assert [x.version for x in list_versions("t")] == ["v001"]


def test_every_stage_runs_in_one_layout_and_old_run_folders_move_in():
    from workbench.settings import get_settings
    from workbench.store import run_folder

    home = get_settings().home
    assert run_folder("t", "train", "r1") == home / "runs" / "t" / "train" / "r1" and not (home / "runs").exists()
    assert run_folder("t", "generate") == home / "runs" / "t" / "generate"
    old = home / "runs" / "generate" / "t" / "k1"
    old.mkdir(parents=True)
    (old / "journal.jsonl").write_text("{}\n")
    moved = run_folder("t", "generate", "k1", create=True)
    assert (moved / "journal.jsonl").read_text() == "{}\n" and not old.exists()
