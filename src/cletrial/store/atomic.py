"""Write export files all or nothing: a temporary file in the target's own directory, flushed
and ``fsync``-ed, then moved over the target with ``os.replace``.

When writing any of the files fails, every temporary file is removed and no target is touched
(and a directory created for the export is removed again when it is left empty): a failed
export leaves nothing behind, never half a file or half a set of files.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "out"
>>> write_atomically({folder / "a.txt": lambda f: f.write("A"), folder / "b.txt": lambda f: 1 / 0})
Traceback (most recent call last):
...
ZeroDivisionError: division by zero
>>> folder.exists()
False
>>> [p.name for p in write_atomically({folder / "a.txt": lambda f: f.write("A")})]
['a.txt']
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from cletrial.files import fsync_directory

__all__ = ["write_atomically"]

Writer = Callable[[IO[str]], Any]


def _write_temporary(target: Path, write: Writer) -> Path:
    """Write ``target``'s content to a new temporary file beside it; return its path."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, kept on success
        "w", encoding="utf-8", newline="", dir=target.parent, prefix=f".{target.name}.",
        suffix=".tmp", delete=False,
    )  # fmt: skip
    temporary = Path(handle.name)
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def write_atomically(files: Mapping[Path, Writer]) -> list[Path]:
    """Write each target path with its writer function, all or nothing; return the targets.

    Parameters
    ----------
    files : mapping of Path to callable
        Target path -> function writing the content to an open text file (UTF-8, no newline
        translation, as :mod:`csv` wants).

    Raises
    ------
    Exception
        Whatever a writer raised; no target was changed and no temporary file is left.
    """
    created = [p for p in {t.parent for t in files} if not p.exists()]
    for folder in created:
        folder.mkdir(parents=True, exist_ok=True)
    done: dict[Path, Path] = {}
    try:
        for target, write in files.items():
            done[target] = _write_temporary(target, write)
    except BaseException:
        for temporary in done.values():
            temporary.unlink(missing_ok=True)
        for folder in created:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    for target, temporary in done.items():
        temporary.replace(target)  # os.replace: atomic on POSIX and Windows
    for folder in {t.parent for t in files}:
        fsync_directory(folder)
    return list(files)
