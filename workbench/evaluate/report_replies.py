"""The report of a generation task's evaluation: ``report.md`` and ``report.html``.

Beside the table and the quality-against-latency plot: the judge (teacher, rubric, pass
mark), its score of the human-written references, its calibration against the reviewers'
decisions (said plainly when there is none or it is poor), the worst replies of the
focus row with their messages and references, and why there is no ``plan.yaml``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from workbench.evaluate.report import html_table, markdown_table, plot_quality_latency


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _num(x) -> str:
    return "-" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def _judge_lines(judge: dict | None) -> list[str]:
    """The judge section as plain sentences (markdown; escaped for HTML by the caller)."""
    if judge is None:
        return ["The judge was not run (`judge=False` / `--no-judge`): the judge column is empty."]
    if judge.get("skipped"):
        return [f"No judge: {judge['skipped']}.", judge["calibration"]["verdict"]]
    c = judge["calibration"]
    how = (f"Judge: teacher `{judge['teacher']}` rates each reply 1-5 against the rubric below, read from its "
           f"probabilities of the rating tokens; a reply passes at {judge['pass_rating']} or more. Its score is "
           f"(rating - 1) / 4. Share of probability it put on the rating tokens: {_num(judge.get('rating_mass'))}.")
    lines = [c["verdict"], how,
             f"Score the judge gives the held-out references (written by people): {_num(judge.get('reference_score'))}."]
    if c["status"] != "uncalibrated":
        lines.append(f"Checked on {c['n']} reviewed records of {c.get('dataset')}: Cohen's kappa {_num(c['kappa'])} "
                     f"(judge pass vs reviewer accepted; raw agreement {_num(c['agreement'])}, judge passes "
                     f"{_num(c['judge_pass_rate'])}, reviewers accepted {_num(c['human_pass_rate'])}); Spearman "
                     f"{_num(c['spearman'])} and Pearson {_num(c['pearson'])} of the judge's rating against "
                     f"{c['n_rated']} reviewer ratings.")
    return lines


def write_reply_report(result, spec, references: list[str]) -> tuple[Path, Path]:
    from workbench.evaluate.run import NO_PLAN_FOR_GENERATION

    out = result.out_dir
    rec = result.recommendation
    if any(r.get(result.metric) is not None for r in result.rows):
        plot_quality_latency(result.rows, result.metric, rec.bar, out / "quality_latency.png")
    (out / "results.json").write_text(json.dumps({**result.to_dict(), "rows_full": result.rows,
                                                  "worst_errors": result.worst_errors, "judge_full": result.judge,
                                                  "references": references}, indent=1, default=str))
    focus = result.focus
    focus_name = f"{focus['model']} / {focus['strategy']}" if focus else "-"
    judge_lines = _judge_lines(result.judge)
    rubric = (result.judge or {}).get("rubric") or []
    skipped_md = "\n".join(f"- {s['strategy']} {s['model']}: {s['why']}" for s in result.skipped) or "- none"
    metric = result.metric
    errors_md = "\n".join(f"| {_num(e.get(metric))} | {_num(e.get('judge'))} | {_md(e['input'])} | "
                          f"{_md(e['reference'])} | {_md(e['prediction']) or '(empty)'} |" for e in result.worst_errors)
    md = f"""# Evaluation {result.eval_id}: {spec.name}

{result.heldout} held-out messages; retrieval pool {result.dataset or 'none'}; quality bar {rec.metric} >= {rec.bar}.

**Recommendation:** {rec.reason}.

**Judge:** {judge_lines[0]}

{markdown_table(result.table())}

ROUGE-L and chrF compare each reply with the held-out reference (0-1); length ratio is reply words over
reference words; judge is the teacher's mean rubric score (0-1). Latency is per message, one at a time
(greedy decoding); throughput is messages over the wall time of that loop. Peak MB is the resident memory
the strategy added to the process (model loading included).

![quality against latency](quality_latency.png)

## Skipped

{skipped_md}

## LLM-as-judge

{chr(10).join(f'{line}{chr(10)}' for line in judge_lines[1:])}
Rubric:

{chr(10).join(f'- {item}' for item in rubric) or '- (none)'}

## Worst replies of {focus_name} (lowest {metric})

| {metric} | judge | message | reference | reply |
|---|---|---|---|---|
{errors_md}

## Next round of data

{NO_PLAN_FOR_GENERATION}
"""
    md_path = out / "report.md"
    md_path.write_text(md, encoding="utf-8")
    esc = html.escape
    errors_html = "".join(f"<tr><td>{_num(e.get(metric))}</td><td>{_num(e.get('judge'))}</td>"
                          f"<td>{esc(e['input'])}</td><td>{esc(e['reference'])}</td>"
                          f"<td>{esc(e['prediction']) or '(empty)'}</td></tr>" for e in result.worst_errors)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Evaluation {result.eval_id}: {esc(spec.name)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}td,th{{padding:3px 8px;border-bottom:1px solid #ddd;vertical-align:top}}</style>
</head><body><h1>Evaluation {result.eval_id}: {esc(spec.name)}</h1>
<p>{result.heldout} held-out messages; retrieval pool {esc(result.dataset or 'none')}; quality bar {rec.metric} &ge; {rec.bar}.</p>
<p><b>Recommendation:</b> {esc(rec.reason)}.</p>
<p><b>Judge:</b> {esc(judge_lines[0])}</p>
{html_table(result.table(), rec.row)}
<p><img src="quality_latency.png" alt="quality against latency"></p>
<h2>Skipped</h2><ul>{''.join(f"<li>{esc(s['strategy'])} {esc(s['model'])}: {esc(s['why'])}</li>" for s in result.skipped) or '<li>none</li>'}</ul>
<h2>LLM-as-judge</h2>{''.join(f'<p>{esc(line)}</p>' for line in judge_lines[1:])}
<p>Rubric:</p><ul>{''.join(f'<li>{esc(item)}</li>' for item in rubric) or '<li>(none)</li>'}</ul>
<h2>Worst replies of {esc(focus_name)} (lowest {metric})</h2>
<table><tr><th>{metric}</th><th>judge</th><th>message</th><th>reference</th><th>reply</th></tr>{errors_html}</table>
<h2>Next round of data</h2><p>{esc(NO_PLAN_FOR_GENERATION)}</p>
</body></html>"""
    html_path = out / "report.html"
    html_path.write_text(page, encoding="utf-8")
    return md_path, html_path
