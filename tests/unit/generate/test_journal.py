from workbench.generate.journal import Journal


def test_append_and_read_back(tmp_path):
    j = Journal(tmp_path / "j.jsonl")
    j.append([{"job": "a", "text": "1"}, {"job": "b", "text": "2"}])
    j.append([{"job": "a", "text": "again"}])  # a job is never counted twice: first wins
    assert [e["text"] for e in j.entries()] == ["1", "2"]
    assert j.done_jobs() == {"a", "b"} and j.count() == 3


def test_torn_last_line_is_ignored_then_repaired(tmp_path):
    path = tmp_path / "j.jsonl"
    j = Journal(path)
    j.append([{"job": "a", "text": "1"}])
    with path.open("a") as fh:
        fh.write('{"job": "b", "te')  # what a SIGKILL mid-write leaves
    assert j.done_jobs() == {"a"}
    assert j.repair() == len('{"job": "b", "te')
    j.append([{"job": "c", "text": "3"}])
    assert j.done_jobs() == {"a", "c"}
    assert path.read_text().count("\n") == 2
