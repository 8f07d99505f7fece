"""The render pool on the real lane: shots dispatched with run_deployment to the served
render-shots deployment, rendered there by the diffusers backend (a tiny Wan pipeline loaded
with from_pretrained), and the GPU slot held through a strict global concurrency limit."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    TaskRunFilter,
    TaskRunFilterFlowRunId,
)
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import ObjectNotFound

from flows.produce_video import render_all
from flows.render_shots import DEPLOYMENT_NAME, FLOW_NAME, RenderDispatchError, dispatch
from reelfactory.models import AspectRatio, AssetRef, BrandKit
from reelfactory.render import RenderRequest
from reelfactory.settings import Settings
from tasks.render import render_shot
from tests.e2e.conftest import TINY_MODEL, Lane
from tests.media_checks import probe
from tests.test_render import request

pytestmark = pytest.mark.e2e
POOL = f"{FLOW_NAME}/{DEPLOYMENT_NAME}"


def tiny(kit: BrandKit, index: int, **update: object) -> RenderRequest:
    shot = {"index": index, "seed": 100 + index, "frames": 24, "fps": 24}
    return request(kit, **shot).model_copy(update={"width": 64, "height": 32, **update})


def pool_runs() -> list[FlowRun]:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[DEPLOYMENT_NAME]))
        )


def attempts(run: FlowRun) -> list[int]:
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(
            task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[run.id]))
        )
    return sorted(t.run_count for t in tasks)


def test_shots_render_on_the_pool_and_a_retried_dispatch_reuses_the_run(
    lane: Lane, aurora: BrandKit
) -> None:
    settings = lane.settings.model_copy(update={"render_deployment": POOL, "renderer": TINY_MODEL})
    requests = [tiny(aurora, i) for i in range(3)]
    key = f"test-{uuid4()}"
    before = len(pool_runs())
    shots = dispatch(requests, settings, key)
    assert [s.reused for s in shots] == [False] * 3
    assert all(s.stats is not None and s.stats.renderer == TINY_MODEL for s in shots)
    refs = [s.ref for s in shots]

    assert len(refs) == 3 and all(isinstance(r, AssetRef) for r in refs)
    for ref in refs:  # rendered by the served worker into the shared asset store
        clip = Path(ref.uri.removeprefix("file://"))
        assert clip.is_file() and clip.is_relative_to(lane.settings.assets_dir)
        p = probe(clip)
        assert (p.width, p.height, p.frames, p.fps) == (64, 32, 24, 24)
        # The worker kept what each render cost beside its clip.
        assert '"renderer": "tiny-wan"' in clip.with_suffix(".json").read_text()
    assert len({r.sha256 for r in refs}) == 3  # three seeds, three clips

    runs = pool_runs()
    assert len(runs) == before + 1 and runs[0].state is not None
    assert runs[0].state.is_completed()
    assert dispatch(requests, settings, key) == shots  # the same key: the same run, no new one
    assert len(pool_runs()) == before + 1


def test_a_shot_that_fails_twice_fails_its_run_with_the_reason(
    lane: Lane, aurora: BrandKit
) -> None:
    settings = lane.settings.model_copy(update={"render_deployment": POOL, "renderer": TINY_MODEL})
    bad = tiny(aurora, 0, width=128, height=72)  # a size the model cannot make
    with pytest.raises(RenderDispatchError, match=rf"{POOL} run .* ended Failed"):
        dispatch([bad], settings, f"test-{uuid4()}")
    failed = next(r for r in pool_runs() if r.state and r.state.is_failed())
    assert attempts(failed) == [2]  # retried once, then the run (and only it) failed


def test_the_gpu_slot_is_a_strict_global_concurrency_limit(lane: Lane, aurora: BrandKit) -> None:
    name = f"gpu-test-{uuid4().hex[:8]}"

    @flow
    def render_one(settings: Settings) -> AssetRef:
        return render_shot.with_options(retries=0)(tiny(aurora, 0), settings).ref

    missing = lane.settings.model_copy(update={"gpu_concurrency_limit": name})
    with pytest.raises(Exception, match=name):  # strict: a missing limit is an error
        render_one(missing)

    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
        try:
            ref = render_one(missing)
            assert Path(ref.uri.removeprefix("file://")).is_file()
            limit = client.read_global_concurrency_limit_by_name(name)
            assert limit.active_slots == 0  # the slot was given back
        finally:
            client.delete_global_concurrency_limit_by_name(name)
    with pytest.raises(ObjectNotFound), get_client(sync_client=True) as client:
        client.read_global_concurrency_limit_by_name(name)


def test_produce_video_sends_every_ratio_in_one_run_and_splits_the_clips_back(
    lane: Lane, aurora: BrandKit
) -> None:
    settings = lane.settings.model_copy(update={"render_deployment": POOL, "renderer": TINY_MODEL})
    batches = {
        AspectRatio.LANDSCAPE: [tiny(aurora, i) for i in range(2)],
        AspectRatio.SQUARE: [tiny(aurora, i, width=32, height=32) for i in range(2)],
    }
    before = len(pool_runs())
    rendered = render_all(batches, settings, key=f"test-{uuid4()}")
    assert len(pool_runs()) == before + 1
    sizes = {
        ratio: [(probe(Path(s.ref.uri.removeprefix("file://"))).width, s.ref.height) for s in shots]
        for ratio, shots in rendered.items()
    }
    assert sizes == {AspectRatio.LANDSCAPE: [(64, 32)] * 2, AspectRatio.SQUARE: [(32, 32)] * 2}
