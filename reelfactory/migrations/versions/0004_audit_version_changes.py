"""The audit trail records which version was decided on and the changes requested.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approval_audit") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("changes", sa.String(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("approval_audit") as batch:
        batch.drop_column("changes")
        batch.drop_column("version")
