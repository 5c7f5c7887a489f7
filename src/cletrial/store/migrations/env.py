"""Alembic environment of the study database (configured in code, no alembic.ini).

The caller (:func:`cletrial.store.migrate.upgrade`) passes an open connection in
``config.attributes["connection"]``; each migration runs in its own transaction together with the
update of ``alembic_version``. Importing this module outside Alembic does nothing.
"""

from __future__ import annotations

from alembic import context

from cletrial.store.tables import Base


def run_migrations() -> None:
    """Run the migrations on the connection handed over by the caller."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        transaction_per_migration=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if getattr(context, "_proxy", None) is not None:
    run_migrations()
