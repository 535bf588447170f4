"""Review results show as escaped tables in a notebook, like every other stage's result."""

from pathlib import Path

from workbench.review.pull import PullResult
from workbench.review.server.local import ArgillaStatus
from workbench.review.sync import PushResult, ReviewStatus
from workbench.store import DatasetVersion


def test_push_and_status_show_as_tables():
    push = PushResult("http://127.0.0.1:6900", "support_intents", "admin", "v001", 12, 3, 15)
    html = push._repr_html_()
    assert html.startswith("<table>") and "<td>admin/support_intents</td>" in html and "<td>12</td>" in html
    status = ReviewStatus("http://127.0.0.1:6900", "<b>x</b>", 10, 4, 6, {"ana": {"submitted": 4, "draft": 1}})
    html = status._repr_html_()
    assert "<td>4/10</td>" in html and "&lt;b&gt;x&lt;/b&gt;" in html  # escaped
    assert "<th>reviewer</th><th>submitted</th><th>draft</th>" in html and "<td>ana</td><td>4</td><td>1</td>" in html


def test_pull_shows_the_decisions_agreement_and_labels():
    counts = {"reviewed": 5, "unreviewed": 1, "decisions": {"accepted": 3, "corrected": 1, "discarded": 1},
              "per_label": {"billing_issue": 4}, "acceptance_by_suggested_label": {"billing_issue": 0.75},
              "agreement": {"method": "cohen_kappa", "value": 0.5}}
    pulled = PullResult(DatasetVersion("support_intents", "reviewed", "v001", Path("/tmp/v001")), "http://a", False,
                        counts)
    html = pulled._repr_html_()
    assert "<td>support_intents reviewed v001</td>" in html and "<td>accepted</td><td>3</td>" in html
    assert "<td>agreement (cohen_kappa)</td><td>0.5</td>" in html
    assert "<td>billing_issue</td><td>4</td><td>0.75</td>" in html


def test_local_argilla_status_shows_its_processes():
    status = ArgillaStatus("http://127.0.0.1:6900", True, {"server": {"pid": 42, "alive": True}}, 2, 30)
    html = status._repr_html_()
    assert "<td>up</td>" in html and "<td>server</td><td>42</td><td>running</td>" in html
