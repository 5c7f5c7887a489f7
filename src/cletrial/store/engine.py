"""Database engines: SQLite (embedded default) and PostgreSQL (multi-site), by URL.

SQLite connections run in WAL mode with ``synchronous=FULL`` (a commit is on disk before it
returns), foreign keys on and a busy timeout; every write transaction starts with
``BEGIN IMMEDIATE``, so writers queue for the lock instead of failing with "database is locked"
half-way through. Read-only units of work start with a plain (deferred) ``BEGIN`` and never
block writers. PostgreSQL URLs use the psycopg 3 driver.

>>> engine = create_engine_for("sqlite://")
>>> with engine.connect() as conn:
...     conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
1
>>> engine.dispose()
"""

from __future__ import annotations

import os
import threading
import time

try:  # POSIX only; elsewhere writers rely on the busy timeout alone
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool, StaticPool

from cletrial.errors import StoreError

__all__ = [
    "BEGIN_MODE_OPTION",
    "DATABASE_URL_ENV",
    "DEFAULT_SQLITE_PATH",
    "SQLITE_BUSY_TIMEOUT_S",
    "create_engine_for",
    "default_database_url",
    "is_sqlite",
    "read_connection",
    "read_options",
    "release_writer_lock",
]

#: Environment variable holding the database URL.
DATABASE_URL_ENV: Final = "CLETRIAL_DATABASE_URL"
#: SQLite file used when no URL is given (relative to the working directory).
DEFAULT_SQLITE_PATH: Final = Path("var") / "cletrial.sqlite"
#: How long a SQLite writer waits for the write lock before giving up, in seconds.
SQLITE_BUSY_TIMEOUT_S: Final = 60.0
#: Connection execution option naming how SQLite begins: ``IMMEDIATE`` (default) or ``DEFERRED``.
BEGIN_MODE_OPTION: Final = "cletrial_sqlite_begin"


def default_database_url() -> str:
    """Return ``$CLETRIAL_DATABASE_URL`` or the SQLite file ``./var/cletrial.sqlite``.

    >>> default_database_url().startswith(("sqlite", "postgresql"))
    True
    """
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    return url or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def is_sqlite(engine_or_connection: Engine | Connection) -> bool:
    """Whether the engine (or connection) talks to SQLite.

    >>> is_sqlite(create_engine_for("sqlite://"))
    True
    """
    return engine_or_connection.dialect.name == "sqlite"


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for consistent reads that never blocks writers.

    SQLite: a deferred transaction (one WAL snapshot for all its statements). PostgreSQL:
    ``REPEATABLE READ``, read only (one snapshot for all its statements, so a verification or an
    export sees the database as of one moment while others write).

    >>> with read_connection(create_engine_for("sqlite://")) as conn:
    ...     conn.exec_driver_sql("SELECT 1").scalar()
    1
    """
    with engine.connect() as conn:
        yield conn.execution_options(**read_options(engine))


def read_options(engine: Engine | Connection) -> dict[str, Any]:
    """Execution options of a consistent read-only transaction on this engine."""
    if is_sqlite(engine):
        return {BEGIN_MODE_OPTION: "DEFERRED"}
    return {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself instead of the driver.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(BEGIN_MODE_OPTION, "IMMEDIATE")
    if mode not in ("IMMEDIATE", "DEFERRED"):
        raise StoreError(f"{BEGIN_MODE_OPTION} = {mode!r}: must be IMMEDIATE or DEFERRED")
    lock = conn.info.get(_WRITER_LOCK)
    if mode == "IMMEDIATE" and lock is not None:
        lock.acquire()
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"BEGIN {mode}")
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    finally:
        cursor.close()


def _on_sqlite_end(conn: Connection) -> None:
    # Fired just before the commit or rollback; a unit of work releases after it instead.
    if not conn.get_execution_options().get(RELEASE_AFTER_OPTION, False):
        release_writer_lock(conn)


def release_writer_lock(conn: Connection) -> None:
    """Let the next writer go once this connection's transaction has ended (SQLite files)."""
    lock = conn.info.get(_WRITER_LOCK) if not conn.closed else None
    if lock is not None:
        lock.release()


#: Execution option: the caller releases the writer lock after the commit (the unit of work).
RELEASE_AFTER_OPTION: Final = "cletrial_release_writer_lock_after_commit"


_WRITER_LOCK: Final = "cletrial_writer_lock"


class WriterQueue:
    """An exclusive ``flock`` on ``<database>-writer.lock`` held by a writing transaction.

    SQLite's busy handler makes waiting writers sleep in growing steps (up to 100 ms), which
    wastes most of the time under many writers. Writers of this package first queue on this
    lock, which the kernel hands over at once, then take SQLite's lock with ``BEGIN IMMEDIATE``
    (the busy timeout still guards against other programs). One descriptor per connection, so
    threads and processes exclude each other; the kernel drops the lock if a process dies.
    """

    #: (lock file, thread id) of every writer lock held in this process.
    _held: ClassVar[set[tuple[str, int]]] = set()

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.owner: int | None = None

    @property
    def held(self) -> bool:
        """Whether this connection holds the lock."""
        return self.owner is not None

    def acquire(self, timeout: float = SQLITE_BUSY_TIMEOUT_S) -> None:
        """Wait for the lock (no-op when this connection holds it already).

        Raises
        ------
        StoreError
            When another connection of this thread is writing (nested writing units of work
            would wait for each other forever), or after ``timeout`` seconds.
        """
        if self.held:
            return
        me = threading.get_ident()
        if (self.path, me) in self._held:
            raise StoreError(
                "another unit of work of this thread is writing to this database: "
                "finish it first (only read-only units of work can be nested)"
            )
        deadline, pause = time.monotonic() + timeout, 0.0001
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(f"database busy: no write turn within {timeout:g} s") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.001)
        self.owner = me
        self._held.add((self.path, me))

    def release(self) -> None:
        """Let the next writer go (no-op when not held)."""
        if self.owner is not None:
            self._held.discard((self.path, self.owner))
            self.owner = None
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the descriptor (releases the lock)."""
        self.release()
        os.close(self.fd)


def _writer_queue_events(engine: Engine, lock_path: Path) -> None:
    def on_connect(_dbapi_connection: Any, record: Any) -> None:
        try:
            record.info[_WRITER_LOCK] = WriterQueue(lock_path)
        except OSError:  # e.g. a read-only directory: rely on SQLite's busy timeout alone
            record.info.pop(_WRITER_LOCK, None)

    def on_close(_dbapi_connection: Any, record: Any) -> None:
        lock = record.info.pop(_WRITER_LOCK, None)
        if lock is not None:
            lock.close()

    def on_reset(_dbapi_connection: Any, record: Any, _state: Any) -> None:
        lock = record.info.get(_WRITER_LOCK)
        if lock is not None:
            lock.release()

    event.listen(engine, "connect", on_connect)
    event.listen(engine.pool, "close", on_close)
    event.listen(engine.pool, "reset", on_reset)
    event.listen(engine, "commit", _on_sqlite_end)
    event.listen(engine, "rollback", _on_sqlite_end)


def _sqlite_engine(url: str, echo: bool) -> Engine:
    parsed = make_url(url)
    database = parsed.database or ""
    memory = database in ("", ":memory:") or database.startswith("file::memory:")
    options: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    if memory:
        options["poolclass"] = StaticPool
        options["connect_args"]["check_same_thread"] = False
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, echo=echo, **options)
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    if not memory and fcntl is not None:
        _writer_queue_events(engine, Path(f"{Path(database).expanduser()}-writer.lock"))
    return engine


def create_engine_for(url: str | None = None, *, echo: bool = False, pool_size: int = 5) -> Engine:
    """Create an engine for a database URL, set up for safe concurrent writes.

    Parameters
    ----------
    url : str, optional
        ``sqlite:///path/to/file.sqlite`` (``sqlite://`` for an in-memory database) or
        ``postgresql://user@host:port/dbname`` (``postgresql+psycopg://`` is implied). ``None``
        uses :func:`default_database_url`.
    echo : bool
        Log SQL statements (for debugging; never use on production data).
    pool_size : int
        PostgreSQL connection pool size; 0 for no pool (each connection is closed when given
        back: for one-shot commands, which then leave no connection open).

    Returns
    -------
    Engine
        A SQLAlchemy engine; nothing is created in the database (see :func:`upgrade`).

    Raises
    ------
    StoreError
        For a URL of another database.

    Examples
    --------
    >>> create_engine_for("sqlite://").dialect.name
    'sqlite'
    >>> create_engine_for("mysql://x").dialect.name
    Traceback (most recent call last):
    ...
    cletrial.errors.StoreError: database URL mysql://x: must start with sqlite:// or postgresql://
    """
    raw = url if url is not None else default_database_url()
    scheme = raw.split(":", 1)[0].lower()
    if scheme in ("sqlite", "sqlite+pysqlite"):
        return _sqlite_engine(raw, echo)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        rest = raw.split(":", 1)[1]
        if pool_size == 0:
            return create_engine("postgresql+psycopg:" + rest, echo=echo, poolclass=NullPool)
        return create_engine(
            "postgresql+psycopg:" + rest,
            echo=echo,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_recycle=3600,
        )
    raise StoreError(f"database URL {_masked(raw)}: must start with sqlite:// or postgresql://")


def _masked(url: str) -> str:
    """The URL with any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL: show only its scheme
        return url.split(":", 1)[0] + "://..."
