"""Cost and ROI reports over recorded runs (``db.videos``). Pure.

Per brand: videos produced (published runs), what they cost (device seconds, and money
where the runs were priced), what the shot cache saved, approval turnaround (run start to
final sign-off) and the rejection rate; optionally against a traditional per-video cost.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from pydantic import Field

from reelfactory.models import CostRecord, Frozen, VideoRecord


class BrandROI(Frozen):
    brand: str
    runs: int
    published: int
    rejected: int
    blocked: int
    rejection_rate: float | None = Field(description="rejected / (published + rejected)")
    cost: CostRecord
    total_cost: float | None = Field(description="Priced; None if any run was unpriced.")
    per_video_cost: float | None
    currency: str
    median_turnaround_s: float | None = Field(description="Run start to final sign-off.")
    traditional_total: float | None = None
    saving: float | None = Field(default=None, description="traditional_total - total_cost")


def _sum_priced(records: Sequence[VideoRecord]) -> float | None:
    if any(r.priced is None for r in records):
        return None
    return round(sum(r.priced or 0.0 for r in records), 4)


def brand_roi(
    brand: str, records: Sequence[VideoRecord], traditional_per_video: float | None = None
) -> BrandROI:
    """One brand's figures; ``records`` are that brand's runs."""
    published = [r for r in records if r.status == "published"]
    rejected = sum(r.status == "rejected" for r in records)
    decided = len(published) + rejected
    total = CostRecord()
    for r in records:
        total = total + r.cost
    priced = _sum_priced(records)
    turnarounds = [(r.decided_at - r.submitted_at).total_seconds() for r in records if r.decided_at]
    traditional = (
        round(traditional_per_video * len(published), 2)
        if traditional_per_video is not None
        else None
    )
    return BrandROI(
        brand=brand,
        runs=len(records),
        published=len(published),
        rejected=rejected,
        blocked=sum(r.status == "blocked" for r in records),
        rejection_rate=round(rejected / decided, 4) if decided else None,
        cost=total,
        total_cost=priced,
        per_video_cost=round(priced / len(published), 4)
        if priced is not None and published
        else None,
        currency=records[0].currency if records else "USD",
        median_turnaround_s=round(statistics.median(turnarounds), 1) if turnarounds else None,
        traditional_total=traditional,
        saving=round(traditional - priced, 2)
        if traditional is not None and priced is not None
        else None,
    )


def roi(
    records: Sequence[VideoRecord], traditional_per_video: float | None = None
) -> list[BrandROI]:
    """Every brand's figures, by brand name, then ``all`` over everything."""
    brands = sorted({r.brand for r in records})
    out = [
        brand_roi(b, [r for r in records if r.brand == b], traditional_per_video) for b in brands
    ]
    if records:
        out.append(brand_roi("all", records, traditional_per_video))
    return out


def campaign_rows(records: Sequence[VideoRecord]) -> list[dict[str, object]]:
    """One row per run of a campaign, for the table and the CSV."""
    return [
        {
            "brief_id": r.brief_id,
            "status": r.status,
            "versions": r.versions,
            "renders": r.cost.renders,
            "reused": r.cost.reused,
            "gpu_s": r.cost.gpu_s,
            "cpu_s": r.cost.cpu_s,
            "assembly_s": r.cost.assembly_s,
            "moderation_s": r.cost.moderation_s,
            "saved_s": round(r.cost.saved_gpu_s + r.cost.saved_cpu_s, 3),
            "cost": "" if r.priced is None else r.priced,
            "currency": r.currency,
            "turnaround_s": (
                round((r.decided_at - r.submitted_at).total_seconds(), 1) if r.decided_at else ""
            ),
            "flow_run_id": r.flow_run_id,
        }
        for r in records
    ]
