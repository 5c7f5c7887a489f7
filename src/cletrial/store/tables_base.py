"""The declarative base of every table: naming convention, ``Base`` and the ``Versioned`` columns.

Every table module (``tables``, ``tables_forms``, ``tables_audit``, ``tables_monitoring``,
``tables_web``) builds on this one, so none imports another and ``tables`` can import them all.

>>> sorted(Base.metadata.naming_convention)[:3]
['ck', 'fk', 'ix']
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Integer, MetaData, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["NAMING_CONVENTION", "NO_REUSE", "Base", "Versioned"]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Ids are never reused on SQLite either, so an audit row names one record forever.
#: (Lookups by patient use the unique keys that start with ``patient_id``; no extra index.)
NO_REUSE: Final = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Versioned:
    """Columns shared by every mutable record: id and version."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-10)
    version: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("1"), sort_order=-9
    )
