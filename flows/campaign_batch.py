"""campaign-batch: a campaign's matrix of variants, each a produce-video run.

Every variant is a brief that goes through produce-video by deployment (moderation,
rendering, approval, publishing: nothing is skipped for a campaign). At most
``campaign.concurrency`` variants render at once: a variant holds a slot of the campaign's
Prefect global concurrency limit (``campaign-<id>``, created or updated at the start, and
editable in the UI) until its run pauses for a human or ends; waiting for approval holds no
slot. A variant that fails fails alone; the campaign ends "Completed with failures" and lists
them. Re-running a campaign skips the variants already published (same brief id: a hash of
the brief's content) and runs only the failed or missing ones.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

from prefect import flow, get_run_logger, runtime, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
from prefect.client.schemas.objects import State, StateType
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectNotFound
from prefect.states import Completed, Failed
from pydantic import BaseModel, ConfigDict

from reelfactory import db
from reelfactory import orchestration as orch
from reelfactory.campaign import (
    Budget,
    Campaign,
    Variant,
    budget_refusal,
    estimate_for,
    may_start,
    variants,
)
from reelfactory.cost import Prices, prices_from
from reelfactory.models import CostRecord
from reelfactory.settings import Settings

FLOW_NAME = "campaign-batch"
DEPLOYMENT_NAME = "campaign-batch"


Status = Literal["published", "rejected", "blocked", "failed", "skipped"]


class VariantResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str
    brief_id: str
    status: Status
    flow_run_id: str | None = None
    message: str = ""
    cost: CostRecord | None = None


class CampaignOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    campaign: str
    variants: list[VariantResult]

    @property
    def failures(self) -> list[VariantResult]:
        return [v for v in self.variants if v.status == "failed"]

    @property
    def cost(self) -> CostRecord:
        total = CostRecord()
        for v in self.variants:
            total = total + (v.cost or CostRecord())
        return total


def limit_name(campaign: Campaign) -> str:
    return f"campaign-{campaign.id}"


@task(name="set-campaign-limit", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def set_limit(name: str, limit: int) -> None:
    """Create the campaign's concurrency limit, or set it to ``limit``."""
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=name, limit=limit)
            )
        else:
            client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(limit=limit))


@task(name="published-briefs", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def published_briefs(brief_ids: list[str], db_url: str) -> set[str]:
    db.init_db(db_url)
    with db.session_for(db_url) as session:
        return db.published_brief_ids(session=session, brief_ids=brief_ids)


@dataclass
class Spend:
    """What a campaign run's finished variants cost, against its budget (one per run)."""

    budget: Budget | None
    prices: Prices
    spent: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def may_start(self, next_cost: float) -> bool:
        with self.lock:
            return may_start(self.spent, next_cost, self.budget)

    def add(self, cost: CostRecord | None) -> None:
        with self.lock:
            self.spent += (self.prices.of(cost.gpu_s, cost.cpu_total_s) or 0.0) if cost else 0.0


_SPEND: dict[str, Spend] = {}  # by campaign flow run id; its variant tasks run in this process


def variant_cost(variant: Variant, settings: Settings) -> float:
    """The variant's estimated price; 0 when it cannot be priced."""
    guess = estimate_for([variant.brief], None, settings)
    return guess.cost if guess is not None and guess.cost is not None else 0.0


@task(name="run-variant", cache_policy=NO_CACHE)
def run_variant(
    variant: Variant,
    limit: str,
    campaign_run_id: str,
    timeout_s: int,
    est_cost: float,
    db_url: str,
) -> VariantResult:
    """One variant through produce-video; holds a campaign slot until it pauses or ends.

    It starts only while what the campaign's finished variants cost, plus its own estimate,
    fits the budget; otherwise it is skipped, saying so.
    """
    logger = get_run_logger()
    brief = variant.brief
    spend = _SPEND.get(campaign_run_id)
    with concurrency(limit, occupy=1, strict=True):
        if spend is not None and not spend.may_start(est_cost):
            cap = f" of {spend.budget.amount:g}" if spend.budget else ""
            logger.warning("%s: not started, budget reached (%.2f spent)", variant.key, spend.spent)
            return VariantResult(
                key=variant.key,
                brief_id=brief.brief_id,
                status="skipped",
                message=f"budget reached: {spend.spent:.2f} spent{cap}",
            )
        run_id = orch.submit(brief, idempotency_key=f"{campaign_run_id}-{brief.brief_id}")
        logger.info("%s: produce-video run %s", variant.key, run_id)
        orch.wait_for(run_id, orch.is_paused, timeout_s=timeout_s, poll_s=2)
    final = orch.wait_for(run_id, orch.is_final, timeout_s=timeout_s, poll_s=2)
    with db.session_for(db_url) as session:  # the run's own cost record (none if it failed)
        record = db.video_for_run(session=session, flow_run_id=run_id)
    cost = record.cost if record is not None else None
    status = status_of(final.state_type, final.state_name)
    if spend is not None:
        spend.add(cost)
    logger.info("%s: %s (%s)", variant.key, status, final.state_name)
    return VariantResult(
        key=variant.key,
        brief_id=brief.brief_id,
        status=status,
        flow_run_id=run_id,
        message=final.message,
        cost=cost,
    )


def status_of(state: StateType | None, name: str) -> Status:
    """A produce-video run's end, from its state: the flow names Rejected and Blocked."""
    if state is StateType.COMPLETED:
        return "rejected" if name == "Rejected" else "published"
    if state is StateType.FAILED and name == "Blocked":
        return "blocked"
    return "failed"


@flow(name=FLOW_NAME, log_prints=False, persist_result=True)
def campaign_batch(campaign: Campaign) -> CampaignOutcome | State:
    """Run every variant of ``campaign`` not yet published; list what failed."""
    settings = Settings()
    logger = get_run_logger()
    run_id = str(runtime.flow_run.id)
    items = variants(campaign)
    done = published_briefs([v.brief.brief_id for v in items], settings.db_url)
    todo = [v for v in items if v.brief.brief_id not in done]
    logger.info(
        "campaign %s: %d variants, %d already published, %d to run, %d at a time",
        campaign.id,
        len(items),
        len(items) - len(todo),
        len(todo),
        campaign.concurrency,
    )
    guess = estimate_for([v.brief for v in todo], campaign.budget, settings)
    if campaign.budget and guess is None:
        why = "no render-seconds figure for this renderer (REEL_RENDER_SECONDS_PER_OUTPUT_SECOND)"
        return Failed(name="Over budget", message=f"cannot check the budget: {why}")
    if guess is not None and (why := budget_refusal(guess)):
        logger.warning("campaign %s refused: %s", campaign.id, why)
        return Failed(name="Over budget", message=f"nothing was started: {why}")
    if guess is not None:
        priced = f" = {guess.cost:.2f} {guess.currency}" if guess.cost is not None else ""
        logger.info(
            "estimate: %.0f %s-s for %d videos%s",
            guess.device_s,
            guess.device.upper(),
            guess.videos,
            priced,
        )
    _SPEND[run_id] = Spend(budget=campaign.budget, prices=prices_from(settings))
    set_limit(limit_name(campaign), campaign.concurrency)
    timeout_s = settings.approval_timeout_s + 24 * 3600  # render, wait, publish
    futures = {
        v.key: run_variant.submit(
            v, limit_name(campaign), run_id, timeout_s, variant_cost(v, settings), settings.db_url
        )
        for v in todo
    }
    results = []
    for v in items:
        if v.brief.brief_id in done:
            results.append(
                VariantResult(
                    key=v.key,
                    brief_id=v.brief.brief_id,
                    status="skipped",
                    message="already published",
                )
            )
            continue
        futures[v.key].wait()
        state = futures[v.key].state
        if state.is_completed():
            results.append(futures[v.key].result())
        else:  # the task itself failed (e.g. the deployment is missing): this variant only
            results.append(
                VariantResult(
                    key=v.key,
                    brief_id=v.brief.brief_id,
                    status="failed",
                    message=f"{state.name}: {state.message}",
                )
            )
    _SPEND.pop(run_id, None)
    outcome = CampaignOutcome(campaign=campaign.id, variants=results)
    create_table_artifact(
        key=f"campaign-{campaign.id}",
        table=[
            {
                "variant": r.key,
                "brief": r.brief_id,
                "status": r.status,
                "run": r.flow_run_id or "",
                "CPU-s": round(r.cost.cpu_total_s, 1) if r.cost else "",
                "GPU-s": round(r.cost.gpu_s, 1) if r.cost else "",
                "note": r.message,
            }
            for r in results
        ],
        description=f"Campaign {campaign.id}: {len(results)} variants",
    )
    if outcome.failures:
        names = ", ".join(f"{f.key} ({f.message})" for f in outcome.failures)
        return Completed(
            name="Completed with failures",
            message=f"{len(outcome.failures)} of {len(results)} variants failed: {names}",
            data=outcome,
        )
    return outcome
