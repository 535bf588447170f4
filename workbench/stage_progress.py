"""A pipeline stage's own progress bars, shown in the terminal that runs the pipeline.

A stage notebook runs in a kernel, where ``tqdm.auto`` draws widgets that a terminal never
sees (and that a panel's Output widget keeps). Two halves, one file between them:

- in the kernel, :func:`text_progress` (``press()`` enters it) makes ``tqdm.auto.tqdm`` a text
  bar appending to the file named by ``$WORKBENCH_PIPELINE_PROGRESS``, at most one redraw per
  ``PROGRESS_EVERY`` seconds;
- in the pipeline, :func:`forward_progress` reads that file while the stage runs and prints
  its lines (:class:`ProgressLines`: each finished bar, redraws sampled) as
  ``[pipeline] <stage>: ...``.

The executed notebooks are not changed by any of it.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

# The file a pipeline kernel draws its progress bars into (WorkbenchSettings.pipeline_progress).
# Set by run_pipeline for the kernels it starts, read by press() inside them.
PROGRESS_ENV = "WORKBENCH_PIPELINE_PROGRESS"
PROGRESS_EVERY = 10.0  # seconds between two redraws of one bar in the terminal
STILL_EVERY = 60.0  # ... when only its clock moved (the count did not): a sign of life, not a flood
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # cursor moves of nested bars


@contextmanager
def text_progress(path: str | Path | None = None):
    """In a pipeline kernel: tqdm bars as text lines appended to ``path`` (default
    ``$WORKBENCH_PIPELINE_PROGRESS``); yields that file, or None (and changes nothing) without one.

    The stages draw bars with ``tqdm.auto``, which in a kernel means widgets: a terminal never
    sees them, and the panel's Output widget keeps whatever is printed. So for the length of a
    press, ``tqdm.auto.tqdm`` (looked up by the stages when they draw) is a text bar writing to
    the file the pipeline reads; at most one redraw per ``PROGRESS_EVERY`` seconds.
    """
    from workbench.settings import WorkbenchSettings

    path = path or WorkbenchSettings().pipeline_progress  # fresh: the pipeline sets it per kernel
    if not path:
        yield None
        return
    import tqdm.auto
    from tqdm.std import tqdm as text_tqdm

    with open(path, "a", encoding="utf-8") as fh:
        class TextBar(text_tqdm):
            def __init__(self, *args, **kwargs):
                kwargs.update(file=fh, mininterval=max(kwargs.get("mininterval") or 0, PROGRESS_EVERY),
                              dynamic_ncols=False, ncols=kwargs.get("ncols") or 100, ascii=True)
                super().__init__(*args, **kwargs)

        saved = tqdm.auto.tqdm
        tqdm.auto.tqdm = TextBar
        try:
            yield fh
        finally:
            tqdm.auto.tqdm = saved


class ProgressLines:
    """What progress bars write (``\\r`` redraws a line, ``\\n`` ends it) as whole lines to print.

    A line that ends (a finished bar, a message) is kept; redraws are sampled, the latest
    one at most every ``every`` seconds, or every ``still`` seconds while only the bar's clock
    (its ``[...]`` part) moves; a line equal to the one before is dropped.

    Example:
        >>> lines = ProgressLines(every=10)
        >>> lines.feed("\\rrows 1/3\\rrows 2/3", now=0.0)   # redraws: the latest one
        ['rows 2/3']
        >>> lines.feed("\\rrows 3/3\\n", now=1.0)
        ['rows 3/3']
    """

    def __init__(self, every: float = PROGRESS_EVERY, still: float = STILL_EVERY):
        self.every, self.still = every, still
        self._partial = ""
        self._last: str | None = None
        self._last_at = float("-inf")

    def feed(self, text: str, now: float | None = None) -> list[str]:
        now = time.monotonic() if now is None else now
        # nested bars move the cursor; a log line has no cursor to move
        pieces = re.split(r"(\r|\n)", ANSI.sub("", self._partial + text))
        self._partial = pieces.pop()
        out: list[str] = []
        latest = None
        for segment, sep in zip(pieces[0::2], pieces[1::2]):
            segment = segment.strip()
            if segment and sep == "\n":
                self._emit(segment, now, out)
                latest = None
            elif segment:
                latest = segment
        latest = self._partial.strip() or latest  # what the bar shows now
        if latest:
            moved = _count(latest) != _count(self._last or "")
            if now - self._last_at >= (self.every if moved else self.still):
                self._emit(latest, now, out)
        return out

    def close(self) -> list[str]:
        """The line still being drawn, if any (the stage ended)."""
        out: list[str] = []
        if self._partial.strip():
            self._emit(self._partial.strip(), time.monotonic(), out)
        self._partial = ""
        return out

    def _emit(self, line: str, now: float, out: list[str]) -> None:
        if line != self._last:
            out.append(line)
            self._last, self._last_at = line, now


@contextmanager
def forward_progress(path: Path, stage: str, out=None):
    """Print the lines a stage's kernel writes to ``path`` while the block runs (a reader thread)."""
    path.write_text("", encoding="utf-8")
    done = threading.Event()
    stream = out or sys.stdout

    def pump() -> None:
        lines = ProgressLines()
        with open(path, encoding="utf-8", errors="replace") as fh:
            while True:
                finished = done.is_set()  # read once more after the stage ended: nothing is lost
                for line in lines.feed(fh.read()):
                    print(f"[pipeline] {stage}: {line}", file=stream, flush=True)
                if finished:
                    break
                done.wait(0.5)
        for line in lines.close():
            print(f"[pipeline] {stage}: {line}", file=stream, flush=True)

    reader = threading.Thread(target=pump, name=f"progress-{stage}", daemon=True)
    reader.start()
    try:
        yield
    finally:
        done.set()
        reader.join(timeout=10)


def _count(line: str) -> str:
    """A bar's line without its clock (elapsed, remaining, rate): what says it moved."""
    return re.sub(r"\[[^\]]*\]", "", line)
