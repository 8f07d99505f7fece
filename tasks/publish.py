"""Stage drafts for review; publish an approved version (cuts, sidecars, then the manifest)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import Task, get_run_logger, task
from prefect.client.schemas.objects import State, TaskRun

from reelfactory import db
from reelfactory.models import ApprovalDecision, Brief, Cut, Publication
from reelfactory.provenance import trust_anchors
from reelfactory.publish import (
    CutFiles,
    ImmutableVersionError,
    PermanentPublishError,
    PublishVerificationError,
    VersionPlan,
    plan_version,
    publish_first_free_version,
    stage_draft,
    staging_target_for,
    target_for,
    verify_version,
)
from reelfactory.settings import Settings
from reelfactory.storage import asset_store_for


@task(name="stage-cut", retries=3, retry_delay_seconds=[2, 10, 30])
def stage_cut(
    cut: Cut, brief: Brief, flow_run_id: str, settings: Settings, version: int = 1
) -> Cut:
    """Give the approver a link to each draft: a presigned staging URL when S3 is configured,
    the asset store's file otherwise. Nothing goes under the published prefix."""
    store = asset_store_for(settings)
    staging = staging_target_for(settings)
    if staging is None:
        return cut.model_copy(
            update={"preview": cut.video.uri, "captions_preview": cut.captions.uri}
        )
    preview, captions_preview = stage_draft(
        staging,
        prefix=settings.staging_prefix,
        brief=brief,
        flow_run_id=flow_run_id,
        ratio=cut.aspect_ratio,
        files=[
            (store.fetch(cut.video), ".mp4", "video/mp4"),
            (store.fetch(cut.captions), ".vtt", "text/vtt; charset=utf-8"),
        ],
        version=version,
    )
    get_run_logger().info("cut %s staged for review", cut.aspect_ratio.value)
    return cut.model_copy(update={"preview": preview, "captions_preview": captions_preview})


@task(name="link-previews")
def link_previews(cuts: list[Cut], brief_id: str, version: int) -> None:
    """A link artifact per draft cut on the flow run: the links the approver's form shows."""
    from prefect.artifacts import create_link_artifact

    for cut in cuts:
        create_link_artifact(
            key=f"preview-{brief_id}-{cut.aspect_ratio.slug}-v{version}",
            link=cut.preview or cut.video.uri,
            link_text=f"{cut.aspect_ratio.value} draft, version {version}",
            description=f"Captions: {cut.captions_preview or cut.captions.uri}",
        )


def _transient(task: Task[..., object], task_run: TaskRun, state: State[object]) -> bool:
    """Retry the task unless retrying cannot help (bad bucket/credentials, immutable key)."""
    try:
        state.result()
    except (PermanentPublishError, ImmutableVersionError):
        return False
    except Exception:
        return True
    return True


@task(
    name="publish-version",
    retries=3,
    retry_delay_seconds=[2, 10, 30],
    retry_condition_fn=_transient,
)
def publish_approved(
    cuts: list[Cut], brief: Brief, decision: ApprovalDecision, settings: Settings
) -> list[Publication]:
    """Upload every deliverable, verify it, write the manifest last, record the rows.

    The version is the first one free (or already holding exactly these files) under the
    brief's prefix: see ``publish_first_free_version``.
    """
    logger = get_run_logger()
    store = asset_store_for(settings)
    files = [
        CutFiles(
            cut=cut,
            video=store.fetch(cut.video),
            captions=store.fetch(cut.captions),
            subtitles=store.fetch(cut.subtitles),
            cover=store.fetch(cut.cover) if cut.cover else None,
            edit=store.fetch(cut.edit) if cut.edit else None,
        )
        for cut in cuts
    ]

    def plan(version: int) -> VersionPlan:
        return plan_version(
            cuts=files,
            brief=brief,
            decision=decision,
            version=version,
            prefix=settings.publish_prefix,
            c2pa="signed",  # sign-cuts ran before this task
        )

    target = target_for(settings)
    planned, result = publish_first_free_version(
        target, plan, stale_uploads_after=timedelta(hours=1)
    )
    version = planned.manifest.version
    if version > 1 and not result.already_published:
        logger.info(
            "earlier versions of %s hold other files: this is version %d", brief.brief_id, version
        )
    if result.aborted_uploads:
        logger.warning("aborted %d stale incomplete uploads", result.aborted_uploads)
    # Read back what consumers will read: checksums against the manifest, C2PA on the videos.
    check = verify_version(target, planned.manifest_key, trust_anchors_pem=trust_anchors(settings))
    if not check.ok:
        raise PublishVerificationError(
            f"{target.uri(planned.manifest_key)} failed verification: " + "; ".join(check.problems)
        )
    logger.info(
        "%s %s (%d files uploaded)",
        "already published:" if result.already_published else "published",
        target.uri(planned.manifest_key),
        len(result.uploaded),
    )
    by_key = {f.key: f for f in planned.manifest.files}
    publications = []
    for cut, keys in zip(cuts, planned.keys, strict=True):
        video = by_key[keys.video]
        publications.append(
            Publication(
                brief_id=brief.brief_id,
                brand=brief.brand,
                campaign=brief.campaign,
                flow_run_id=decision.flow_run_id,
                version=version,
                aspect_ratio=cut.aspect_ratio,
                bucket=target.bucket,
                key=keys.video,
                uri=target.uri(keys.video),
                captions_key=keys.captions,
                captions_uri=target.uri(keys.captions),
                subtitles_key=keys.subtitles,
                manifest_key=planned.manifest_key,
                sha256=video.sha256,
                size=video.size,
                duration_s=video.duration_s or 0.0,
                width=video.width or 0,
                height=video.height or 0,
                link=target.link(keys.video),
                already_published=result.already_published,
            )
        )
    with db.session_for(settings.db_url) as session:
        for publication in publications:
            db.record_publication(session=session, publication=publication, at=datetime.now(UTC))
    return publications
