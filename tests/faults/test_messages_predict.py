"""Case 12: an empty (or blank) text to predict is refused, from the CLI with exit code 2 and from
the Python API, before any model is loaded."""

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.train.info import RunInfo
from workbench.errors import WorkbenchError
from workbench.train.predict import TrainedStudent


@pytest.mark.parametrize("texts, which", [([""], "1 of 1"), (["   "], "1 of 1"),
                                          (["where is my box", "", "cancel it"], "2 of 3")])
def test_an_empty_text_is_refused(texts, which, tmp_path, make_run_info):
    """Case 12: `predict --text ""` (alone or among others) and TrainedStudent.predict([""])."""
    args = ["predict", "--run", "any-run"] + [a for t in texts for a in ("--text", t)]
    out = CliRunner().invoke(app, args)
    assert isinstance(out.exception, SystemExit) and out.exit_code == 2, out.exc_info
    assert out.output.startswith(f"error: --text {which} is empty") and "Traceback" not in out.output, out.output

    # The Python API refuses it before the model sees it (no model needed to show that).
    student = TrainedStudent(tmp_path, RunInfo.model_validate(make_run_info()), model=None, tokenizer=None,
                             device="cpu")
    with pytest.raises(WorkbenchError, match=f"texts {which} is empty"):
        student.predict(texts)
