"""index of audit rows by table and action (records removed from a visit)

The audit history of a visit lists the forms and labs removed from it, found by their DELETE rows;
this index reads only those rows instead of every row of the three tables.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the index."""
    op.create_index("ix_audit_log_action", "audit_log", ["table_name", "action"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_audit_log_action", table_name="audit_log")
