"""adverse event outcome: recovered, recovering, not recovered, with sequelae, fatal, unknown

Adds ``adverse_events.outcome`` (empty: not recorded). The values are the store's ids of the
CDISC outcome terms (AEOUT); existing events keep an empty outcome, never a guessed one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the outcome column."""
    op.add_column("adverse_events", sa.Column("outcome", sa.String(length=30), nullable=True))


def downgrade() -> None:
    """Drop the outcome column (its values stay in the audit trail)."""
    op.execute("ALTER TABLE adverse_events DROP COLUMN outcome")
