"""Label stage: the team's own unlabeled messages, labelled by the student, reviewed where it matters.

:func:`import_pool` reads a task's ``unlabeled:`` log into a versioned pool
(``<datasets_dir>/<task>/unlabeled/vNNN``) and :func:`load_pool` reads one back. Nothing heavy
is imported here: the pool's numpy and MiniLM load on first use.

Example:
    >>> from workbench.label import import_pool                    # doctest: +SKIP
    >>> from workbench.tasks import load_task                      # doctest: +SKIP
    >>> pool = import_pool(load_task("clinc_bank"))                # doctest: +SKIP
    >>> pool.version.version, len(pool.texts)                      # doctest: +SKIP
    ('v001', 2843)
"""

from workbench.label.errors import LabelError

__all__ = ["LabelError", "import_pool", "load_pool", "Pool", "POOL_KIND", "NEAR_DUPLICATE"]

_POOL = ("import_pool", "load_pool", "Pool", "POOL_KIND", "NEAR_DUPLICATE")


def __getattr__(name):
    # Lazy: importing the package must not pull in numpy, datasets or sentence-transformers.
    if name in _POOL:
        from workbench.label import pool

        return getattr(pool, name)
    raise AttributeError(name)
