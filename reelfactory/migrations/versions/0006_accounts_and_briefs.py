"""Web app accounts (users, brand-scoped roles, sessions, API tokens, login attempts) and
the briefs submitted through it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(), nullable=False, unique=True, index=True),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "user_role",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False, index=True
        ),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("brand", sa.String(), nullable=False),
        sa.UniqueConstraint("user_id", "role", "brand"),
    )
    op.create_table(
        "web_session",
        sa.Column("token_hash", sa.String(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False, index=True
        ),
        sa.Column("csrf_token", sa.String(), nullable=False),
        sa.Column("via", sa.String(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False, index=True),
    )
    op.create_table(
        "api_token",
        sa.Column("token_hash", sa.String(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False, index=True
        ),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(), nullable=False, index=True),
        sa.Column("client", sa.String(), nullable=False, index=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("at", TS, nullable=False, index=True),
    )
    op.create_table(
        "brief",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("brief_id", sa.String(), nullable=False, unique=True),
        sa.Column("brand", sa.String(), nullable=False, index=True),
        sa.Column("campaign", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("submitted_by", sa.String(), nullable=False, index=True),
        sa.Column("brief_json", sa.Text(), nullable=False),
        sa.Column("flow_run_id", sa.String(), nullable=False),
        sa.Column("submitted_at", TS, nullable=False, index=True),
    )


def downgrade() -> None:
    for table in (
        "brief",
        "login_attempt",
        "api_token",
        "web_session",
        "user_role",
        "user_account",
    ):
        op.drop_table(table)
