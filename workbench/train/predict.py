"""Using a trained student: ``load_student(run)`` and ``predict`` in batches.

A run is named by its folder, ``<task>/<run-id>``, or the run id alone (looked up under
``<home>/runs/<task>/train/``). The merged model is loaded by default (no peft at inference); pass
``adapter=True`` to load the base student plus the LoRA adapter instead.

Example:
    >>> from workbench.train import load_student
    >>> student = load_student("minilm-l6-synthetic-v001-1a2b3c4d")   # doctest: +SKIP
    >>> student.predict(["where is my parcel?"])                      # doctest: +SKIP
    ['delivery_status']
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.settings import get_settings
from workbench.store import run_folder
from workbench.train.info import STAGE, RunInfo


class RunNotFoundError(WorkbenchError, FileNotFoundError):
    """No finished run under that name."""


def find_run(run: str | Path) -> Path:
    """The folder of a finished run: a path, ``<task>/<run-id>`` or a run id."""
    path = Path(run).expanduser()
    if (path / "run.json").is_file():
        return path
    root = get_settings().home / "runs"
    task, _, run_id = str(run).rpartition("/")
    found = [run_folder(task, STAGE, run_id)] if task else list(root.glob(f"*/{STAGE}/{run}"))
    found = [p for p in found if (p / "run.json").is_file()]
    if len(found) == 1:
        return found[0]
    finished = sorted(f"{p.parent.parent.parent.name}/{p.parent.name}" for p in root.glob(f"*/{STAGE}/*/run.json"))
    if len(found) > 1:
        raise RunNotFoundError(f"run {run!r} matches several: {found}; give <task>/<run-id>")
    raise RunNotFoundError(f"no finished run {run!r} (a folder with run.json); finished runs: "
                           f"{finished[-10:] or 'none yet, train one with `workbench train`'}")


class PredictInputError(WorkbenchError, ValueError):
    """Texts a student cannot be asked about (an empty one), or a batch size out of its limits."""


MAX_BATCH_SIZE = 4096


def check_inputs(texts: list[str] | str, batch_size: int = 32, names: tuple[str, str] = ("texts", "batch_size")
                 ) -> list[str]:
    """``texts`` as a list, checked: none empty or blank, ``batch_size`` from 1 to :data:`MAX_BATCH_SIZE`.

    ``names`` are what the caller calls the two (the CLI: ``("--text", "--batch-size")``).

    Example:
        >>> try:
        ...     check_inputs(["hi", "  "], names=("--text", "--batch-size"))
        ... except PredictInputError as err:
        ...     print(err)
        --text 2 of 2 is empty: a student has nothing to label in '  '; give the text or leave it out
    """
    texts = [texts] if isinstance(texts, str) else list(texts)
    what, size = names
    for i, text in enumerate(texts, 1):
        if not isinstance(text, str) or not text.strip():
            raise PredictInputError(f"{what} {i} of {len(texts)} is empty: a student has nothing to label in "
                                    f"{text!r}; give the text or leave it out")
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise PredictInputError(f"{size} must be between 1 and {MAX_BATCH_SIZE} (you gave {batch_size}): "
                                "texts run through the model together")
    return texts


class TrainedStudent:
    """A loaded student of a finished run; ``predict`` labels or answers texts in batches."""

    def __init__(self, run_dir: Path, info: RunInfo, model, tokenizer, device: str):
        self.run_dir, self.info, self.model, self.tokenizer, self.device = run_dir, info, model, tokenizer, device
        self.objective: str = info.objective
        self.labels: list[str] | None = info.labels

    def __repr__(self) -> str:
        return f"TrainedStudent({self.info.task}/{self.run_dir.name}, {self.objective})"

    def logits(self, texts: list[str], batch_size: int = 32):
        """Classifier logits, shape (len(texts), labels), in the order of ``texts``."""
        import torch

        out = []
        for i in range(0, len(texts), batch_size):
            enc = self.tokenizer(texts[i:i + batch_size], truncation=True, padding=True,
                                 max_length=self.info.hyperparameters.max_length, return_tensors="pt")
            with torch.inference_mode():
                out.append(self.model(**enc.to(self.device)).logits.float().cpu())
        return torch.cat(out) if out else torch.empty(0, len(self.labels or []))

    def predict_proba(self, texts: list[str], batch_size: int = 32) -> list[dict[str, float]]:
        probs = self.logits(texts, batch_size).softmax(-1)
        return [dict(zip(self.labels, map(float, row))) for row in probs]

    def predict(self, texts: list[str] | str, batch_size: int = 32, max_new_tokens: int = 128) -> list[str]:
        """Labels (classification) or answers (SFT, greedy) for ``texts``; an empty text is refused.

        A run of a task with ``out_of_scope`` on answers ``out_of_scope`` for a message that fits
        no intent (:meth:`predict_scoped` says with which score).
        """
        texts = check_inputs(texts, batch_size)
        if self.objective == "classify":
            return [p.label for p in self.predict_scoped(texts, batch_size)]
        return self._generate(texts, batch_size, max_new_tokens)

    @cached_property
    def scope(self):
        """The run's out-of-scope gate (:mod:`workbench.train.scope`), or None."""
        from workbench.train.scope import Scope

        return Scope.load(self.run_dir)

    def predict_scoped(self, texts: list[str] | str, batch_size: int = 32) -> list:
        """Per text a :class:`~workbench.train.scope.Prediction`: label, probability, abstention and score."""
        from workbench.tasks import OUT_OF_SCOPE
        from workbench.train.scope import Prediction

        texts = check_inputs(texts, batch_size)
        top, index = self.logits(texts, batch_size).softmax(-1).max(-1)
        if self.scope is None:
            return [Prediction(self.labels[i], p) for p, i in zip(top.tolist(), index.tolist())]
        scores = self.scope.scores(texts)
        away = self.scope.gate.abstains(scores)
        return [Prediction(OUT_OF_SCOPE if gone else self.labels[i], p, bool(gone), float(score))
                for p, i, gone, score in zip(top.tolist(), index.tolist(), away, scores)]

    def _generate(self, texts: list[str], batch_size: int, max_new_tokens: int) -> list[str]:
        return generate_replies(self.model, self.tokenizer, texts, batch_size, max_new_tokens, self.device)


def generate_replies(model, tok, texts: list[str], batch_size: int, max_new_tokens: int, device: str = "cpu"
                     ) -> list[str]:
    """Greedy replies of a causal LM to ``texts``, each in the SFT chat prompt it was trained with
    (:func:`workbench.train.sft.chat_prompt`); a merged export answers through this too."""
    import torch

    from workbench.train.sft import chat_prompt

    tok.padding_side = "left"  # generation continues from the right edge of every row
    answers = []
    for i in range(0, len(texts), batch_size):
        prompts = [chat_prompt(tok, t) for t in texts[i:i + batch_size]]
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        answers += [s.strip() for s in tok.batch_decode(out[:, enc["input_ids"].shape[1]:],
                                                        skip_special_tokens=True)]
    return answers


def load_student(run: str | Path, adapter: bool = False, device: str = "auto") -> TrainedStudent:
    """Load a finished run's model for inference (merged weights unless ``adapter=True``)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run_dir = find_run(run)
    info = RunInfo.read(run_dir)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    classify = info.objective == "classify"
    pooling = info.pooling or "default"  # runs from before mean pooling have none
    if pooling == "mean":  # registers its config type, which AutoTokenizer reads from model/ too
        import workbench.train.mean_pooling  # noqa: F401

    def load(path, **kwargs):
        if classify:
            from workbench.train.classify import load_classifier

            return load_classifier(path, pooling, torch.float32, **kwargs)
        return AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32, **kwargs)

    tok = AutoTokenizer.from_pretrained(str(run_dir / "model"))
    if adapter:
        if not (run_dir / "adapter").is_dir():
            raise RunNotFoundError(f"run {run_dir.name} has no adapter (method={info.method}); load it without adapter=True")
        from peft import PeftModel

        base = load(info.student_path, **({"num_labels": len(info.labels)} if classify else {}))
        base.config.pad_token_id = tok.pad_token_id
        model = PeftModel.from_pretrained(base, str(run_dir / "adapter"))
    else:
        model = load(run_dir / "model")
    return TrainedStudent(run_dir, info, model.to(device).eval(), tok, device)
