"""Versioned publications: brand, campaign, version, SRT and manifest keys, re-publish flag.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("publication") as batch:
        batch.add_column(sa.Column("brand", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("campaign", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("subtitles_key", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("manifest_key", sa.String(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("already_published", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index("ix_publication_manifest_key", ["manifest_key"])
        batch.create_index("ix_publication_brand", ["brand"])


def downgrade() -> None:
    with op.batch_alter_table("publication") as batch:
        batch.drop_index("ix_publication_brand")
        batch.drop_index("ix_publication_manifest_key")
        for column in (
            "already_published",
            "manifest_key",
            "subtitles_key",
            "version",
            "campaign",
            "brand",
        ):
            batch.drop_column(column)
