"""Helpers shared by the command modules: reading inputs and reporting errors."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import typer

EXIT_INPUT_ERROR = 2


def fail(message: str, code: int = EXIT_INPUT_ERROR) -> NoReturn:
    """Print ``message`` to standard error and exit with ``code`` (2 for bad input)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def read_bytes(path: str) -> bytes:
    """Read a whole input file, or standard input when ``path`` is ``-``."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")


def iter_lines(path: str) -> Iterator[bytes]:
    """Stream the lines of a file (or standard input for ``-``) without loading it whole."""
    if path == "-":
        yield from sys.stdin.buffer
        return
    try:
        handle = Path(path).open("rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    with handle:
        yield from handle
