"""render-shots: a brief's shots rendered on a GPU worker, dispatched by produce-video.

Deployed to the ``gpu`` work pool (``infra/prefect.yaml``). produce-video dispatches one run
per version of a brief (every shot of every ratio) with ``run_deployment`` when
``REEL_RENDER_DEPLOYMENT`` is set, and renders in its own process when it is not (the
embedded default). The worker's own environment says how it renders (model registry, device,
its GPU's concurrency limit); the run's parameters say what: the requests and the renderer
the brief was planned for. A process work pool starts a process per flow run, so a model
stays warm for one run: every shot of the brief pays one load.

Each shot is retried once; a shot that fails again fails this run, and with it the one
brief that asked for it. Runs of several briefs interleave on the pool, one shot at a time
per GPU (the global concurrency limit).
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment

from reelfactory.render import RenderedShot, RenderRequest
from reelfactory.settings import Settings
from tasks.render import render_shot

FLOW_NAME = "render-shots"
DEPLOYMENT_NAME = "render-shots"  # as served locally; infra/prefect.yaml deploys "gpu"


class RenderDispatchError(RuntimeError):
    """A render-shots run did not complete; the message names the run and why."""


@flow(name=FLOW_NAME, persist_result=True, result_serializer="json", validate_parameters=True)
def render_shots(requests: list[RenderRequest], renderer: str) -> list[RenderedShot]:
    """Render ``requests`` with ``renderer`` through the shot cache, in order of the list."""
    settings = Settings().model_copy(update={"renderer": renderer})
    get_run_logger().info("%d shots with %s", len(requests), renderer)
    futures = [render_shot.submit(r, settings) for r in requests]
    return [f.result() for f in futures]


def dispatch(requests: list[RenderRequest], settings: Settings, key: str) -> list[RenderedShot]:
    """Render ``requests`` on the ``settings.render_deployment`` pool and wait for them.

    ``key`` makes the dispatch idempotent: a retried caller gets the same run back.
    """
    assert settings.render_deployment, "dispatch needs REEL_RENDER_DEPLOYMENT"
    run = run_deployment(  # sync here: returns the finished FlowRun, not a coroutine
        settings.render_deployment,
        parameters={
            "requests": [r.model_dump(mode="json") for r in requests],
            "renderer": settings.renderer,
        },
        idempotency_key=key,
        poll_interval=1,
    )
    assert isinstance(run, FlowRun)
    state = run.state
    if state is None or not state.is_completed():
        why = f"{state.name}: {state.message}" if state else "no state"
        raise RenderDispatchError(f"{settings.render_deployment} run {run.name!r} ended {why}")
    refs = state.result()
    assert isinstance(refs, list)
    return [RenderedShot.model_validate(r) for r in refs]
