"""site country: the ISO 3166-1 alpha-3 country of each site (SDTM DM.COUNTRY)

Adds ``sites.country`` (3 capitals, e.g. ``ESP``; empty = not recorded, as for every site
stored before this revision).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column."""
    op.add_column("sites", sa.Column("country", sa.String(3), nullable=True))


def downgrade() -> None:
    """Drop the column (its history stays in the audit trail)."""
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("country")
