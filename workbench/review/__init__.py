"""Review stage: synthetic data to Argilla and reviewed data back, with lineage.

``run_push``, ``review_status`` and ``run_pull`` take a :class:`ReviewConfig`; the local
Argilla service lives in :mod:`workbench.review.server`. Nothing heavy is imported here.
"""

from workbench.review.config import ReviewConfig
from workbench.review.schema import ReviewError

__all__ = ["ReviewConfig", "ReviewError", "run_push", "review_status", "run_pull", "ReviewPending"]


def __getattr__(name):
    # Lazy: importing the package must not pull in the argilla SDK or sentence-transformers.
    if name in ("run_push", "review_status"):
        from workbench.review import sync

        return getattr(sync, name)
    if name in ("run_pull", "ReviewPending"):
        from workbench.review import pull

        return getattr(pull, name)
    raise AttributeError(name)
