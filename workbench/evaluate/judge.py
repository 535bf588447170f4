"""LLM-as-judge for generation tasks, and its check against human reviewers.

The teacher reads the task's ``judge`` template (the rubric, the customer's message, the
reply) and is asked for a rating from 1 to 5. Rather than parse free text, which a small
model writes badly, the judge reads the teacher's probabilities of the five rating tokens
right after ``Rating`` and takes the expected rating: ``sum(r * p(r)) / sum(p(r))``. A
reply passes when that rating, rounded, reaches the rubric's ``pass_rating``; its score is
the rating mapped onto [0, 1] (``(rating - 1) / 4``), the scale of the quality bar.

- llama.cpp teachers: the rating tokens' log-probabilities directly (the prompt prefix
  shared between calls stays in the KV cache). Chat teachers get the ``judge_chat``
  template in their chat format, with ``Rating:`` started for them.
- OpenAI-compatible teachers: one token with ``top_logprobs``; from a server that refuses
  log-probabilities (or gives none) the first digit of its answer is read instead.

:func:`calibrate` is how nobody trusts an uncalibrated judge: on a reviewed version, the
judge rates the teacher's suggestions the reviewers saw, and its pass/fail is compared with
their decisions (accepted = pass; corrected or discarded = fail) by Cohen's kappa, its
rating with theirs by Spearman and Pearson correlation.

Example:
    >>> c = calibrate([4.6, 1.2, 4.1, 2.0], ["accepted", "corrected", "discarded", "discarded"], [5, 2, 1, 1], 4)
    >>> c.kappa, c.agreement, c.n, c.status
    (0.5, 0.75, 4, 'too_few')
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from workbench.errors import ConfigError
from workbench.evaluate.metrics import pearson, spearman
from workbench.records import KeyAccess
from workbench.review.agreement import cohen_kappa
from workbench.tasks import TaskSpec

RATINGS = (1, 2, 3, 4, 5)
# Fewer reviewed records than this and the agreement figures are noise.
MIN_CALIBRATION = 10
# Below these, agreement is poor (kappa: Landis & Koch's "slight"/"fair"; rank correlation).
POOR_KAPPA, POOR_RHO = 0.4, 0.3
GOOD_KAPPA, GOOD_RHO = 0.6, 0.5


def expected_rating(probs: dict[int, float]) -> float | None:
    """The mean rating under ``probs`` (renormalised over the ratings given); None if empty."""
    mass = sum(probs.values())
    if mass <= 0:
        return None
    return sum(r * p for r, p in probs.items()) / mass


def to_score(rating: float) -> float:
    """A 1-5 rating on the [0, 1] scale of the quality bar."""
    return (rating - 1) / 4


def passes(rating: float, pass_rating: int) -> bool:
    """The rating, rounded half up, reaches ``pass_rating``."""
    return rating >= pass_rating - 0.5


class LlamaRater:
    """Rating-token probabilities from a GGUF model in llama.cpp (:class:`workbench.llamacpp.LlamaLM`)."""

    def __init__(self, gguf: Path, mode: str, threads: int):
        from workbench.llamacpp import LlamaLM

        self.lm = LlamaLM(gguf, threads, n_ctx=4096)
        self.mode = mode

    def rate(self, prompt: str) -> tuple[dict[int, float], float]:
        """(probability of each rating renormalised over the five, the mass the model put on them)."""
        chat = self.mode == "chat"
        text = self.lm.chat_prompt([{"role": "user", "content": prompt}]) + "Rating:" if chat else prompt
        # The chat format's markers are special tokens.
        full = [self.lm.tokenize(f"{text} {r}", bos=True, special=chat) for r in RATINGS]
        common = 0
        while all(len(f) > common + 1 for f in full) and len({f[common] for f in full}) == 1:
            common += 1
        if any(len(f) != common + 1 for f in full):
            raise ConfigError(f"the judge's model {self.lm.path.name} does not spell the ratings 1-5 as single "
                              "tokens; judge with another teacher")
        self.lm.feed(full[0][:common])
        lp = self.lm.logprobs()
        p = {r: math.exp(float(lp[f[common]])) for r, f in zip(RATINGS, full)}
        mass = sum(p.values())
        return {r: v / mass for r, v in p.items()}, mass

    def close(self) -> None:
        self.lm.close()


class OpenAIRater:
    """Rating-token probabilities from an OpenAI-compatible server (``top_logprobs``)."""

    def __init__(self, teacher):
        import openai

        from workbench.generate.teachers import check_teacher
        from workbench.settings import get_settings

        check_teacher(teacher)
        self.teacher = teacher
        self.client = openai.OpenAI(base_url=teacher.base_url, api_key=get_settings().api_key() or "not-needed",
                                    max_retries=2)
        self.logprobs = True  # until the server refuses them

    def _ask(self, prompt: str) -> tuple[list[tuple[str, float]], str]:
        """(top tokens of the answer with their log-probabilities, the answer's text)."""
        want = {"logprobs": 20} if self.teacher.mode == "completion" else {"logprobs": True, "top_logprobs": 20}
        if self.teacher.mode == "completion":
            resp = self.client.completions.create(model=self.teacher.model, prompt=prompt + " ", temperature=0,
                                                  max_tokens=1 if self.logprobs else 4,
                                                  **(want if self.logprobs else {}))
            choice = resp.choices[0]
            tops = (choice.logprobs.top_logprobs or [{}])[0] if choice.logprobs else {}
            return list(tops.items()), choice.text
        resp = self.client.chat.completions.create(model=self.teacher.model, temperature=0,
                                                   messages=[{"role": "user", "content": prompt}],
                                                   max_tokens=1 if self.logprobs else 4,
                                                   **(want if self.logprobs else {}))
        choice = resp.choices[0]
        content = choice.logprobs.content if choice.logprobs else None
        return ([(t.token, t.logprob) for t in content[0].top_logprobs] if content else []), \
            choice.message.content or ""

    def rate(self, prompt: str) -> tuple[dict[int, float], float | None]:
        import openai

        from workbench.generate.teachers import teacher_call_failed

        try:
            try:
                pairs, text = self._ask(prompt)
            except openai.BadRequestError:
                if not self.logprobs:
                    raise
                self.logprobs = False  # a server without log-probabilities: read the digit it writes
                pairs, text = self._ask(prompt)
        except openai.APIError as exc:  # its message may echo the key: never shown as it is
            raise teacher_call_failed(self.teacher, exc) from None
        p: dict[int, float] = {}
        for token, logprob in pairs:
            if token.strip() in {str(r) for r in RATINGS}:
                p[int(token.strip())] = p.get(int(token.strip()), 0.0) + math.exp(logprob)
        if p:
            mass = sum(p.values())
            return {r: v / mass for r, v in p.items()}, mass
        digit = re.search(r"[1-5]", text or "")  # no log-probabilities: the answer itself
        return ({int(digit.group()): 1.0} if digit else {}), None

    def close(self) -> None:
        self.client.close()


class Judge:
    """The teacher as a judge of replies: ``rate(message, reply)`` is the expected 1-5 rating."""

    def __init__(self, spec: TaskSpec, teacher: str, threads: int = 1):
        from workbench.generate.teachers import TeacherSpec
        from workbench.models import gguf_path

        if spec.judge is None:
            raise ValueError(f"task {spec.name!r} has no 'judge:' section (a rubric) in its task.yaml")
        self.spec, self.rubric, self.pass_rating = spec, spec.judge.rubric, spec.judge.pass_rating
        self.teacher = TeacherSpec.parse(teacher)
        if self.teacher.kind == "llamacpp":
            self.rater = LlamaRater(gguf_path(self.teacher.model), self.teacher.mode, threads)
        elif self.teacher.kind == "openai":
            self.rater = OpenAIRater(self.teacher)
        else:
            raise ValueError(f"the judge reads rating-token probabilities from llama.cpp or OpenAI-compatible "
                             f"teachers; {self.teacher} is neither")
        self.masses: list[float] = []

    def prompt(self, text: str, reply: str) -> str:
        return self.spec.render("judge", self.teacher.mode, rubric=self.rubric, input=_flat(text),
                                reply=_flat(reply))

    def rate(self, text: str, reply: str) -> float | None:
        """Expected rating in [1, 5]; None when the teacher gave no rating at all."""
        probs, mass = self.rater.rate(self.prompt(text, reply))
        if mass is not None:
            self.masses.append(mass)
        rating = expected_rating(probs)
        return None if rating is None else round(rating, 4)

    def info(self) -> dict:
        """What the judge was: teacher, rubric, pass mark, and how much it kept to the rating format."""
        return {"teacher": str(self.teacher), "rubric": self.rubric, "pass_rating": self.pass_rating,
                "rating_mass": round(sum(self.masses) / len(self.masses), 4) if self.masses else None}

    def close(self) -> None:
        self.rater.close()


def _flat(text: str) -> str:
    """One line per paragraph: the judge prompt keeps its shape whatever the reply's layout."""
    return " ".join(text.split())


class Calibration(KeyAccess, BaseModel):
    """How far the judge agrees with the reviewers (see :func:`calibrate`, :func:`uncalibrated`).

    ``status`` is uncalibrated, too_few, one_sided, poor, moderate or good; ``verdict`` says it
    plainly. ``dataset`` and ``items`` (each reviewed record with the judge's rating) are set
    when a reviewed version was checked.
    """

    n: int
    n_rated: int
    kappa: float | None
    agreement: float | None
    judge_pass_rate: float | None
    human_pass_rate: float | None
    spearman: float | None
    pearson: float | None
    status: str
    verdict: str
    dataset: str | None = None
    items: list[dict[str, Any]] | None = None

    def to_dict(self, items: bool = False) -> dict[str, Any]:
        """The figures; ``dataset`` only when one was checked, ``items`` only when asked for."""
        drop = {k for k in ("dataset", "items") if getattr(self, k) is None or (k == "items" and not items)}
        return self.model_dump(exclude=drop)


def calibrate(judge_ratings: list[float | None], decisions: list[str], human_ratings: list[float | None],
              pass_rating: int) -> Calibration:
    """Agreement of the judge with reviewers on the same replies.

    ``decisions`` are the reviewers' (accepted / corrected / discarded); accepted counts as a
    pass. Items the judge could not rate are left out; ratings pair only where both exist.
    """
    pairs = [(j, d) for j, d in zip(judge_ratings, decisions, strict=True) if j is not None]
    judge_pass = ["pass" if passes(j, pass_rating) else "fail" for j, _ in pairs]
    human_pass = ["pass" if d == "accepted" else "fail" for _, d in pairs]
    rated = [(j, h) for j, h in zip(judge_ratings, human_ratings, strict=True) if j is not None and h is not None]
    n = len(pairs)
    out = {"n": n, "n_rated": len(rated),
           "kappa": _round(cohen_kappa(judge_pass, human_pass)) if n else None,
           "agreement": round(sum(a == b for a, b in zip(judge_pass, human_pass)) / n, 4) if n else None,
           "judge_pass_rate": round(judge_pass.count("pass") / n, 4) if n else None,
           "human_pass_rate": round(human_pass.count("pass") / n, 4) if n else None,
           "spearman": _round(spearman([j for j, _ in rated], [h for _, h in rated])),
           "pearson": _round(pearson([j for j, _ in rated], [h for _, h in rated]))}
    status, verdict = _verdict(out)
    return Calibration(**out, status=status, verdict=verdict)


def _verdict(c: dict) -> tuple[str, str]:
    figures = (f"Cohen's kappa {_fmt(c['kappa'])} on {c['n']} pass/fail decisions (raw agreement "
               f"{_fmt(c['agreement'])}); Spearman {_fmt(c['spearman'])}, Pearson {_fmt(c['pearson'])} against "
               f"{c['n_rated']} human ratings")
    if c["n"] < MIN_CALIBRATION:
        return "too_few", (f"The judge is NOT calibrated: only {c['n']} reviewed records could be checked "
                           f"(fewer than {MIN_CALIBRATION}), too few to trust it ({figures}). Review more "
                           "records and evaluate again.")
    kappa, rho = c["kappa"], c["spearman"]
    if c["human_pass_rate"] in (0.0, 1.0):
        side = "accepted" if c["human_pass_rate"] == 1.0 else "corrected or discarded"
        ranked = (f"; its ratings rank them with Spearman {_fmt(rho)} against the reviewers'" if rho is not None
                  else "")
        return "one_sided", (f"The judge is NOT calibrated: reviewers {side} all {c['n']} reviewed records, so "
                             f"pass/fail agreement cannot be measured (the judge passed "
                             f"{_fmt(c['judge_pass_rate'])} of them{ranked}). Review a round with both good and "
                             "bad replies.")
    if (kappa is None or kappa < POOR_KAPPA) or (rho is not None and rho < POOR_RHO):
        return "poor", (f"The judge agrees POORLY with the reviewers ({figures}): do not trust the judge "
                        "column; read the replies or use a stronger teacher as the judge.")
    if kappa >= GOOD_KAPPA and (rho is None or rho >= GOOD_RHO):
        return "good", f"The judge agrees well with the reviewers ({figures})."
    return "moderate", f"The judge agrees moderately with the reviewers ({figures}): use it to rank, not to decide."


def uncalibrated(why: str) -> Calibration:
    """The calibration entry when there is nothing to check the judge against."""
    return Calibration(n=0, n_rated=0, kappa=None, agreement=None, judge_pass_rate=None, human_pass_rate=None,
                       spearman=None, pearson=None, status="uncalibrated",
                       verdict=f"The judge is NOT calibrated: {why}, so nobody has checked its scores against human "
                               "decisions. Treat the judge column as unverified.")


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"
