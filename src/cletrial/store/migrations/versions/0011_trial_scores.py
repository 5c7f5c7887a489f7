"""trial scores: the CLA-IGA grade and the Skindex-29+3 responses of a visit

Adds ``visits.cla_iga`` (grade 0-4, empty = not assessed) and ``skindex_assessments`` (issue 15,
item 4): one row per visit, the response 1-5 of each Skindex-29+3 item by number (``item_1`` ...
``item_33``, empty = not answered; never the item text) and the four domain scores (0-100, empty
when too few items are answered).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ITEMS = tuple(f"item_{i}" for i in range(1, 34))


def upgrade() -> None:
    """Add the visit column and create the Skindex table."""
    op.add_column("visits", sa.Column("cla_iga", sa.SmallInteger(), nullable=True))
    op.create_table(
        "skindex_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.SmallInteger(), nullable=True) for name in _ITEMS),
        # the domain scores, as the schema had them at this revision (frozen here)
        sa.Column("symptoms", sa.Float(), nullable=True),
        sa.Column("emotions", sa.Float(), nullable=True),
        sa.Column("functioning", sa.Float(), nullable=True),
        sa.Column("lupus_specific", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_skindex_assessments_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skindex_assessments")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_skindex_assessments_visit_id")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    """Drop the table and the column (their history stays in the audit trail)."""
    op.drop_table("skindex_assessments")
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("cla_iga")
