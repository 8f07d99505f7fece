"""What each produce-video run cost and how it ended, for cost and ROI reports.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "video",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("flow_run_id", sa.String(), nullable=False, unique=True),
        sa.Column("brief_id", sa.String(), nullable=False, index=True),
        sa.Column("brand", sa.String(), nullable=False, index=True),
        sa.Column("campaign", sa.String(), nullable=False, index=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("versions", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("renders", sa.Integer(), nullable=False),
        sa.Column("reused", sa.Integer(), nullable=False),
        sa.Column("gpu_s", sa.Float(), nullable=False),
        sa.Column("cpu_s", sa.Float(), nullable=False),
        sa.Column("saved_gpu_s", sa.Float(), nullable=False),
        sa.Column("saved_cpu_s", sa.Float(), nullable=False),
        sa.Column("assembly_s", sa.Float(), nullable=False),
        sa.Column("moderation_s", sa.Float(), nullable=False),
        sa.Column("priced", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("video")
