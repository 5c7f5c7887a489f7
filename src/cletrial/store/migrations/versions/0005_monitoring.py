"""monitoring: queries and their messages, source data verification marks, lock events

Adds what monitors and data managers need (issue "monitoring and data management"):

- ``queries`` (a question about a patient, a form or a field; raised by hand or by an edit
  check) and ``query_messages`` (its thread: raise, acknowledge, answer, close, reopen);
- ``sdv_marks`` (a form or field verified against the source, at a record version);
- ``lock_events`` (freeze, lock, unfreeze, unlock of the database, e-signed with a reason).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key() -> list[sa.Column[int]]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    ]


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "queries",
        *_key(),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=60), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("check_id", sa.String(length=60), nullable=True),
        sa.Column("severity", sa.String(length=10), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("opened_by", sa.String(length=80), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_by", sa.String(length=80), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_queries_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queries")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_queries_patient_id"), "queries", ["patient_id"], unique=False)
    op.create_index("ix_queries_status", "queries", ["status"], unique=False)
    op.create_index("ix_queries_target", "queries", ["table_name", "record_id"], unique=False)
    op.create_table(
        "query_messages",
        *_key(),
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("status_after", sa.String(length=10), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("author_role", sa.String(length=20), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("correction", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["query_id"], ["queries.id"], name=op.f("fk_query_messages_query_id_queries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_query_messages")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_query_messages_query_id"), "query_messages", ["query_id"], unique=False
    )
    op.create_table(
        "sdv_marks",
        *_key(),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("verified_by", sa.String(length=80), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_sdv_marks_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sdv_marks")),
        sa.UniqueConstraint(
            "table_name", "record_id", "field", name=op.f("uq_sdv_marks_table_name_record_id_field")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_sdv_marks_patient_id"), "sdv_marks", ["patient_id"], unique=False)
    op.create_table(
        "lock_events",
        *_key(),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("state_after", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("signed_by", sa.String(length=80), nullable=False),
        sa.Column("signed_name", sa.String(length=200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lock_events")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    """Drop the tables (their rows stay in the audit trail)."""
    op.drop_table("lock_events")
    op.drop_table("sdv_marks")
    op.drop_table("query_messages")
    op.drop_table("queries")
