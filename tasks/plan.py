"""Plan a brief: resolve its kit and template, expand it, moderate it."""

from __future__ import annotations

from prefect import task

from reelfactory.db import init_db
from reelfactory.intake import Plan, plan
from reelfactory.models import Brief
from reelfactory.settings import Settings


@task(name="prepare-database", retries=2, retry_delay_seconds=[2, 5])
def prepare_database(db_url: str) -> None:
    """Bring our database schema up to date."""
    init_db(db_url)


@task(name="plan-brief")
def plan_brief(brief: Brief, settings: Settings) -> Plan:
    """Expand the brief into a shot list and stop it if moderation blocks it."""
    return plan(brief, brand_kits_dir=settings.brand_kits_dir, templates_dir=settings.templates_dir)
