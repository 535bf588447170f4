"""HTML for notebooks and reports: one escaped table helper and Jinja templates.

Every ``_repr_html_`` and every HTML report goes through here, so every value a user or a
model wrote (a label, a message, a path) is escaped once, in one place.

- :func:`html_table` renders a list of row dicts (or a mapping, as two columns).
- :func:`render` renders a template from ``workbench/templates/`` with autoescaping on.

Example:
    >>> html_table([{"label": "<b>", "n": 3}])
    '<table><tr><th>label</th><th>n</th></tr><tr><td>&lt;b&gt;</td><td>3</td></tr></table>'
    >>> html_table({"kept": 12}, headers=("count", "value"))
    '<table><tr><th>count</th><th>value</th></tr><tr><td>kept</td><td>12</td></tr></table>'
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Iterable, Mapping

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

Format = Callable[[str, Any], str]


def _plain(_key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def html_table(rows: Iterable[Mapping[str, Any]] | Mapping[str, Any], columns: Mapping[str, str] | Iterable[str] | None = None,
               *, headers: tuple[str, str] = ("", ""), fmt: Format = _plain,
               highlight: Callable[[Mapping[str, Any]], bool] | None = None) -> str:
    """An escaped ``<table>``.

    ``rows`` is a list of dicts (one row each; ``columns`` picks and names the keys, default
    the first row's keys) or a single mapping (shown as key/value rows under ``headers``).
    ``fmt(key, value)`` turns a cell into text; ``highlight(row)`` marks rows in bold.
    """
    if isinstance(rows, Mapping):
        rows = [{"key": k, "value": v} for k, v in rows.items()]
        columns = {"key": headers[0], "value": headers[1]}
    rows = list(rows)
    if columns is None:
        columns = list(rows[0]) if rows else []
    named = dict(columns) if isinstance(columns, Mapping) else {c: c for c in columns}
    head = "".join(f"<th>{escape(v)}</th>" for v in named.values())
    body = []
    for r in rows:
        style = ' style="font-weight:bold;background:#e8f5e9"' if highlight and highlight(r) else ""
        cells = "".join(f"<td>{escape(fmt(k, r.get(k)))}</td>" for k in named)
        body.append(f"<tr{style}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=PackageLoader("workbench", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["html_table"] = lambda *a, **k: Markup(html_table(*a, **k))
    return env


def render(template: str, **context: Any) -> str:
    """Render ``workbench/templates/<template>``; ``.html`` templates escape every value."""
    return _env().get_template(template).render(**context)
