"""Moderation side effects: frame checks on rendered media, and the report artifact."""

from __future__ import annotations

import time

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from reelfactory.models import AssetRef, BrandKit, ModerationReport, ShotList
from reelfactory.moderation import text_moderator
from reelfactory.moderation.frames import frame_moderator
from reelfactory.moderation.review import report_markdown
from reelfactory.settings import Settings
from reelfactory.storage import asset_store_for


@task(name="moderate-frames", tags=["moderation"])
def moderate_frames(
    ref: AssetRef, field: str, kit: BrandKit, settings: Settings
) -> ModerationReport:
    """Frames sampled from one clip or cut through the frame layers (fail closed)."""
    logger = get_run_logger()
    started = time.perf_counter()
    path = asset_store_for(settings).fetch(ref)
    report = frame_moderator(settings, kit).video(path, field)
    logger.info(
        "%s: %s (%d findings) in %.1f s",
        field,
        report.verdict.value,
        len(report.findings),
        time.perf_counter() - started,
    )
    return report


@task(name="publish-moderation-report")
def publish_moderation_report(report: ModerationReport, key: str, heading: str) -> None:
    """The report as a markdown artifact on the flow run (shown in the Prefect UI)."""
    create_markdown_artifact(
        key=key, markdown=report_markdown(report, heading=heading), description=heading
    )


@task(name="moderate-revision", tags=["moderation"])
def moderate_revision(shot_list: ShotList, kit: BrandKit, settings: Settings) -> ModerationReport:
    """The text layers on the shots an approver asked to change (their new prompts)."""
    return text_moderator(settings, kit).shots(shot_list)
