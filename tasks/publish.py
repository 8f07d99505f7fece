"""Publish an approved cut and its captions; record the publication."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import get_run_logger, task

from reelfactory import db
from reelfactory.models import BrandKit, Brief, Cut, Publication
from reelfactory.settings import Settings
from reelfactory.storage import LocalAssetStore, publish_key, publisher_for


@task(name="publish-cut", retries=3, retry_delay_seconds=[2, 5, 15])
def publish_cut(
    cut: Cut, brief: Brief, kit: BrandKit, flow_run_id: str, approver: str, settings: Settings
) -> Publication:
    """Upload captions, then the video (so a visible video always has its captions)."""
    logger = get_run_logger()
    store = LocalAssetStore(settings.assets_dir)
    publisher = publisher_for(settings)
    metadata = {
        "brief-id": brief.brief_id,
        "brand": kit.id,
        "flow-run-id": flow_run_id,
        "approved-by": approver,
        "aspect-ratio": cut.aspect_ratio.value,
    }

    def key_of(suffix: str) -> str:
        prefix = settings.publish_prefix
        return publish_key(prefix, kit.id, brief.brief_id, cut.aspect_ratio, suffix)

    captions = publisher.publish(
        store.local_path(cut.captions), key_of(".vtt"), content_type="text/vtt", metadata=metadata
    )
    video = publisher.publish(
        store.local_path(cut.video), key_of(".mp4"), content_type="video/mp4", metadata=metadata
    )
    logger.info(
        "%s %s (%d bytes)",
        "published" if video.uploaded else "already published",
        video.uri,
        video.size,
    )
    publication = Publication(
        brief_id=brief.brief_id,
        flow_run_id=flow_run_id,
        aspect_ratio=cut.aspect_ratio,
        bucket=video.bucket,
        key=video.key,
        uri=video.uri,
        captions_key=captions.key,
        captions_uri=captions.uri,
        sha256=video.sha256,
        size=video.size,
        duration_s=cut.video.duration_s or 0.0,
        width=cut.video.width or 0,
        height=cut.video.height or 0,
        link=video.link,
    )
    with db.session_for(settings.db_url) as session:
        db.record_publication(session=session, publication=publication, at=datetime.now(UTC))
    return publication
