"""web sessions, login throttle and login events in the database

So that several server processes (``cletrial serve --workers N``) share them (issue "a web
tier that scales out and holds under attack"):

- ``web_sessions``: live sessions by the SHA-256 of their token (infrastructure, not audited);
- ``login_throttle``: password checks per user name in the current window (infrastructure);
- ``login_events``: logins, failed logins, logouts, lock-outs, password changes (audited).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "web_sessions",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("user_epoch", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"], unique=False)
    op.create_table(
        "login_throttle",
        sa.Column("name_digest", sa.String(length=64), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("window_end", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name_digest", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "login_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_events_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_events")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_login_events_username"), "login_events", ["username"], unique=False)


def downgrade() -> None:
    """Drop the tables (the login events stay in the audit trail)."""
    op.drop_table("login_events")
    op.drop_table("login_throttle")
    op.drop_table("web_sessions")
