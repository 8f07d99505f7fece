"""Alembic environment: runs on the connection ``reelfactory.db.init_db`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import reelfactory.accounts
import reelfactory.db  # noqa: F401

config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:  # `alembic -x ...` from the command line
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        context.configure(connection=conn, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
