"""Shared fixtures: study databases on SQLite and on a real PostgreSQL server.

The PostgreSQL server is started once per test session with initdb/pg_ctl (see
``tests/pg_server.py``) and stopped at the end. Each test gets a fresh database, copied from a
migrated template (fast), on both engines:

- ``db_engine``: parametrized over ``sqlite`` and ``postgresql`` (marked ``postgres``).
- ``sqlite_engine`` / ``pg_engine``: one engine only.
- ``pg_server``: the running server, for tests that need their own databases.

Hypothesis runs under one profile, ``ci``, registered and loaded here: derandomized (the same
examples on every run, no example database), no deadline (the shared machines are slow at
times), the failing example printed as a reproduction blob, and the ``too_slow`` health check
off. Tests set only their own ``max_examples`` (and, for a test taking pytest fixtures, the
``function_scoped_fixture`` health check). To explore with fresh random examples locally, load
Hypothesis' own default profile: ``HYPOTHESIS_PROFILE=default python3 -m pytest ...`` (or pass
``--hypothesis-profile=default``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine

from pg_server import PostgresServer, PostgresUnavailableError

PG_TEMPLATE = "cletrial_template"

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server running for the whole session (skips when not installed)."""
    try:
        server = PostgresServer.start()
    except PostgresUnavailableError as exc:
        pytest.skip(f"PostgreSQL not available: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> str:
    """Name of a database on ``pg_server`` migrated to the newest schema (copied per test)."""
    from cletrial.store import create_engine_for, upgrade

    url = pg_server.create_database(PG_TEMPLATE)
    engine = create_engine_for(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return PG_TEMPLATE


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest schema (copied per test)."""
    from cletrial.store import create_engine_for, upgrade

    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """URL of a fresh, migrated SQLite database file."""
    path = tmp_path / "study.sqlite"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def pg_url(pg_server: PostgresServer, pg_template: str) -> str:
    """URL of a fresh, migrated PostgreSQL database.

    Not dropped after the test (DROP DATABASE forces a checkpoint, slow); the whole server is
    removed at the end of the session.
    """
    return pg_server.create_database(f"t_{uuid.uuid4().hex[:12]}", template=pg_template)


def _engine(url: str) -> Iterator[Engine]:
    from cletrial.store import create_engine_for

    engine = create_engine_for(url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """Engine of a fresh, migrated SQLite database."""
    yield from _engine(sqlite_url)


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """Engine of a fresh, migrated PostgreSQL database."""
    yield from _engine(pg_url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """URL of a fresh, migrated database, on each engine in turn."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """Engine of a fresh, migrated database, on each engine in turn."""
    yield from _engine(db_url)
