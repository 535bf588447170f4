"""The parts of the evaluation report both task types share: the table, the plots, the page.

Each task type writes its own report (:mod:`workbench.evaluate.classification`,
:mod:`workbench.evaluate.generation.report`) under ``<home>/reports/<task>/<eval-id>/``:
``report.md``, ``report.html`` (a Jinja template under ``workbench/templates/``, values
escaped), ``quality_latency.png`` (quality against p50 latency, Pareto front drawn) and
``results.json`` (everything, predictions included). This module holds what they share:
the results table (markdown and escaped HTML; each metric with its 95% interval), the plots
and the writing of the files. Every report's first line is the synthetic data's worth
(:class:`workbench.evaluate.worth.Worth`).

Example:
    >>> pareto_front([(10, 0.5), (20, 0.9), (30, 0.8), (5, 0.4)])
    [3, 0, 1]
    >>> str(table_html([{"strategy": "prompt", "model": "<m>", "macro_f1": 0.5}]))
    '<table><tr><th>strategy</th><th>model</th><th>macro-F1</th></tr><tr><td>prompt</td><td>&lt;m&gt;</td><td>0.500</td></tr></table>'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from markupsafe import Markup

from workbench import html

HEADERS = {"strategy": "strategy", "model": "model", "accuracy": "accuracy", "macro_f1": "macro-F1",
           "rouge_l": "ROUGE-L", "chrf": "chrF", "length_ratio": "length ratio", "judge": "judge",
           "latency_p50_ms": "p50 ms", "latency_p95_ms": "p95 ms", "throughput_per_s": "items/s",
           "peak_mem_mb": "peak MB", "parameters": "parameters", "disk_mb": "disk MB",
           "in_scope_accuracy": "in-scope acc.", "oos_recall": "OOS recall", "oos_precision": "OOS precision",
           "macro_f1_mean": "macro-F1 mean ± sd", "rouge_l_mean": "ROUGE-L mean ± sd", "seeds": "seeds"}
QUALITY = ("accuracy", "macro_f1", "rouge_l", "chrf", "length_ratio", "judge", "in_scope_accuracy", "oos_recall",
           "oos_precision", "macro_f1_mean", "rouge_l_mean")


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


def shown(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as the tables show it: a metric with its interval (``<metric>_ci``) as
    "0.912 [0.893, 0.930]", a seed mean with its sd (``<metric>_sd``) as "0.850 ± 0.020"."""
    out = dict(row)
    for key, value in row.items():
        ci = row.get(f"{key}_ci")
        if value is not None and ci:
            out[key] = f"{_fmt(key, value)} [{ci[0]:.3f}, {ci[1]:.3f}]"
        sd = row.get(key[:-len("_mean")] + "_sd") if key.endswith("_mean") else None
        if value is not None and sd is not None:
            out[key] = f"{_fmt(key, value)} ± {sd:.3f}"
    return out


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of (latency, quality) points no other point beats on both, fastest first."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], float("-inf")
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def table_html(rows: list[dict], highlight: Mapping[str, Any] | None = None) -> Markup:
    """The results table, escaped; the ``highlight`` row (the recommendation) in bold."""
    def marked(r: Mapping[str, Any]) -> bool:
        return highlight is not None and (r["strategy"], r["model"]) == (highlight["strategy"], highlight["model"])

    return Markup(html.html_table([shown(r) for r in rows], _headers(rows), fmt=_fmt, highlight=marked))


def markdown_table(rows: list[dict]) -> str:
    headers = _headers(rows)
    lines = ["| " + " | ".join(headers.values()) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_fmt(k, shown(r).get(k)) for k in headers) + " |" for r in rows]
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


def skipped_md(skipped: list[dict[str, str]]) -> str:
    return "\n".join(f"- {s['strategy']} {s['model']}: {s['why']}" for s in skipped) or "- none"


def md_cell(text: Any) -> str:
    """Text on one line, safe in a markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def write_files(out: Path, results: dict[str, Any], md: str, template: str, **page: Any) -> tuple[Path, Path]:
    """Write ``results.json``, ``report.md`` and ``report.html`` (``template`` rendered with ``page``)."""
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    md_path, html_path = out / "report.md", out / "report.html"
    md_path.write_text(md, encoding="utf-8")
    html_path.write_text(html.render(template, **page), encoding="utf-8")
    return md_path, html_path


def page_context(result: Any, items: str) -> dict[str, Any]:
    """What the report page's header, table and skipped list show (``items``: rows, messages)."""
    rec = result.recommendation
    return {"headline": result.headline, "eval_id": result.eval_id, "task": result.task, "heldout": result.heldout,
            "items": items, "dataset": result.dataset, "metric": rec.metric, "bar": rec.bar, "reason": rec.reason,
            "table": table_html(result.table(), rec.row), "skipped": result.skipped}
