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
