"""Plan a brief: resolve its kit and template, expand it, moderate it."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from reelfactory.db import init_db
from reelfactory.errors import ModerationBlocked
from reelfactory.intake import Plan, plan, shot_list_rows
from reelfactory.models import Brief
from reelfactory.moderation.review import report_markdown
from reelfactory.settings import Settings


@task(name="prepare-database", retries=2, retry_delay_seconds=[2, 5])
def prepare_database(db_url: str) -> None:
    """Bring our database schema up to date."""
    init_db(db_url)


@task(name="plan-brief")
def plan_brief(brief: Brief, settings: Settings) -> Plan:
    """Expand the brief into a shot list and stop it if moderation blocks it.

    The shot list is published as a table artifact on the flow run, and the moderation
    report as a markdown one (also when it blocks).
    """
    key = f"moderation-{brief.brief_id}-input"
    try:
        result = plan(brief, settings)
    except ModerationBlocked as exc:
        if exc.report is not None:
            create_markdown_artifact(
                key=key, markdown=report_markdown(exc.report, heading="Input moderation")
            )
        raise
    create_markdown_artifact(
        key=key, markdown=report_markdown(result.report, heading="Input moderation")
    )
    shot_list = result.shot_list
    create_table_artifact(
        key=f"shot-list-{brief.brief_id}",
        table=shot_list_rows(shot_list),
        description=(
            f"Shot list for **{brief.title}** ({shot_list.format}, {shot_list.duration_s:g} s, "
            f"{len(shot_list.shots)} shots, by {shot_list.expander}, "
            f"{len(shot_list.rewrites)} rewrites)"
        ),
    )
    return result
