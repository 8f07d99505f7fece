"""``reel infra init``: the work pools and GPU concurrency limits a production Prefect server
needs, created where missing and left alone where present.

- work pool ``cpu`` (process): produce-video and campaign-batch runs;
- work pool ``gpu``: render-shots runs. A process pool (one worker per GPU, as in
  infra/compose.yaml), or with ``kubernetes`` a Kubernetes pool whose base job template is
  infra/k8s/gpu-job-template.json (each run a Job with its own ``nvidia.com/gpu``);
- one global concurrency limit of 1 per GPU slot name (``REEL_GPU_CONCURRENCY_LIMIT`` of the
  worker holding that GPU);
- with an S3 asset store (``REEL_ASSET_STORE``), an ``s3-bucket`` block ``reel-results`` in
  the same bucket: Prefect's result storage, which every worker must share (a render-shots
  run's result is read by the produce-video run that dispatched it, on another machine, and
  a run resumed from suspension finds its tasks' cached results on whichever worker resumes
  it). Workers select it with ``PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK=s3-bucket/reel-results``.

What to create is decided by :func:`plan`, a pure function of what is wanted and what the
server already has; :func:`read_server` and :func:`apply` are the thin I/O around it. Nothing
existing is ever changed: a pool of another type, or a limit that is not an active 1, is
reported as ``differs`` for a person to resolve.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from reelfactory.errors import ReelError
from reelfactory.settings import PROJECT_ROOT, Settings
from reelfactory.storage import parse_asset_store

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

CPU_POOL = "cpu"
GPU_POOL = "gpu"
GPU_SLOT_LIMIT = 1  # one render at a time per GPU
GPU_JOB_TEMPLATE = PROJECT_ROOT / "infra" / "k8s" / "gpu-job-template.json"
POOL_DESCRIPTIONS = {
    CPU_POOL: "reelfactory: produce-video and campaign-batch (orchestration, moderation, "
    "assembly).",
    GPU_POOL: "reelfactory: render-shots, one GPU per run.",
}

RESULT_STORAGE_BLOCK = "reel-results"
# What every worker's PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK must say with an S3 asset store.
RESULT_STORAGE_SETTING = f"s3-bucket/{RESULT_STORAGE_BLOCK}"

PoolType = Literal["process", "kubernetes"]
Outcome = Literal["create", "exists", "differs"]


@dataclass(frozen=True)
class PoolSpec:
    name: str
    type: PoolType
    # None: the worker type's own default (what `prefect work-pool create` would use).
    base_job_template: dict[str, Any] | None = None


@dataclass(frozen=True)
class LimitSpec:
    name: str
    limit: int = GPU_SLOT_LIMIT


@dataclass(frozen=True)
class ResultStorageSpec:
    """Where Prefect keeps task and flow results: a folder of the asset store's bucket.
    Credentials are not part of it: workers use the standard AWS chain, as for S3."""

    bucket: str
    folder: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    name: str = RESULT_STORAGE_BLOCK

    def describe(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.folder}{where}"


def result_storage_for(settings: Settings) -> ResultStorageSpec | None:
    """The result storage an S3 asset store implies; None with the local store (one
    machine: Prefect's local result storage is shared by every process there)."""
    if not settings.asset_store:
        return None
    bucket, prefix = parse_asset_store(settings.asset_store)
    folder = f"{prefix}/prefect-results" if prefix else "prefect-results"
    return ResultStorageSpec(bucket, folder, settings.s3_endpoint_url, settings.s3_region)


@dataclass(frozen=True)
class ExistingLimit:
    limit: int
    active: bool


@dataclass(frozen=True)
class ServerState:
    """What the server has, of what was asked for: pool name -> type, limit name -> limit."""

    pools: dict[str, str] = field(default_factory=dict)
    limits: dict[str, ExistingLimit] = field(default_factory=dict)
    result_storage: ResultStorageSpec | None = None


@dataclass(frozen=True)
class Step:
    kind: Literal["work pool", "concurrency limit", "result storage"]
    name: str
    outcome: Outcome
    detail: str
    pool: PoolSpec | None = None
    limit: LimitSpec | None = None
    storage: ResultStorageSpec | None = None

    def line(self) -> str:
        mark = {"create": "created", "exists": "exists ", "differs": "DIFFERS"}[self.outcome]
        return f"{mark}  {self.kind} {self.name}: {self.detail}"

    def as_json(self) -> dict[str, str]:
        outcome = "created" if self.outcome == "create" else self.outcome
        return {"kind": self.kind, "name": self.name, "outcome": outcome, "detail": self.detail}


def load_job_template(path: Path) -> dict[str, Any]:
    """A work pool base job template: a JSON object with ``job_configuration`` and
    ``variables`` (Prefect's format; ``prefect work-pool get-default-base-job-template``)."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ReelError(f"{path}: cannot read the base job template ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ReelError(f"{path}: not JSON ({exc})") from None
    missing = [
        k for k in ("job_configuration", "variables") if not isinstance(data, dict) or k not in data
    ]
    if missing:
        raise ReelError(f"{path}: not a base job template, missing {', '.join(missing)}")
    return dict(data)


def wanted(
    gpu_limits: Iterable[str], *, kubernetes: bool = False, gpu_job_template: Path | None = None
) -> tuple[list[PoolSpec], list[LimitSpec]]:
    """The pools and limits production needs. Limit names keep their first order, once."""
    if kubernetes:
        template = load_job_template(gpu_job_template or GPU_JOB_TEMPLATE)
        gpu = PoolSpec(GPU_POOL, "kubernetes", template)
    else:
        gpu = PoolSpec(GPU_POOL, "process")
    names = list(dict.fromkeys(n.strip() for n in gpu_limits if n.strip()))
    return [PoolSpec(CPU_POOL, "process"), gpu], [LimitSpec(n) for n in names]


def plan(
    pools: Sequence[PoolSpec],
    limits: Sequence[LimitSpec],
    have: ServerState,
    storage: ResultStorageSpec | None = None,
) -> list[Step]:
    """One step per pool, limit and result storage: create it, leave it (exists), or report
    how it differs."""
    steps: list[Step] = []
    for pool in pools:
        found = have.pools.get(pool.name)
        if found is None:
            detail = f"{pool.type} pool" + (
                " with the GPU job template" if pool.base_job_template else ""
            )
            steps.append(Step("work pool", pool.name, "create", detail, pool=pool))
        elif found == pool.type:
            steps.append(Step("work pool", pool.name, "exists", f"{found} pool, left as it is"))
        else:
            steps.append(
                Step(
                    "work pool",
                    pool.name,
                    "differs",
                    f"is a {found} pool, not {pool.type}; left as it is (to replace it: "
                    f"`prefect work-pool delete {pool.name}`, then run this again)",
                )
            )
    for lim in limits:
        got = have.limits.get(lim.name)
        if got is None:
            steps.append(
                Step("concurrency limit", lim.name, "create", f"limit {lim.limit}", limit=lim)
            )
        elif got.limit == lim.limit and got.active:
            steps.append(
                Step("concurrency limit", lim.name, "exists", f"limit {got.limit}, left as it is")
            )
        else:
            state = f"limit {got.limit}" + ("" if got.active else ", inactive")
            steps.append(
                Step(
                    "concurrency limit",
                    lim.name,
                    "differs",
                    f"is {state}, a GPU slot wants an active {lim.limit}; left as it is "
                    f"(`prefect gcl update {lim.name} --limit {lim.limit} --enable`)",
                )
            )
    if storage is not None:
        got_storage = have.result_storage
        kind: Literal["result storage"] = "result storage"
        if got_storage is None:
            steps.append(Step(kind, storage.name, "create", storage.describe(), storage=storage))
        elif got_storage == storage:
            steps.append(Step(kind, storage.name, "exists", f"{storage.describe()}, left as it is"))
        else:
            steps.append(
                Step(
                    kind,
                    storage.name,
                    "differs",
                    f"is {got_storage.describe()}, REEL_ASSET_STORE implies "
                    f"{storage.describe()}; left as it is (to replace it: "
                    f"`prefect block delete {RESULT_STORAGE_SETTING}`, then run this again)",
                )
            )
    return steps


def read_result_storage(name: str) -> ResultStorageSpec | None:
    from prefect.exceptions import ObjectNotFound
    from prefect_aws import S3Bucket

    try:
        block = S3Bucket.load(name, _sync=True)  # type: ignore[call-arg]
    except (ObjectNotFound, ValueError):
        return None
    assert isinstance(block, S3Bucket)  # _sync: the block, not a coroutine
    params = block.credentials.aws_client_parameters
    region = getattr(block.credentials, "region_name", None) or "us-east-1"
    return ResultStorageSpec(
        block.bucket_name, block.bucket_folder, params.endpoint_url, region, name=name
    )


def save_result_storage(spec: ResultStorageSpec) -> None:
    from prefect_aws import AwsCredentials, S3Bucket
    from prefect_aws.client_parameters import AwsClientParameters

    style = {"s3": {"addressing_style": "path"}} if spec.endpoint_url else None
    credentials = AwsCredentials(  # no keys: the standard AWS chain of each worker
        region_name=spec.region,
        aws_client_parameters=AwsClientParameters(endpoint_url=spec.endpoint_url, config=style),
    )
    block = S3Bucket(bucket_name=spec.bucket, bucket_folder=spec.folder, credentials=credentials)
    block.save(spec.name, overwrite=False, _sync=True)  # type: ignore[call-arg]


def read_server(
    client: SyncPrefectClient,
    pools: Sequence[PoolSpec],
    limits: Sequence[LimitSpec],
    storage: ResultStorageSpec | None = None,
) -> ServerState:
    from prefect.exceptions import ObjectNotFound

    found_pools: dict[str, str] = {}
    found_limits: dict[str, ExistingLimit] = {}
    for pool in pools:
        with contextlib.suppress(ObjectNotFound):
            found_pools[pool.name] = client.read_work_pool(pool.name).type
    for lim in limits:
        try:
            got = client.read_global_concurrency_limit_by_name(lim.name)
        except ObjectNotFound:
            continue
        found_limits[lim.name] = ExistingLimit(limit=got.limit, active=got.active)
    found_storage = read_result_storage(storage.name) if storage is not None else None
    return ServerState(pools=found_pools, limits=found_limits, result_storage=found_storage)


def default_job_template(pool_type: PoolType) -> dict[str, Any]:
    """The worker type's own base job template, as ``prefect work-pool create`` uses."""
    if pool_type != "process":  # kubernetes pools always come with our template
        raise ReelError(f"no default base job template for a {pool_type} pool here")
    from prefect.workers.process import ProcessWorker

    return dict(ProcessWorker.get_default_base_job_template())


def apply(client: SyncPrefectClient, steps: Sequence[Step]) -> list[Step]:
    """Create what the plan says to. Another process creating the same object between the
    read and the write makes that step ``exists``: running this concurrently is safe."""
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    done: list[Step] = []
    for step in steps:
        try:
            if step.outcome == "create" and step.pool is not None:
                pool = step.pool
                client.create_work_pool(
                    WorkPoolCreate(
                        name=pool.name,
                        type=pool.type,
                        base_job_template=pool.base_job_template or default_job_template(pool.type),
                        description=POOL_DESCRIPTIONS.get(pool.name),
                    )
                )
            elif step.outcome == "create" and step.limit is not None:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=step.limit.name, limit=step.limit.limit)
                )
            elif step.outcome == "create" and step.storage is not None:
                save_result_storage(step.storage)
        except ObjectAlreadyExists:
            step = Step(step.kind, step.name, "exists", "created meanwhile by someone else")
        done.append(step)
    return done


def init(
    gpu_limits: Iterable[str],
    *,
    kubernetes: bool = False,
    gpu_job_template: Path | None = None,
    storage: ResultStorageSpec | None = None,
) -> list[Step]:
    """Create the missing pools, limits and result storage on the server PREFECT_API_URL
    names."""
    from prefect.client.orchestration import get_client

    pools, limits = wanted(gpu_limits, kubernetes=kubernetes, gpu_job_template=gpu_job_template)
    with get_client(sync_client=True) as client:
        steps = plan(pools, limits, read_server(client, pools, limits, storage), storage)
        return apply(client, steps)
