"""Write a submission package as one directory, all or nothing, with its manifest.

Every file is written into a temporary directory beside the target; the manifest
(``manifest.json``: each file's path, dataset, rows, bytes and SHA-256, and what the package is)
is computed from the bytes on disk; only then is the directory moved into place. A writer that
fails leaves nothing behind, and an existing package is never overwritten unless asked.

>>> import json, pathlib, tempfile
>>> out = pathlib.Path(tempfile.mkdtemp()) / "pkg"
>>> files = [PackageFile("sdtm/dm.csv", lambda p: p.write_text("USUBJID\\nS-1\\n"), "DM", 1)]
>>> manifest = write_package(out, files, about={"study": "S"})
>>> [f["path"] for f in manifest["files"]], manifest["files"][0]["rows"]
(['sdtm/dm.csv'], 1)
>>> json.loads((out / "manifest.json").read_text())["about"]
{'study': 'S'}
>>> write_package(out, files)
Traceback (most recent call last):
cletrial.errors.StandardsError: ... already exists; choose another --out or pass overwrite
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cletrial.errors import StandardsError

__all__ = ["MANIFEST", "PackageFile", "verify_package", "write_package"]

#: Name of the manifest file in the package root.
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class PackageFile:
    """One file of a package: its relative path, the function that writes it, and (for a
    dataset file) the dataset name and row count the manifest records."""

    path: str
    write: Callable[[Path], Any]
    dataset: str | None = None
    rows: int | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _relative(path: str) -> PurePosixPath:
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or rel.name == MANIFEST:
        raise StandardsError(f"package file path {path!r} must be relative, inside the package")
    return rel


def _write_files(root: Path, files: Sequence[PackageFile]) -> dict[str, str]:
    """Write each file into ``root``; return each path's SHA-256, computed in a thread from
    the bytes on disk while the next file is written (hashlib and reading let go of the GIL)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="package-sha256") as hashing:
        digests = {}
        for f in files:
            target = root / _relative(f.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            f.write(target)
            digests[f.path] = hashing.submit(_sha256, target)
        return {path: digest.result() for path, digest in digests.items()}


def _entries(
    root: Path, files: Sequence[PackageFile], digests: dict[str, str]
) -> list[dict[str, Any]]:
    entries = []
    for f in sorted(files, key=lambda f: f.path):
        target = root / _relative(f.path)
        entries.append({
            "path": f.path, "dataset": f.dataset, "rows": f.rows,
            "bytes": target.stat().st_size, "sha256": digests[f.path],
        })  # fmt: skip
    return entries


def write_package(
    out: Path,
    files: Sequence[PackageFile],
    *,
    about: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write ``files`` and ``manifest.json`` into the directory ``out``, all or nothing.

    Parameters
    ----------
    out : Path
        The package directory (created; its parent must be writable).
    files : sequence of PackageFile
        The files, each written by its function into the temporary directory.
    about : mapping, optional
        What the package is (study, standards, versions, de-identified or not), recorded in
        the manifest as ``about``.
    overwrite : bool
        Replace an existing ``out``; otherwise an existing ``out`` is an error.

    Returns
    -------
    dict
        The manifest: ``about`` and ``files`` (path, dataset, rows, bytes, sha256).
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise StandardsError(f"{out} already exists; choose another --out or pass overwrite")
    if len({f.path for f in files}) != len(files):
        raise StandardsError("two package files have the same path")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        digests = _write_files(work, files)
        manifest = {"about": dict(about or {}), "files": _entries(work, files, digests)}
        text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        (work / MANIFEST).write_text(text, encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def verify_package(out: Path) -> list[str]:
    """Check every file of a package against its manifest; return the problems (none: empty).

    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "pkg"
    >>> _ = write_package(out, [PackageFile("a.txt", lambda p: p.write_text("A"))])
    >>> verify_package(out)
    []
    >>> _ = (out / "a.txt").write_text("B")
    >>> verify_package(out)
    ['a.txt: SHA-256 differs from the manifest']
    """
    out = Path(out)
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return [f"{MANIFEST}: cannot be read ({type(err).__name__})"]
    problems = []
    listed = set()
    for entry in manifest.get("files", []):
        path = out / _relative(entry["path"])
        listed.add(path)
        if not path.is_file():
            problems.append(f"{entry['path']}: missing")
        elif _sha256(path) != entry["sha256"]:
            problems.append(f"{entry['path']}: SHA-256 differs from the manifest")
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        if path not in listed and path.name != MANIFEST:
            problems.append(f"{path.relative_to(out).as_posix()}: not in the manifest")
    return problems
