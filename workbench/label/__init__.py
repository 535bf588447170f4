"""Label stage: the team's own unlabeled messages, labelled by the student, reviewed where it matters.

:func:`run_label` (:class:`LabelConfig`) is one round: the pool scored, ``budget`` messages chosen
and sent to Argilla. :func:`import_pool` reads a task's ``unlabeled:`` log into a versioned pool
(``<datasets_dir>/<task>/unlabeled/vNNN``) and :func:`load_pool` reads one back. Nothing heavy
is imported here: the pool's numpy and MiniLM load on first use.

Example:
    >>> from workbench.label import import_pool                    # doctest: +SKIP
    >>> from workbench.tasks import load_task                      # doctest: +SKIP
    >>> pool = import_pool(load_task("clinc_bank"))                # doctest: +SKIP
    >>> pool.version.version, len(pool.texts)                      # doctest: +SKIP
    ('v001', 2843)
"""

from workbench.label.config import LabelConfig
from workbench.label.errors import LabelError

__all__ = ["LabelConfig", "LabelError", "run_label", "import_pool", "load_pool", "Pool", "POOL_KIND", "NEAR_DUPLICATE"]

_POOL = ("import_pool", "load_pool", "Pool", "POOL_KIND", "NEAR_DUPLICATE")


def __getattr__(name):
    # Lazy: importing the package must not pull in numpy, datasets or sentence-transformers.
    if name in _POOL:
        from workbench.label import pool

        return getattr(pool, name)
    if name == "run_label":
        from workbench.label.run import run_label

        return run_label
    raise AttributeError(name)
