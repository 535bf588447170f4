"""The report of a generation task's evaluation: ``report.md`` and ``report.html``.

Beside the table and the quality-against-latency plot: the judge (teacher, rubric, pass
mark), its score of the human-written references, its calibration against the reviewers'
decisions (said plainly when there is none or it is poor), the worst replies of the
focus row with their messages and references, and why there is no ``plan.yaml``.

Example:
    >>> judge_lines(None)
    ['The judge was not run (`judge=False` / `--no-judge`): the judge column is empty.']
    >>> num(0.5), num(None), num(3)
    ('0.500', '-', '3')
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.evaluate.report import markdown_table, md_cell, page_context, plot_quality_latency, skipped_md, \
    write_files
from workbench.tasks import TaskSpec

if TYPE_CHECKING:
    from workbench.evaluate.result import EvaluateResult

# Why a generation task's evaluation writes no plan.yaml (shown in the report).
NO_PLAN_FOR_GENERATION = ("no plan.yaml: `workbench generate --plan` takes per-label targets, and a generation "
                          "task has no labels. Write or generate more data like the worst replies above.")


def num(x: Any) -> str:
    return "-" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def judge_lines(judge: dict | None) -> list[str]:
    """The judge section as plain sentences (markdown; the HTML template escapes them)."""
    if judge is None:
        return ["The judge was not run (`judge=False` / `--no-judge`): the judge column is empty."]
    c = judge["calibration"]
    if judge.get("skipped"):
        return [f"No judge: {judge['skipped']}.", c.verdict]
    how = (f"Judge: teacher `{judge['teacher']}` rates each reply 1-5 against the rubric below, read from its "
           f"probabilities of the rating tokens; a reply passes at {judge['pass_rating']} or more. Its score is "
           f"(rating - 1) / 4. Share of probability it put on the rating tokens: {num(judge.get('rating_mass'))}.")
    lines = [c.verdict, how,
             f"Score the judge gives the held-out references (written by people): {num(judge.get('reference_score'))}."]
    if c.status != "uncalibrated":
        lines.append(f"Checked on {c.n} reviewed records of {c.dataset}: Cohen's kappa {num(c.kappa)} "
                     f"(judge pass vs reviewer accepted; raw agreement {num(c.agreement)}, judge passes "
                     f"{num(c.judge_pass_rate)}, reviewers accepted {num(c.human_pass_rate)}); Spearman "
                     f"{num(c.spearman)} and Pearson {num(c.pearson)} of the judge's rating against "
                     f"{c.n_rated} reviewer ratings.")
    return lines


def write_report(result: EvaluateResult, spec: TaskSpec, references: list[str]) -> tuple[Path, Path]:
    """The plot, ``results.json``, ``report.md`` and ``report.html``; returns the two reports."""
    out = result.out_dir
    rec = result.recommendation
    if any(r.get(result.metric) is not None for r in result.rows):
        plot_quality_latency(result.rows, result.metric, rec.bar, out / "quality_latency.png")
    judge_full = result.judge and {**result.judge, "calibration": result.judge["calibration"].to_dict(items=True)}
    results = {**result.to_dict(), "rows_full": [r.to_dict() for r in result.rows],
               "worst_errors": result.worst_errors, "judge_full": judge_full, "references": references}
    focus = result.focus
    focus_name = f"{focus.model} / {focus.strategy}" if focus else "-"
    lines = judge_lines(result.judge)
    rubric = (result.judge or {}).get("rubric") or []
    metric = result.metric
    errors_md = "\n".join(f"| {num(e.get(metric))} | {num(e.get('judge'))} | {md_cell(e['input'])} | "
                          f"{md_cell(e['reference'])} | {md_cell(e['prediction']) or '(empty)'} |"
                          for e in result.worst_errors)
    md = f"""**{result.headline}**

# Evaluation {result.eval_id}: {spec.name}

{result.heldout} held-out messages; retrieval pool {result.dataset or 'none'}; quality bar {rec.metric} >= {rec.bar}.

**Recommendation:** {rec.reason}.

**Judge:** {lines[0]}

{markdown_table(result.table())}

ROUGE-L and chrF compare each reply with the held-out reference (0-1), with the 95% bootstrap interval of
their mean over the replies in brackets (the seeds-only control: `<student> seeds only (<run>)`, SFT on the
seeds alone with the focus run's hyperparameters); length ratio is reply words over
reference words; judge is the teacher's mean rubric score (0-1). Latency is per message, one at a time
(greedy decoding); throughput is messages over the wall time of that loop. Peak MB is the resident memory
the strategy added to the process (model loading included).

![quality against latency](quality_latency.png)

## Skipped

{skipped_md(result.skipped)}

## LLM-as-judge

{chr(10).join(f'{line}{chr(10)}' for line in lines[1:])}
Rubric:

{chr(10).join(f'- {item}' for item in rubric) or '- (none)'}

## Worst replies of {focus_name} (lowest {metric})

| {metric} | judge | message | reference | reply |
|---|---|---|---|---|
{errors_md}

## Next round of data

{NO_PLAN_FOR_GENERATION}
"""
    return write_files(out, results, md, "evaluate_generation.html", **page_context(result, "messages"),
                       judge_lines=lines, rubric=rubric, focus_name=focus_name, worst_errors=result.worst_errors,
                       num=num, no_plan=NO_PLAN_FOR_GENERATION)
