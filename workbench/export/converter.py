"""llama.cpp's own Hugging Face -> GGUF converter, fetched once at install time.

The installed llama-cpp-python wheel carries llama.cpp's library (and its quantizer) but not
its Python converter. The sdist of the same release on the package index does:
``vendor/llama.cpp/convert_hf_to_gguf.py``, the ``conversion/`` package it imports, and
``gguf-py``, the GGUF writer the script is written against. :func:`ensure_converter` (run by
``make setup`` through ``make llama-tools``) fetches that sdist once and extracts just those
three into ``<repo>/.workbench/tools/llama.cpp-<version>/``; :func:`find_converter` is what the
export uses at run time, and it never downloads: a missing converter is an error naming
``make setup``.

Example:
    >>> tools = find_converter()                          # doctest: +SKIP
    >>> tools.script.name, tools.version                  # doctest: +SKIP
    ('convert_hf_to_gguf.py', '0.3.36')
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from pathlib import Path

from workbench.errors import WorkbenchError

PACKAGE = "llama-cpp-python"
REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".workbench" / "tools"
# What the converter needs of llama.cpp's tree (its tests, docs and C sources stay out).
PARTS = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/gguf/", "gguf-py/pyproject.toml", "LICENSE")
DONE = "workbench-tools.json"  # written last: a half-extracted folder is redone


class ConverterMissingError(WorkbenchError):
    """llama.cpp's converter is not installed (``make setup`` installs it)."""


class ConverterInstallError(WorkbenchError):
    """The sdist could not be fetched or does not hold the converter."""


@dataclass(frozen=True)
class Converter:
    """An installed converter: the script, the gguf-py it matches, the llama.cpp release."""

    folder: Path
    version: str

    @property
    def script(self) -> Path:
        return self.folder / "convert_hf_to_gguf.py"

    @property
    def gguf_py(self) -> Path:
        return self.folder / "gguf-py"


def llama_cpp_version() -> str:
    """The installed llama-cpp-python's version: the converter must come from the same release."""
    return installed_version(PACKAGE)


def tools_dir(version: str | None = None, root: Path | None = None) -> Path:
    return (root or TOOLS) / f"llama.cpp-{version or llama_cpp_version()}"


def find_converter(root: Path | None = None) -> Converter:
    """The installed converter of the installed llama-cpp-python release, or a clear error.

    Example:
        >>> find_converter(Path("/nowhere"))                  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        workbench.export.converter.ConverterMissingError: llama.cpp's converter ... run `make setup` ...
    """
    version = llama_cpp_version()
    folder = tools_dir(version, root)
    if not (folder / DONE).is_file():
        raise ConverterMissingError(
            f"llama.cpp's converter (convert_hf_to_gguf.py of llama-cpp-python {version}) is not installed at "
            f"{folder}; run `make setup` (or `make llama-tools`) once, then export again")
    return Converter(folder, version)


def ensure_converter(root: Path | None = None, sdist: Path | None = None) -> Converter:
    """Install the converter once (a no-op when it is there): from ``sdist``, or the sdist of the
    installed release fetched with pip. Install time only; the export calls :func:`find_converter`."""
    version = llama_cpp_version()
    folder = tools_dir(version, root)
    if (folder / DONE).is_file():
        return Converter(folder, version)
    with tempfile.TemporaryDirectory(prefix="llama-tools-") as tmp:
        archive = Path(sdist) if sdist else fetch_sdist(version, Path(tmp))
        extract(archive, folder)
    return Converter(folder, version)


def fetch_sdist(version: str, dest: Path) -> Path:
    """``pip download`` the release's source archive (pip checks its hash against the index)."""
    cmd = [sys.executable, "-m", "pip", "download", f"{PACKAGE}=={version}", "--no-binary", PACKAGE, "--no-deps",
           "--quiet", "-d", str(dest)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(dest.glob("llama_cpp_python-*.tar.gz"))
    if done.returncode != 0 or not found:
        raise ConverterInstallError(f"could not fetch the {PACKAGE} {version} sdist ({' '.join(cmd)}): "
                                    f"{(done.stderr or done.stdout).strip()[-400:]}")
    return found[0]


def extract(archive: Path, folder: Path) -> None:
    """Copy the converter's files out of the sdist ``archive`` into ``folder`` (atomically)."""
    tmp = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        members = []
        for m in tar.getmembers():
            top, _, rest = m.name.partition("/vendor/llama.cpp/")
            if rest and "/" not in top and (m.isfile() or m.isdir()) and rest.startswith(PARTS):
                m.name = rest
                members.append(m)
        tar.extractall(tmp, members=members, filter="data")
    if not (tmp / "convert_hf_to_gguf.py").is_file() or not (tmp / "gguf-py" / "gguf").is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
        raise ConverterInstallError(f"{archive} holds no vendor/llama.cpp/convert_hf_to_gguf.py and gguf-py; "
                                    f"is it the {PACKAGE} sdist?")
    (tmp / DONE).write_text(f'{{"source": "{archive.name}", "files": {len(members)}}}\n', encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)


def main(argv: list[str] | None = None) -> None:
    """``python -m workbench.export.converter [--sdist FILE]``: what ``make llama-tools`` runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, help="a llama-cpp-python sdist already on disk")
    parser.add_argument("--root", type=Path, help=f"where tools go (default {TOOLS})")
    args = parser.parse_args(argv)
    print(ensure_converter(args.root, args.sdist).folder)


if __name__ == "__main__":
    main()
