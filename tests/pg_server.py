"""Start a throw-away PostgreSQL server for tests and benchmarks (initdb + pg_ctl).

The server runs from a temporary directory on a free localhost port with ``trust``
authentication, and is removed when stopped. initdb refuses to run as root: when running as root
the server runs as the ``postgres`` OS user (created as a system user if missing).

Usage::

    from pg_server import PostgresServer
    with PostgresServer.start() as server:
        url = server.create_database("mydb")   # postgresql+psycopg://postgres@127.0.0.1:PORT/mydb

Reusable by any test package (``tests/`` is on ``sys.path`` under pytest) and by benchmarks
(``sys.path.insert(0, "tests")``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["PostgresServer", "PostgresUnavailableError", "find_pg_bin"]

SUPERUSER = "postgres"


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL binaries are not installed, or the server could not start."""


def find_pg_bin() -> Path | None:
    """Return the directory holding initdb and pg_ctl (newest version), or None."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return candidates[-1].parent if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _os_user() -> str | None:
    """The OS user to run the server as (None: the current, non-root user)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "cletrial-pg"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "cletrial-pg"],
        check=True,
        capture_output=True,
    )
    return "cletrial-pg"


class PostgresServer:
    """A running PostgreSQL server in a temporary directory (see the module docstring)."""

    def __init__(self, bin_dir: Path, base_dir: Path, port: int, os_user: str | None) -> None:
        self.bin_dir = bin_dir
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.port = port
        self.os_user = os_user
        self.running = False

    def _run(self, args: Sequence[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.os_user is not None:
            command = ["runuser", "-u", self.os_user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    @classmethod
    def start(cls, settings: dict[str, str] | None = None) -> PostgresServer:
        """Create a cluster in a fresh temporary directory and start it.

        ``settings`` are extra ``postgresql.conf`` lines (name -> value).
        """
        bin_dir = find_pg_bin()
        if bin_dir is None:
            raise PostgresUnavailableError(
                "initdb/pg_ctl not found (install the postgresql package)"
            )
        os_user = _os_user()
        base_dir = Path(tempfile.mkdtemp(prefix="cletrial-pg-"))
        if os_user is not None:
            shutil.chown(base_dir, user=os_user)
        server = cls(bin_dir, base_dir, _free_port(), os_user)
        try:
            server._init(settings or {})
            server._start()
        except BaseException:
            server.stop()
            raise
        return server

    def _init(self, settings: dict[str, str]) -> None:
        result = self._run(
            ["initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust",
             "-E", "UTF8", "--locale=C", "--no-sync"]
        )  # fmt: skip
        if result.returncode != 0:
            raise PostgresUnavailableError(f"initdb failed: {result.stderr.strip()}")
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.data_dir}'",
            "max_connections": "120",
            "logging_collector": "off",
            **settings,
        }
        lines = "".join(f"{name} = {value}\n" for name, value in conf.items())
        command = ["sh", "-c", f"cat >> '{self.data_dir / 'postgresql.conf'}'"]
        if self.os_user is not None:
            command = ["runuser", "-u", self.os_user, "--", *command]
        subprocess.run(command, input=lines, text=True, check=True)

    def _start(self) -> None:
        log = self.base_dir / "server.log"
        result = self._run(["pg_ctl", "-D", str(self.data_dir), "-l", str(log), "-w", "-t", "60",
                            "start"])  # fmt: skip
        if result.returncode != 0:
            detail = log.read_text(errors="replace")[-2000:] if log.exists() else result.stderr
            raise PostgresUnavailableError(f"pg_ctl start failed: {detail}")
        self.running = True

    def stop(self) -> None:
        """Stop the server (immediate shutdown: its data is thrown away) and delete it."""
        if self.running:
            self._run(["pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"])
            self.running = False
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of a database on this server (psycopg 3 driver)."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """libpq connection string of a database on this server."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}"

    @contextlib.contextmanager
    def admin(self) -> Iterator[object]:
        """An autocommit psycopg connection to the ``postgres`` database."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            yield conn

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database ``name`` (optionally copied from ``template``); return its URL."""
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"{clause}')  # type: ignore[attr-defined]
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, disconnecting anyone still connected."""
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
