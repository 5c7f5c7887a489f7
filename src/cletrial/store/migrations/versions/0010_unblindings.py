"""unblindings: emergency unblinding of a randomised patient

Adds ``unblindings`` (issue "running a randomised trial", blinding): one row per emergency
unblinding (patient, randomisation, who, role, e-signed name, when, why). The arm is not
copied here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "unblindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("randomisation_id", sa.Integer(), nullable=False),
        sa.Column("unblinded_by", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("signed_name", sa.String(length=200), nullable=False),
        sa.Column("unblinded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_unblindings_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["randomisation_id"],
            ["randomisations.id"],
            name=op.f("fk_unblindings_randomisation_id_randomisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unblindings")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_unblindings_patient_id"), "unblindings", ["patient_id"], unique=False)


def downgrade() -> None:
    """Drop the table (its rows stay in the audit trail)."""
    op.drop_table("unblindings")
