"""Schema migrations with Alembic, configured in code (the scripts ship inside the package).

Each migration runs in one transaction with the row that records it in ``alembic_version``.

>>> from cletrial.store.engine import create_engine_for
>>> engine = create_engine_for("sqlite://")
>>> current_revision(engine) is None
True
>>> upgrade(engine)
>>> current_revision(engine) == head_revision()
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

__all__ = [
    "MigrationInfo",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "migration_history",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    """Return an Alembic configuration pointing at the packaged migration scripts.

    >>> alembic_config().get_main_option("script_location").endswith("migrations")
    True
    """
    config = Config()
    config.set_main_option("path_separator", "os")
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (default: the newest).

    Parameters
    ----------
    engine : Engine
        From :func:`cletrial.store.create_engine_for`.
    revision : str
        An Alembic revision id, or ``head``.
    """
    with engine.connect() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (``base`` removes every table; for development).

    >>> from cletrial.store.engine import create_engine_for
    >>> engine = create_engine_for("sqlite://")
    >>> upgrade(engine); downgrade(engine, "base"); current_revision(engine) is None
    True
    """
    with engine.connect() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
        connection.commit()


def current_revision(engine: Engine) -> str | None:
    """Return the schema revision of the database (``None`` for an empty database)."""
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
        connection.rollback()
    return revision


def head_revision() -> str:
    """Return the newest revision shipped with this version of cletrial.

    >>> len(head_revision()) > 0
    True
    """
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migration scripts found"
    return head


@dataclass(frozen=True)
class MigrationInfo:
    """One migration script: its revision, parent revision and description."""

    revision: str
    down_revision: str | None
    description: str


def migration_history() -> list[MigrationInfo]:
    """Return the shipped migrations, oldest first.

    >>> migration_history()[0].down_revision is None
    True
    """
    script = ScriptDirectory.from_config(alembic_config())
    out = []
    for rev in script.walk_revisions():
        down = rev.down_revision
        out.append(MigrationInfo(rev.revision, down if isinstance(down, str) else None,
                                 (rev.doc or "").strip()))  # fmt: skip
    return list(reversed(out))
