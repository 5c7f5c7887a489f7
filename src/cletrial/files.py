"""Write one file all or nothing, from a function that writes a path (pure: no database).

The content goes to a temporary file beside the target, is ``fsync``-ed, then moved over the
target with ``os.replace`` (keeping the target's permissions; a new file gets ``rw-r--r--``);
when the writer fails, the temporary file is removed and the target is untouched.
:mod:`cletrial.store.atomic` does the same for a set of text files (sharing
:func:`fsync_directory`).

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
>>> replace_atomically(target, lambda p: p.write_text("A")).read_text()
'A'
>>> replace_atomically(target, lambda p: 1 / 0)
Traceback (most recent call last):
ZeroDivisionError: division by zero
>>> sorted(q.name for q in target.parent.iterdir()), target.read_text()
(['a.txt'], 'A')
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["fsync_directory", "replace_atomically"]


def replace_atomically(target: Path | str, write: Callable[[Path], object]) -> Path:
    """Call ``write`` on a temporary path beside ``target``, then move it over ``target``.

    Parameters
    ----------
    target : Path or str
        The file to create or replace; its directory is created when missing.
    write : callable
        Writes the whole content to the path it is given.

    Returns
    -------
    Path
        ``target``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(descriptor)
    temporary = Path(name)
    try:
        write(temporary)
        temporary.chmod(target.stat().st_mode & 0o777 if target.exists() else 0o644)
        with temporary.open("rb+") as handle:
            os.fsync(handle.fileno())
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)
    return target


def fsync_directory(folder: Path) -> None:
    """Make the renames in ``folder`` durable (where the platform allows opening a directory).

    >>> import tempfile, pathlib
    >>> fsync_directory(pathlib.Path(tempfile.mkdtemp()))
    """
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
