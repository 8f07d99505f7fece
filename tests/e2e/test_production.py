"""The production shape on one machine, from real parts: a Prefect server on PostgreSQL,
reelfactory's database on PostgreSQL (a fresh database each, dropped after), `reel infra
init` and `prefect deploy --all` (infra/prefect.yaml), and two Prefect process workers: one
on the ``cpu`` pool (produce-video) and one on the ``gpu`` pool (render-shots). Each worker
has its own empty working directory, data directory and Prefect home; they share nothing but
the Prefect API and S3 (the asset store, Prefect's result storage, the publish bucket)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from mypy_boto3_s3 import S3Client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName
from sqlalchemy import create_engine, text

from flows.render_shots import FLOW_NAME as RENDER_FLOW
from reelfactory import db
from reelfactory import orchestration as orch
from reelfactory.models import Brief
from reelfactory.provenance import trust_anchors, verify_video
from reelfactory.settings import PROJECT_ROOT, Settings
from reelfactory.stack import QUIET, prefect_server, stop
from tests.conftest import PG_HOST, TEST_SHORT_EDGE, brief_data, keys_in, postgres_database

pytestmark = pytest.mark.e2e

BUCKET = "reel-production"
ASSET_STORE = f"s3://{BUCKET}/wip"
APPROVER = "maya.chen@aurora-coffee.example"
RUN_TIMEOUT_S = 300


@dataclass(frozen=True)
class Worker:
    pool: str
    home: Path  # its working directory; everything it writes locally is under here
    log: Path
    proc: subprocess.Popen[bytes]

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@dataclass(frozen=True)
class Production:
    api_url: str
    prefect_db: str
    app_db_url: str
    env: dict[str, str]
    cpu: Worker
    gpu: Worker

    def logs(self) -> str:
        return f"--- cpu worker\n{self.cpu.tail()}\n--- gpu worker\n{self.gpu.tail()}"


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{args[:4]} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def start_worker(root: Path, pool: str, env: dict[str, str]) -> Worker:
    home = root / f"{pool}-worker"
    home.mkdir()
    assert list(home.iterdir()) == []  # an empty working directory
    log = root / f"{pool}-worker.log"
    worker_env = {
        **env,
        "REEL_DATA_DIR": str(home / "data"),
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_WORKER_HEARTBEAT_SECONDS": "5",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool],
            cwd=home,
            env=worker_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Worker(pool, home, log, proc)


@pytest.fixture(scope="module")
def production(
    tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str, s3: S3Client
) -> Iterator[Production]:
    root = tmp_path_factory.mktemp("production")
    s3.create_bucket(Bucket=BUCKET)
    with ExitStack() as stack:
        prefect_db = stack.enter_context(postgres_database("reel_e2e_prefect"))
        app_db = stack.enter_context(postgres_database("reel_e2e_app"))
        app_db_url = f"postgresql+psycopg://{PG_HOST}/{app_db}"
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(
                "PREFECT_API_DATABASE_CONNECTION_URL",
                f"postgresql+asyncpg://{PG_HOST}/{prefect_db}",
            )
            server = Settings(data_dir=root / "server", prefect_port=0)
            api_url = stack.enter_context(prefect_server(server))
        env = {
            **os.environ,
            **QUIET,
            "HF_HUB_OFFLINE": "1",
            "PREFECT_API_URL": api_url,
            "PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK": "s3-bucket/reel-results",
            "REEL_DB_URL": app_db_url,
            "REEL_ASSET_STORE": ASSET_STORE,
            "REEL_S3_ENDPOINT_URL": s3_endpoint,
            "REEL_S3_BUCKET": BUCKET,
            "REEL_RENDER_DEPLOYMENT": "render-shots/gpu",
            "REEL_RENDER_SHORT_EDGE": str(TEST_SHORT_EDGE),
            "REEL_APPROVAL_POLL_S": "1",
            "REEL_DATA_DIR": str(root / "operator"),  # where `reel infra init` runs
        }
        reel = str(Path(sys.executable).with_name("reel"))
        run([reel, "infra", "init"], env)
        prefect = [sys.executable, "-m", "prefect", "--no-prompt"]
        run([*prefect, "deploy", "--all", "--prefect-file", "infra/prefect.yaml"], env)
        cpu = start_worker(root, "cpu", env)
        stack.callback(stop, cpu.proc, 15)
        gpu = start_worker(root, "gpu", env)
        stack.callback(stop, gpu.proc, 15)

        from prefect.settings import PREFECT_API_URL, temporary_settings

        stack.enter_context(temporary_settings(updates={PREFECT_API_URL: api_url}))
        yield Production(api_url, prefect_db, app_db_url, env, cpu, gpu)


def test_a_brief_runs_across_two_workers_that_share_only_s3_and_postgres(
    production: Production, s3: S3Client, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client

    brief = Brief.model_validate(brief_data(id="prod-shape"))
    run_id = orch.submit(brief)
    waiting = orch.wait_for(run_id, orch.is_paused, timeout_s=RUN_TIMEOUT_S)
    assert orch.is_paused(waiting), f"{waiting.state_name}: {waiting.message}\n{production.logs()}"

    # The shots were rendered by a render-shots run on the gpu pool, the rest on the cpu pool.
    with get_client(sync_client=True) as client:
        produce = client.read_flow_run(UUID(run_id))
        renders = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[RENDER_FLOW]))
        )
    assert produce.work_pool_name == "cpu"
    assert [r.work_pool_name for r in renders] == ["gpu"]
    assert renders[0].state is not None and renders[0].state.is_completed()

    # Every clip and draft is in the bucket, with Prefect's results beside them.
    wip = keys_in(s3, BUCKET, "wip/")
    shots = [k for k in wip if k.startswith("wip/shots/") and k.endswith(".mp4")]
    assert len(shots) == 3, wip
    assert any(k.startswith(f"wip/drafts/prod-shape/{run_id}/") for k in wip)
    assert any(k.startswith("wip/prefect-results/") for k in wip)
    # Neither worker kept an asset store of its own: only caches and scratch space.
    for worker in (production.cpu, production.gpu):
        assert not (worker.data_dir / "assets").exists(), worker.pool
        leftovers = [p for p in (worker.data_dir / "scratch").rglob("*") if p.is_file()]
        assert leftovers == [], worker.pool
    # The gpu worker has the clips it rendered (its cache); the cpu worker downloaded them.
    assert len(list((production.gpu.data_dir / "cache").rglob("*.mp4"))) == 3
    assert len(list((production.cpu.data_dir / "cache").rglob("*.mp4"))) >= 3

    orch.resume(run_id, approver=APPROVER, decision="approve", notes="on brand")
    final = orch.wait_for(run_id, orch.is_final, timeout_s=RUN_TIMEOUT_S)
    assert final.state_name == "Completed", f"{final.message}\n{production.logs()}"

    prefix = f"published/{brief.brand}/{brief.campaign}/{brief.brief_id}/v1/"
    published = keys_in(s3, BUCKET, prefix)
    assert f"{prefix}16x9.mp4" in published and published[-1] == f"{prefix}manifest.json"
    video = tmp_path / "cut.mp4"
    video.write_bytes(s3.get_object(Bucket=BUCKET, Key=f"{prefix}16x9.mp4")["Body"].read())
    cpu_settings = Settings(data_dir=production.cpu.data_dir)  # its development signing CA
    credentials = verify_video(video, trust_anchors_pem=trust_anchors(cpu_settings))
    assert credentials.state == "trusted", credentials.errors

    # reelfactory's records are in its PostgreSQL database.
    with db.session_for(production.app_db_url) as session:
        [row] = db.publications_for_run(session=session, flow_run_id=run_id)
        [decision] = db.decisions_for_run(session=session, flow_run_id=run_id)
        [record] = [v for v in db.videos(session=session) if v.flow_run_id == run_id]
    assert (row.key, decision.approver) == (f"{prefix}16x9.mp4", APPROVER)
    assert record.status == "published" and record.cost.renders == 3
    # And Prefect's are in its own: both runs, read straight from the server's tables.
    engine = create_engine(f"postgresql+psycopg://{PG_HOST}/{production.prefect_db}")
    try:
        with engine.connect() as conn:
            pools = conn.execute(
                text(
                    "SELECT fr.id, wp.name FROM flow_run fr"
                    " JOIN work_queue wq ON fr.work_queue_id = wq.id"
                    " JOIN work_pool wp ON wq.work_pool_id = wp.id"
                )
            ).all()
            assert (UUID(run_id), "cpu") in pools and (renders[0].id, "gpu") in pools
    finally:
        engine.dispose()
