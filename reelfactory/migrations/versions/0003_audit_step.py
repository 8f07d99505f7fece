"""Moderation reviews share the sign-off audit trail: a ``step`` column says which.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approval_audit") as batch:
        batch.add_column(sa.Column("step", sa.String(), nullable=False, server_default="approval"))


def downgrade() -> None:
    with op.batch_alter_table("approval_audit") as batch:
        batch.drop_column("step")
