"""Sign each approved cut with a C2PA manifest (Content Credentials), then verify it."""

from __future__ import annotations

from prefect import get_run_logger, task

from reelfactory.models import ApprovalDecision, Brief, Cut
from reelfactory.provenance import (
    sign_video,
    signing_identity,
    trust_anchors,
    verify_video,
)
from reelfactory.settings import Settings
from reelfactory.storage import asset_store_for


class SigningError(RuntimeError):
    """A freshly signed file did not verify."""


def production_assertion(
    brief: Brief, cut: Cut, decision: ApprovalDecision, settings: Settings, version: int
) -> dict[str, object]:
    """What the manifest says about how the cut was made and who approved it. Pure."""
    return {
        "brief_id": brief.brief_id,
        "brand": brief.brand,
        "campaign": brief.campaign,
        "version": version,
        "aspect_ratio": cut.aspect_ratio.value,
        "models": [{"renderer": settings.renderer}],
        "draft_sha256": cut.video.sha256,
        "approval": {
            "flow_run_id": decision.flow_run_id,
            "approver": decision.approver,
            "approvers": decision.approvers,
            "decided_at": decision.decided_at.isoformat(),
        },
    }


@task(name="sign-cuts", retries=1, retry_delay_seconds=5)
def sign_cuts(
    cuts: list[Cut], brief: Brief, decision: ApprovalDecision, settings: Settings, version: int = 1
) -> list[Cut]:
    """Return the cuts with their videos signed.

    A signed file is kept under the approved draft's hash, so approving the same draft again
    reuses the same bytes (and publishing it again stays a no-op), with the first approval's
    reference in its manifest.
    """
    logger = get_run_logger()
    store = asset_store_for(settings)
    identity = signing_identity(settings, log=logger.warning)
    anchors = trust_anchors(settings)
    signed = []
    for cut in cuts:
        key = f"signed/{cut.video.sha256}.mp4"
        facts = {k: getattr(cut.video, k) for k in ("duration_s", "width", "height", "fps")}
        ref = store.find(key, cut.video.media_type)
        signed_before = ref is not None and (
            verify_video(store.fetch(ref), trust_anchors_pem=anchors).state != "invalid"
        )
        if ref is not None and signed_before:
            logger.info("cut %s: already signed", cut.aspect_ratio.value)
            ref = ref.model_copy(update=facts)
        else:
            source = store.fetch(cut.video)
            production = production_assertion(brief, cut, decision, settings, version)
            with store.scratch() as tmp:
                out = tmp / "signed.mp4"
                sign_video(
                    source,
                    out,
                    identity=identity,
                    title=f"{brief.title} ({cut.aspect_ratio.value})",
                    production=production,
                    tsa_url=settings.c2pa_tsa_url,
                )
                check = verify_video(out, trust_anchors_pem=anchors)
                if check.state not in ("trusted", "valid"):
                    raise SigningError(
                        f"cut {cut.aspect_ratio.value}: signed file verifies as {check.state}: "
                        + "; ".join(check.errors)
                    )
                ref = store.put(key, out, cut.video.media_type, **facts)
            logger.info("cut %s: signed (%s)", cut.aspect_ratio.value, check.state)
        signed.append(cut.model_copy(update={"video": ref}))
    return signed
