"""Publications and the approval audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("brief_id", sa.String(), nullable=False, index=True),
        sa.Column("flow_run_id", sa.String(), nullable=False, index=True),
        sa.Column("aspect_ratio", sa.String(), nullable=False),
        sa.Column("bucket", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("uri", sa.String(), nullable=False),
        sa.Column("captions_key", sa.String(), nullable=False),
        sa.Column("captions_uri", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("link", sa.String(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("bucket", "key", "flow_run_id"),
    )
    op.create_table(
        "approval_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("brief_id", sa.String(), nullable=False, index=True),
        sa.Column("flow_run_id", sa.String(), nullable=False, index=True),
        sa.Column("approver", sa.String(), nullable=False),
        sa.Column("decision", sa.String(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("notes", sa.String(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("approval_audit")
    op.drop_table("publication")
