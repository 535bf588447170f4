"""The evaluation report: ``report.md`` and ``report.html`` with the table and plots.

Files written under ``<home>/reports/<task>/<eval-id>/``: ``report.md``, ``report.html``,
``quality_latency.png`` (quality against p50 latency, Pareto front drawn), one
``confusion-<n>.png`` per row, ``results.json`` (everything, predictions included) and
``plan.yaml`` (written by :mod:`workbench.evaluate.run`). Generation tasks: no confusion
matrices or plan; the worst replies with their messages and references, and the judge's
calibration against the reviewers, said plainly when it is missing or poor.

Example:
    >>> pareto_front([(10, 0.5), (20, 0.9), (30, 0.8), (5, 0.4)])
    [3, 0, 1]
"""

from __future__ import annotations

import html
import json
from pathlib import Path

HEADERS = {"strategy": "strategy", "model": "model", "accuracy": "accuracy", "macro_f1": "macro-F1",
           "rouge_l": "ROUGE-L", "chrf": "chrF", "length_ratio": "length ratio", "judge": "judge",
           "latency_p50_ms": "p50 ms", "latency_p95_ms": "p95 ms", "throughput_per_s": "items/s",
           "peak_mem_mb": "peak MB", "parameters": "parameters", "disk_mb": "disk MB"}
QUALITY = ("accuracy", "macro_f1", "rouge_l", "chrf", "length_ratio", "judge")


def _headers(rows: list[dict]) -> dict[str, str]:
    """The columns the rows have (classification or generation), in HEADERS order."""
    keys = set().union(*rows) if rows else {"accuracy", "macro_f1"}
    return {k: v for k, v in HEADERS.items() if k in keys}


def _fmt(key: str, value) -> str:
    if value is None:
        return "-"
    if key == "parameters":
        return f"{value / 1e6:.1f}M"
    if isinstance(value, float):
        return f"{value:.3f}" if key in QUALITY else f"{value:g}"
    return str(value)


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of (latency, quality) points no other point beats on both, fastest first."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], float("-inf")
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def html_table(rows: list[dict], highlight: dict | None = None) -> str:
    headers = _headers(rows)
    head = "".join(f"<th>{v}</th>" for v in headers.values())
    body = []
    for r in rows:
        mark = highlight is not None and (r["strategy"], r["model"]) == (highlight["strategy"], highlight["model"])
        style = ' style="font-weight:bold;background:#e8f5e9"' if mark else ""
        body.append(f"<tr{style}>" + "".join(f"<td>{html.escape(_fmt(k, r.get(k)))}</td>" for k in headers)
                    + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def markdown_table(rows: list[dict]) -> str:
    headers = _headers(rows)
    lines = ["| " + " | ".join(headers.values()) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_fmt(k, r.get(k)) for k in headers) + " |" for r in rows]
    return "\n".join(lines)


def plot_quality_latency(rows: list[dict], metric: str, bar: float, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server or in a test
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r.get(metric) is not None]
    pts = [(max(r["latency_p50_ms"], 1e-3), r[metric]) for r in rows]
    front = pareto_front(pts)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r, (x, y) in zip(rows, pts):
        ax.scatter(x, y, s=40)
        ax.annotate(f"{r['model']} / {r['strategy']}", (x, y), fontsize=7, xytext=(4, 3), textcoords="offset points")
    ax.plot([pts[i][0] for i in front], [pts[i][1] for i in front], "k--", lw=1, label="Pareto front")
    ax.axhline(bar, color="tab:red", lw=1, label=f"quality bar {bar}")
    ax.set_xscale("log")
    ax.set_xlabel("latency per item, p50 (ms, log scale)")
    ax.set_ylabel(metric)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_confusion(grid: list[list[int]], labels: list[str], title: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    top = max(max(row) for row in grid) or 1
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            if v:
                ax.text(j, i, v, ha="center", va="center", fontsize=7, color="white" if v > top / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(result, spec, y_true: list[str]) -> tuple[Path, Path]:
    """Write the plots, ``results.json``, ``report.md`` and ``report.html``; returns the two reports.

    ``y_true`` are the held-out labels (classification) or reference replies (generation).
    """
    if result.task_type == "generation":
        from workbench.evaluate.report_replies import write_reply_report

        return write_reply_report(result, spec, y_true)
    out = result.out_dir
    rec = result.recommendation
    plot_quality_latency(result.rows, result.metric, rec.bar, out / "quality_latency.png")
    confusions = []
    for i, r in enumerate(result.rows):
        confusions.append(plot_confusion(r["confusion"], spec.label_names, f"{r['model']} / {r['strategy']}",
                                         out / f"confusion-{i}.png").name)
    (out / "results.json").write_text(json.dumps({**result.to_dict(), "rows_full": result.rows,
                                                  "worst_errors": result.worst_errors, "plan_full": result.plan,
                                                  "labels": spec.label_names, "y_true": y_true}, indent=1, default=str))
    focus = result.focus
    focus_cm = confusions[result.rows.index(focus)] if focus in result.rows else None
    errors_md = "\n".join(f"| {_md(e['text'])} | {e['label']} | {e['predicted']} | {e['confidence']:.2f} |"
                          for e in result.worst_errors)
    plan_md = "\n".join(f"- {k}: {v}" for k, v in result.plan.get("labels", {}).items()) or "- (no errors: no plan)"
    pairs_md = "\n".join(f"- {' / '.join(p['labels'])}: {p['errors']} errors, {p['n']} examples"
                         for p in result.plan.get("pairs", [])[:8])
    skipped_md = "\n".join(f"- {s['strategy']} {s['model']}: {s['why']}" for s in result.skipped) or "- none"
    focus_name = f"{focus['model']} / {focus['strategy']}" if focus else "-"
    md = f"""# Evaluation {result.eval_id}: {spec.name}

{result.heldout} held-out rows; retrieval pool {result.dataset or 'none'}; quality bar {rec.metric} >= {rec.bar}.

**Recommendation:** {rec.reason}.

{markdown_table(result.table())}

Latency is per message, one at a time; throughput is messages over the wall time of that loop.
Peak MB is the resident memory the strategy added to the process (model loading included).

![quality against latency](quality_latency.png)

## Skipped

{skipped_md}

## Worst errors of {focus_name}

| text | true | predicted | confidence |
|---|---|---|---|
{errors_md}

{f'![confusion matrix]({focus_cm})' if focus_cm else ''}

## Next round of data (plan.yaml)

{plan_md}

Confusable pairs:

{pairs_md}

Run: `workbench generate --task {spec.name} --plan {result.plan_path}`
"""
    md_path = out / "report.md"
    md_path.write_text(md, encoding="utf-8")
    errors_html = "".join(f"<tr><td>{html.escape(e['text'])}</td><td>{e['label']}</td><td>{e['predicted']}</td>"
                          f"<td>{e['confidence']:.2f}</td></tr>" for e in result.worst_errors)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Evaluation {result.eval_id}: {spec.name}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}td,th{{padding:3px 8px;border-bottom:1px solid #ddd}}</style>
</head><body><h1>Evaluation {result.eval_id}: {html.escape(spec.name)}</h1>
<p>{result.heldout} held-out rows; retrieval pool {result.dataset or 'none'}; quality bar {rec.metric} &ge; {rec.bar}.</p>
<p><b>Recommendation:</b> {html.escape(rec.reason)}.</p>
{html_table(result.table(), rec.row)}
<p><img src="quality_latency.png" alt="quality against latency"></p>
<h2>Skipped</h2><ul>{''.join(f"<li>{s['strategy']} {html.escape(s['model'])}: {html.escape(s['why'])}</li>" for s in result.skipped) or '<li>none</li>'}</ul>
<h2>Worst errors of {html.escape(focus_name)}</h2>
<table><tr><th>text</th><th>true</th><th>predicted</th><th>confidence</th></tr>{errors_html}</table>
{f'<p><img src="{focus_cm}" alt="confusion matrix"></p>' if focus_cm else ''}
<h2>Next round of data</h2><pre>{html.escape(json.dumps(result.plan.get('labels', {}), indent=1))}</pre>
</body></html>"""
    html_path = out / "report.html"
    html_path.write_text(page, encoding="utf-8")
    return md_path, html_path


def _md(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
