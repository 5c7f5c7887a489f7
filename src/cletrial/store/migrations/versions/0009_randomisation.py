"""randomisation: allocation lists, their slots, and the randomisations

Adds what a randomised trial needs (issue "running a randomised trial", allocation):

- ``allocation_lists`` (an imported list of a study: environment, SHA-256, design, sealed);
- ``allocation_slots`` (stratum, sequence, block, arm, treatment code; the patient once
  allocated, unique);
- ``randomisations`` (one per patient, one per slot: who, when, why).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key() -> list[sa.Column[int]]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    ]


def _lists() -> None:
    op.create_table(
        "allocation_lists",
        *_key(),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("list_code", sa.String(length=40), nullable=False),
        sa.Column("environment", sa.String(length=10), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("strata_json", sa.Text(), nullable=False),
        sa.Column("arms_json", sa.Text(), nullable=False),
        sa.Column("slot_count", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("imported_by", sa.String(length=80), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["studies.id"], name=op.f("fk_allocation_lists_study_id_studies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_lists")),
        sa.UniqueConstraint("sha256", name=op.f("uq_allocation_lists_sha256")),
        sa.UniqueConstraint(
            "study_id", "list_code", name=op.f("uq_allocation_lists_study_id_list_code")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_allocation_lists_study_id"), "allocation_lists", ["study_id"], unique=False
    )


def _slots() -> None:
    op.create_table(
        "allocation_slots",
        *_key(),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("stratum", sa.String(length=200), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("block", sa.Integer(), nullable=False),
        sa.Column("block_size", sa.Integer(), nullable=False),
        sa.Column("arm", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("allocated_by", sa.String(length=80), nullable=True),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["allocation_lists.id"],
            name=op.f("fk_allocation_slots_list_id_allocation_lists"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_allocation_slots_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_slots")),
        sa.UniqueConstraint("list_id", "code", name=op.f("uq_allocation_slots_list_id_code")),
        sa.UniqueConstraint(
            "list_id",
            "stratum",
            "sequence",
            name=op.f("uq_allocation_slots_list_id_stratum_sequence"),
        ),
        sa.UniqueConstraint("patient_id", name=op.f("uq_allocation_slots_patient_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_allocation_slots_free",
        "allocation_slots",
        ["list_id", "stratum", "patient_id"],
        unique=False,
    )


def _randomisations() -> None:
    op.create_table(
        "randomisations",
        *_key(),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("stratum", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("randomised_by", sa.String(length=80), nullable=False),
        sa.Column("randomised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["allocation_lists.id"],
            name=op.f("fk_randomisations_list_id_allocation_lists"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_randomisations_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["allocation_slots.id"],
            name=op.f("fk_randomisations_slot_id_allocation_slots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_randomisations")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_randomisations_patient_id")),
        sa.UniqueConstraint("slot_id", name=op.f("uq_randomisations_slot_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_randomisations_list_id"), "randomisations", ["list_id"], unique=False)


def upgrade() -> None:
    """Create the tables."""
    _lists()
    _slots()
    _randomisations()


def downgrade() -> None:
    """Drop the tables (their rows stay in the audit trail)."""
    op.drop_table("randomisations")
    op.drop_table("allocation_slots")
    op.drop_table("allocation_lists")
