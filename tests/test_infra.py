"""The production deployment files point at code that exists, under the names clients use;
the container, compose and Kubernetes files have the shape production needs (no Docker,
Kubernetes or Helm here: their structure is checked); `reel infra init` creates the pools
and limits on a real Prefect server, once."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.utilities.schema_tools.validation import (
    ValidationError,
    is_valid_schema,
    validate,
)
from typer.testing import CliRunner

from flows.produce_video import DEPLOYMENT_NAME, FLOW_NAME
from flows.render_shots import FLOW_NAME as RENDER_FLOW
from reelfactory import infra
from reelfactory.cli import app
from reelfactory.errors import ReelError
from reelfactory.orchestration import CAMPAIGN_DEPLOYMENT, DEPLOYMENT
from reelfactory.settings import PROJECT_ROOT, Settings

INFRA = PROJECT_ROOT / "infra"
K8S = INFRA / "k8s"
API = "http://prefect-server:4200/api"
PREFECT_FILE = ["--prefect-file", "infra/prefect.yaml"]


def deployed(deployment: dict[str, Any]) -> str:
    """``flow/deployment`` of a prefect.yaml entry, with its entrypoint imported for real."""
    path, attr = deployment["entrypoint"].split(":")
    assert (PROJECT_ROOT / path).is_file()
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return f"{getattr(module, attr).name}/{deployment['name']}"


def test_prefect_yaml_deploys_the_flow_clients_start_by_name() -> None:
    spec = yaml.safe_load((INFRA / "prefect.yaml").read_text())
    produce, render, sweep, campaign = spec["deployments"]
    assert deployed(produce) == DEPLOYMENT == f"{FLOW_NAME}/{DEPLOYMENT_NAME}"
    assert produce["work_pool"]["name"] == infra.CPU_POOL
    # The render pool: what REEL_RENDER_DEPLOYMENT names in production.
    assert deployed(render) == f"{RENDER_FLOW}/gpu"
    assert render["work_pool"]["name"] == infra.GPU_POOL
    # Campaigns: the name `reel campaign run` and `reel campaign schedule` address.
    assert deployed(campaign) == CAMPAIGN_DEPLOYMENT
    assert campaign["work_pool"]["name"] == infra.CPU_POOL
    assert campaign["schedules"] is None  # redeploying keeps the campaigns' own schedules
    # Expired suspended waits are audited on a schedule, on the cpu pool.
    assert deployed(sweep) == "approval-sweep/approval-sweep"
    assert sweep["work_pool"]["name"] == infra.CPU_POOL
    assert [s["interval"] for s in sweep["schedules"]] == [600]


def test_publisher_policy_grants_only_what_publishing_uses() -> None:
    policy = json.loads((INFRA / "s3-publisher-policy.json").read_text())
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert "s3:PutObject" in actions and "s3:AbortMultipartUpload" in actions
    assert not {a for a in actions if a.endswith("*") or "Delete" in a or "Policy" in a}
    objects = [s for s in policy["Statement"] if "s3:PutObject" in s["Action"]]
    assert [s["Resource"] for s in objects] == ["arn:aws:s3:::REEL_S3_BUCKET/published/*"]


# --------------------------------------------------------------------------- Dockerfiles


@dataclass
class Dockerfile:
    """A Dockerfile as instructions: continuation lines joined, comments dropped."""

    path: Path
    steps: list[tuple[str, str]] = field(default_factory=list)
    ignored_rules: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, path: Path) -> Dockerfile:
        out = cls(path)
        pending = ""
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if line.startswith("#"):
                if m := re.match(r"#\s*hadolint ignore=([\w,]+)", line):
                    out.ignored_rules.update(m.group(1).split(","))
                continue
            if not line and not pending:
                continue
            pending = f"{pending} {line.removesuffix(chr(92))}".strip()
            if line.endswith("\\"):
                continue
            instr, _, args = pending.partition(" ")
            out.steps.append((instr.upper(), args.strip()))
            pending = ""
        assert not pending, f"{path}: a line continues past the end of the file"
        return out

    def args(self, instr: str) -> list[str]:
        return [a for i, a in self.steps if i == instr]

    @property
    def arg_defaults(self) -> dict[str, str]:
        return dict(a.split("=", 1) for a in self.args("ARG") if "=" in a)

    def expand(self, text: str) -> str:
        defaults = self.arg_defaults
        return re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m.group(1), m.group(0)), text)

    def env(self) -> dict[str, str]:
        pairs: dict[str, str] = {}
        for a in self.args("ENV"):
            for key, value in re.findall(r"(\w+)=(\S+)", a):
                pairs[key] = value
        return pairs

    def cmd(self) -> list[str]:
        (last,) = self.args("CMD")[-1:]
        return list(json.loads(last))


CPU_IMAGE = Dockerfile.parse(INFRA / "Dockerfile")
GPU_IMAGE = Dockerfile.parse(INFRA / "Dockerfile.gpu")


@pytest.mark.parametrize("image", [CPU_IMAGE, GPU_IMAGE], ids=["cpu", "gpu"])
def test_dockerfiles_pin_their_base_torch_and_run_as_a_user(image: Dockerfile) -> None:
    (base,) = image.args("FROM")
    tag = base.partition(":")[2]
    assert tag and tag != "latest" and re.search(r"\d", tag), f"{base}: pin a versioned tag"
    # torch: pinned exactly, from the PyTorch index of the image's kind, in its own layer.
    torch = image.arg_defaults["TORCH"]
    assert re.fullmatch(r"torch==\d+\.\d+\.\d+", torch), torch
    installs = [image.expand(r).replace('"', "") for r in image.args("RUN") if "pip install" in r]
    assert any(
        torch in r and "--index-url https://download.pytorch.org/whl/" in r for r in installs
    )
    # The project itself, editable (PROJECT_ROOT stays the source tree), with its extras.
    assert any("pip install -e .[render,postgres]" in r for r in installs)
    # Not root: the last USER is a numeric uid other than 0 (Kubernetes' runAsNonRoot can
    # only verify a number).
    user = image.args("USER")[-1]
    assert re.fullmatch(r"\d+(:\d+)?", user) and not user.startswith("0"), user
    assert image.args("WORKDIR") == ["/opt/reelfactory"]
    # Every COPY source exists, and the Dockerfile's own .dockerignore does not drop it.
    ignore = (image.path.parent / f"{image.path.name}.dockerignore").read_text().splitlines()
    ignored = {line.strip() for line in ignore if line.strip() and not line.startswith("#")}
    for src in (s for a in image.args("COPY") for s in a.split()[:-1]):
        assert (PROJECT_ROOT / src).exists(), f"COPY {src}: not in the repository"
        assert src not in ignored, f"{src} is copied but excluded from the build context"
    assert image.env()["REEL_DATA_DIR"] == "/var/lib/reelfactory"
    # Only the lint rules the files explain are waived (DL3008: Debian's security updates;
    # DL3013: the torch pin is in an ARG, the project is installed from source).
    assert image.ignored_rules <= {"DL3008", "DL3013"}


def test_cpu_image_runs_the_cpu_worker_and_the_web_app() -> None:
    assert CPU_IMAGE.cmd() == ["prefect", "worker", "start", "--pool", "cpu"]
    assert CPU_IMAGE.arg_defaults["TORCH_INDEX"].endswith("/whl/cpu")
    assert "8000" in CPU_IMAGE.args("EXPOSE")[0].split()  # `reel web --host 0.0.0.0`


def test_gpu_image_is_cuda_torch_on_a_matching_cuda_base() -> None:
    (base,) = GPU_IMAGE.args("FROM")
    match = re.fullmatch(r"nvidia/cuda:(\d+)\.(\d+)\.\d+-\w+-ubuntu\d+\.\d+", base)
    assert match, base
    index = GPU_IMAGE.arg_defaults["TORCH_INDEX"]
    assert index == f"https://download.pytorch.org/whl/cu{match[1]}{match[2]}", (base, index)
    assert GPU_IMAGE.cmd() == ["prefect", "worker", "start", "--pool", "gpu"]
    env = GPU_IMAGE.env()
    assert env["HF_HOME"] == "/models"
    assert "/models" in json.loads(GPU_IMAGE.args("VOLUME")[0])


@pytest.mark.skipif(not shutil.which("hadolint"), reason="hadolint not installed")
def test_dockerfiles_pass_hadolint() -> None:
    hadolint = shutil.which("hadolint")
    assert hadolint
    files = [str(INFRA / "Dockerfile"), str(INFRA / "Dockerfile.gpu")]
    result = subprocess.run([hadolint, *files], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- compose

COMPOSE_TEXT = (INFRA / "compose.yaml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ONE_SHOTS = {"minio-init", "init"}
REEL_SERVICES = {"init", "web", "cpu-worker", "gpu-worker"}


def test_compose_has_the_production_services() -> None:
    assert set(SERVICES) == {
        "postgres",
        "prefect-server",
        "minio",
        "minio-init",
        "init",
        "web",
        "cpu-worker",
        "gpu-worker",
    }
    assert not (INFRA / "docker-compose.yml").exists()  # one compose file, not two


def test_compose_services_are_healthchecked_or_one_shots() -> None:
    for name, svc in SERVICES.items():
        if name in ONE_SHOTS:
            assert svc["restart"] == "no" and "healthcheck" not in svc, name
        else:
            assert svc["restart"] == "unless-stopped", name
            test = svc["healthcheck"]["test"]
            assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name
    # The HTTP checks ask the port the service listens on.
    web = SERVICES["web"]
    assert web["command"][-2:] == ["--port", "8000"]
    assert web["healthcheck"]["test"][-1] == "http://127.0.0.1:8000/healthz"
    assert SERVICES["prefect-server"]["healthcheck"]["test"][-1].endswith(":4200/api/health")
    for worker in ("cpu-worker", "gpu-worker"):
        svc = SERVICES[worker]
        assert "--with-healthcheck" in svc["command"]  # Prefect's worker webserver, :8080
        assert svc["healthcheck"]["test"][-1] == "http://127.0.0.1:8080/health"


def test_compose_starts_services_once_what_they_need_is_ready() -> None:
    def needs(name: str) -> dict[str, str]:
        return {k: v["condition"] for k, v in SERVICES[name]["depends_on"].items()}

    assert needs("prefect-server") == {"postgres": "service_healthy"}
    assert needs("minio-init") == {"minio": "service_healthy"}
    assert needs("init") == {"postgres": "service_healthy", "prefect-server": "service_healthy"}
    for name in ("web", "cpu-worker", "gpu-worker"):
        assert needs(name)["init"] == "service_completed_successfully", name
        assert needs(name)["prefect-server"] == "service_healthy", name
    for name in ("cpu-worker", "gpu-worker"):
        assert needs(name)["minio-init"] == "service_completed_successfully", name


def test_compose_init_creates_pools_limits_and_deployments() -> None:
    script = " ".join(SERVICES["init"]["command"])
    assert "reel infra init" in script
    assert "prefect --no-prompt deploy --all --prefect-file infra/prefect.yaml" in script
    assert script.index("reel infra init") < script.index("prefect --no-prompt deploy")
    # init creates the limit the gpu worker holds: both read the same variable.
    init_env, gpu_env = SERVICES["init"]["environment"], SERVICES["gpu-worker"]["environment"]
    assert init_env["REEL_GPU_CONCURRENCY_LIMIT"] == gpu_env["REEL_GPU_CONCURRENCY_LIMIT"]
    bucket = " ".join(SERVICES["minio-init"]["command"])
    assert 'mc mb --ignore-existing "local/$$REEL_S3_BUCKET"' in bucket


def test_compose_wires_every_reel_process_to_the_server_database_and_minio() -> None:
    for name in REEL_SERVICES:
        svc, env = SERVICES[name], SERVICES[name]["environment"]
        assert env["PREFECT_API_URL"] == API, name
        assert env["REEL_DB_URL"].startswith("postgresql+psycopg://reel:"), name
        assert env["REEL_DB_URL"].endswith("@postgres:5432/reelfactory"), name
        assert env["REEL_S3_ENDPOINT_URL"] == "http://minio:9000", name
        assert env["AWS_ACCESS_KEY_ID"].startswith("${MINIO_ROOT_USER:?"), name
        assert env["AWS_SECRET_ACCESS_KEY"].startswith("${MINIO_ROOT_PASSWORD:?"), name
        assert env["REEL_ASSET_STORE"] == "s3://${REEL_S3_BUCKET:?set REEL_S3_BUCKET}/wip", name
        assert env["PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK"] == infra.RESULT_STORAGE_SETTING, name
        assert "reeldata:/var/lib/reelfactory" in svc["volumes"], name  # caches, signing CA
    server_db = SERVICES["prefect-server"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert server_db.startswith("postgresql+asyncpg://") and server_db.endswith("/prefect")
    cpu = SERVICES["cpu-worker"]["environment"]
    assert cpu["REEL_RENDER_DEPLOYMENT"] == f"{RENDER_FLOW}/gpu"  # shots go to the gpu pool
    assert cpu["REEL_RENDERER"] == SERVICES["gpu-worker"]["environment"]["REEL_RENDERER"]


def test_compose_gpu_worker_reserves_one_nvidia_gpu_and_keeps_models() -> None:
    gpu = SERVICES["gpu-worker"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert gpu["build"] == {"context": "..", "dockerfile": "infra/Dockerfile.gpu"}
    assert gpu["command"][:5] == ["prefect", "worker", "start", "--pool", "gpu"]
    env = gpu["environment"]
    assert env["REEL_GPU_CONCURRENCY_LIMIT"].startswith("${REEL_GPU_CONCURRENCY_LIMIT")
    assert env["HF_HOME"] == "/models" and "models:/models" in gpu["volumes"]
    assert SERVICES["cpu-worker"]["command"][:5] == ["prefect", "worker", "start", "--pool", "cpu"]
    for name in ("prefect-server", "init", "web", "cpu-worker"):
        assert SERVICES[name]["build"]["dockerfile"] == "infra/Dockerfile", name


def test_compose_volumes_are_named_declared_and_used() -> None:
    declared = set(COMPOSE["volumes"])
    used: set[str] = set()
    for name, svc in SERVICES.items():
        for mount in svc.get("volumes", []):
            source = mount.split(":", 1)[0]
            if source.startswith((".", "/")):  # a bind mount: only the read-only initdb
                assert mount == "./initdb:/docker-entrypoint-initdb.d:ro", (name, mount)
                assert (INFRA / "initdb").is_dir()
                continue
            assert source in declared, f"{name}: volume {source} is not declared"
            used.add(source)
    assert used == declared == {"pgdata", "miniodata", "reeldata", "models"}


def test_compose_images_are_pinned() -> None:
    for name, svc in SERVICES.items():
        image = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", svc["image"])  # as compose fills it in
        tag = image.rpartition(":")[2]
        assert ":" in image and tag != "latest" and re.search(r"\d", tag), (name, image)
        if "build" in svc:
            assert (PROJECT_ROOT / svc["build"]["dockerfile"]).is_file(), name


def test_compose_holds_no_secrets() -> None:
    """Passwords and keys come from the environment, required (``${VAR:?...}``)."""
    secretish = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|TOKEN|API_KEY")
    for name, svc in SERVICES.items():
        for key, value in (svc.get("environment") or {}).items():
            if secretish.search(key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", str(value)), (name, key, value)
            # A URL's password, too: never a literal.
            for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", str(value)):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", password), (name, key, value)
    # Each required variable is listed in the example environment file, with no value.
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE_TEXT))
    assert required == {
        "POSTGRES_PASSWORD",
        "MINIO_ROOT_USER",
        "MINIO_ROOT_PASSWORD",
        "REEL_S3_BUCKET",
    }
    example = dict(
        line.split("=", 1)
        for line in (INFRA / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert required <= set(example)
    assert all(example[v] == "" for v in required if secretish.search(v) or "USER" in v)
    # Every other variable has a default: nothing else can be left unset.
    for var in re.findall(r"(?<!\$)\$\{(\w+)(?![:?\w])", COMPOSE_TEXT):
        pytest.fail(f"${{{var}}} has neither a default nor a required marker")


# --------------------------------------------------------------------------- Kubernetes

JOB_TEMPLATE: dict[str, Any] = json.loads((K8S / "gpu-job-template.json").read_text())


def rendered_job(job_variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The job manifest a worker would create: the template's placeholders filled with the
    variables' defaults and ``job_variables``, by Prefect's own templating."""
    from prefect.utilities.templating import apply_values

    schema = JOB_TEMPLATE["variables"]
    values = {k: v["default"] for k, v in schema["properties"].items() if "default" in v}
    values.update(job_variables or {})
    validate(values, schema, raise_on_error=True)  # the server's check of job variables
    config = apply_values(JOB_TEMPLATE["job_configuration"], values)
    assert isinstance(config, dict)
    return dict(config["job_manifest"])


def test_gpu_job_template_is_a_prefect_kubernetes_base_job_template() -> None:
    from prefect.utilities.templating import find_placeholders

    assert set(JOB_TEMPLATE) == {"job_configuration", "variables"}
    config, schema = JOB_TEMPLATE["job_configuration"], JOB_TEMPLATE["variables"]
    assert schema["type"] == "object"
    is_valid_schema(schema)
    # Every placeholder names a declared variable.
    names = {p.name for p in find_placeholders(config)}
    assert names <= set(schema["properties"]), names - set(schema["properties"])
    # What prefect-kubernetes requires of a job manifest, and the fields it fills.
    manifest = config["job_manifest"]
    assert (manifest["apiVersion"], manifest["kind"]) == ("batch/v1", "Job")
    pod = manifest["spec"]["template"]["spec"]
    assert (pod["parallelism"], pod["completions"], pod["restartPolicy"]) == (1, 1, "Never")
    assert pod["containers"][0]["name"] == "prefect-job"
    for key in ("command", "env", "labels", "name", "namespace", "stream_output"):
        assert config[key] == f"{{{{ {key} }}}}", key
    image = schema["properties"]["image"]["default"]
    assert image.rpartition(":")[2] not in ("", "latest")


def test_gpu_job_asks_a_gpu_on_a_gpu_node_with_the_model_cache() -> None:
    job = rendered_job({"env": {"HF_HUB_OFFLINE": "0"}})  # as prefect.yaml's render deployment
    assert "{{" not in json.dumps(job)
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    resources = container["resources"]
    assert resources["requests"]["nvidia.com/gpu"] == resources["limits"]["nvidia.com/gpu"] == 1
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert set(mounts.values()) == set(volumes)  # every mount has its volume and back
    models = volumes[mounts["/models"]]["persistentVolumeClaim"]["claimName"]
    data = volumes[mounts["/var/lib/reelfactory"]]["persistentVolumeClaim"]["claimName"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["HF_HOME"] == "/models" and env["REEL_DATA_DIR"] == "/var/lib/reelfactory"
    assert container["envFrom"] == [{"secretRef": {"name": "reelfactory-env"}}]
    assert pod["securityContext"]["runAsNonRoot"] is True
    # The claims it mounts are the ones infra/k8s/volumes.yaml creates.
    claims = [d for d in yaml.safe_load_all((K8S / "volumes.yaml").read_text()) if d]
    assert {c["metadata"]["name"] for c in claims} == {models, data}
    assert all(c["kind"] == "PersistentVolumeClaim" for c in claims)
    assert all(c["spec"]["accessModes"] == ["ReadWriteMany"] for c in claims)
    # A deployment may ask more GPUs, or another node pool.
    two = rendered_job(
        {"gpu_count": 2, "node_selector": {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"}}
    )
    assert (
        two["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"]
        == 2
    )
    with pytest.raises(ValidationError):
        rendered_job({"gpu_count": 0})


def test_gpu_job_template_with_prefect_kubernetes_when_installed() -> None:
    """The worker's own configuration class builds and completes the job (skipped unless
    prefect-kubernetes is installed: it is the worker image's, not this project's)."""
    worker = pytest.importorskip("prefect_kubernetes.worker")
    import asyncio

    from prefect.client.schemas.objects import FlowRun

    async def build() -> Any:
        return await worker.KubernetesWorkerJobConfiguration.from_template_and_values(
            JOB_TEMPLATE, {"env": {"HF_HUB_OFFLINE": "0"}}, client=object()
        )

    config = asyncio.run(build())
    config.prepare_for_flow_run(FlowRun(id=uuid.uuid4(), name="r", flow_id=uuid.uuid4()))
    limits = config.job_manifest["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert limits["limits"]["nvidia.com/gpu"] == 1


def test_helm_values_run_a_kubernetes_worker_for_the_gpu_pool() -> None:
    values = yaml.safe_load((K8S / "gpu-worker-values.yaml").read_text())
    worker = values["worker"]
    assert worker["config"]["workPool"] == infra.GPU_POOL
    assert worker["config"]["type"] == "kubernetes"
    assert worker["apiConfig"] == "server"
    assert re.fullmatch(r"https?://[\w.-]+:\d+/api", worker["serverApiConfig"]["apiUrl"])
    tag = worker["image"]["prefectTag"]
    assert tag.endswith("-kubernetes") and re.match(r"\d+\.\d+\.\d+-python3\.\d+", tag)
    # The worker pod only creates Jobs: no GPU, no GPU toleration.
    assert "nvidia.com/gpu" not in json.dumps(worker["resources"])
    assert not worker["tolerations"]


# --------------------------------------------------------------------------- reel infra init


def test_plan_creates_what_is_missing_and_leaves_the_rest() -> None:
    pools, limits = infra.wanted(["gpu-a-0", " gpu-a-1 ", "gpu-a-0", ""])
    assert [(p.name, p.type) for p in pools] == [("cpu", "process"), ("gpu", "process")]
    assert [(lim.name, lim.limit) for lim in limits] == [("gpu-a-0", 1), ("gpu-a-1", 1)]
    empty = infra.plan(pools, limits, infra.ServerState())
    assert [(s.name, s.outcome) for s in empty] == [
        ("cpu", "create"),
        ("gpu", "create"),
        ("gpu-a-0", "create"),
        ("gpu-a-1", "create"),
    ]
    have = infra.ServerState(
        pools={"cpu": "process", "gpu": "kubernetes"},
        limits={
            "gpu-a-0": infra.ExistingLimit(limit=1, active=True),
            "gpu-a-1": infra.ExistingLimit(limit=2, active=True),
        },
    )
    steps = {s.name: s for s in infra.plan(pools, limits, have)}
    assert {n: s.outcome for n, s in steps.items()} == {
        "cpu": "exists",
        "gpu": "differs",
        "gpu-a-0": "exists",
        "gpu-a-1": "differs",
    }
    assert "prefect work-pool delete gpu" in steps["gpu"].detail
    assert "--limit 1" in steps["gpu-a-1"].detail
    inactive = infra.ServerState(limits={"gpu-a-0": infra.ExistingLimit(limit=1, active=False)})
    assert infra.plan([], limits[:1], inactive)[0].outcome == "differs"


def test_result_storage_follows_the_asset_store() -> None:
    assert infra.result_storage_for(Settings()) is None  # one machine: Prefect's local storage
    spec = infra.result_storage_for(
        Settings(asset_store="s3://wip-bucket", s3_endpoint_url="http://minio:9000")
    )
    assert spec == infra.ResultStorageSpec("wip-bucket", "prefect-results", "http://minio:9000")
    steps = infra.plan([], [], infra.ServerState(), spec)
    assert [(s.kind, s.name, s.outcome) for s in steps] == [
        ("result storage", "reel-results", "create")
    ]
    assert steps[0].detail == "s3://wip-bucket/prefect-results at http://minio:9000"
    same = infra.plan([], [], infra.ServerState(result_storage=spec), spec)
    assert same[0].outcome == "exists"
    moved = infra.ResultStorageSpec("other", "prefect-results")
    differs = infra.plan([], [], infra.ServerState(result_storage=moved), spec)[0]
    assert differs.outcome == "differs" and "is s3://other/prefect-results" in differs.detail


def test_kubernetes_gpu_pool_uses_the_job_template(tmp_path: Path) -> None:
    pools, _ = infra.wanted([], kubernetes=True)
    assert (pools[1].type, pools[1].base_job_template) == ("kubernetes", JOB_TEMPLATE)
    broken = tmp_path / "t.json"
    broken.write_text('{"variables": {}}')
    with pytest.raises(ReelError, match="missing job_configuration"):
        infra.wanted([], kubernetes=True, gpu_job_template=broken)


@pytest.fixture
def clean_gpu_pool(prefect_api: str) -> Iterator[str]:
    """The session's server without a ``gpu`` pool before and after: other tests (doctor)
    expect it missing. ``cpu`` may exist already (doctor creates it)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    def drop() -> None:
        with get_client(sync_client=True) as client, contextlib.suppress(ObjectNotFound):
            client.delete_work_pool(infra.GPU_POOL)

    drop()
    yield prefect_api
    drop()


def infra_init(api: str, tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    runner = CliRunner(env={"PREFECT_API_URL": api, "REEL_DATA_DIR": str(tmp_path / "data")})
    result = runner.invoke(app, ["infra", "init", *args])
    out = json.loads(result.stdout.splitlines()[-1]) if result.stdout.strip() else {}
    return result.exit_code, out, result.output


def test_infra_init_creates_pools_and_limits_once(clean_gpu_pool: str, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    slot = f"gpu-test-{uuid.uuid4().hex[:8]}"
    code, first, output = infra_init(clean_gpu_pool, tmp_path, "--gpu-limit", slot)
    assert code == 0, output
    outcomes = {s["name"]: s["outcome"] for s in first["steps"]}
    assert outcomes["gpu"] == outcomes[slot] == "created"
    assert outcomes["cpu"] in ("created", "exists")
    assert "at the newest migration" in output  # our schema, too
    with get_client(sync_client=True) as client:
        assert client.read_work_pool("cpu").type == "process"
        gpu = client.read_work_pool("gpu")
        assert gpu.type == "process"
        assert gpu.base_job_template["job_configuration"]["command"] == "{{ command }}"
        limit = client.read_global_concurrency_limit_by_name(slot)
        assert (limit.limit, limit.active) == (1, True)
    # Again: nothing is created, and it says so.
    code, second, output = infra_init(clean_gpu_pool, tmp_path, "--gpu-limit", slot)
    assert code == 0, output
    assert {s["outcome"] for s in second["steps"]} == {"exists"}
    assert "nothing to create" in output
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name(slot).id == limit.id
        client.delete_global_concurrency_limit_by_name(slot)


def test_infra_init_takes_the_limit_from_settings_and_makes_a_kubernetes_pool(
    clean_gpu_pool: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client

    slot = f"gpu-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("REEL_GPU_CONCURRENCY_LIMIT", slot)
    code, out, output = infra_init(clean_gpu_pool, tmp_path, "--kubernetes", "--skip-db")
    assert code == 0, output
    assert {s["name"]: s["outcome"] for s in out["steps"]}[slot] == "created"
    with get_client(sync_client=True) as client:
        gpu = client.read_work_pool("gpu")
        assert gpu.type == "kubernetes" and gpu.base_job_template == JOB_TEMPLATE
    # Asked for a process gpu pool now: it differs, is left alone, and the command fails.
    code, out, output = infra_init(clean_gpu_pool, tmp_path, "--skip-db")
    assert code == 1 and out["ok"] is False
    assert "is a kubernetes pool, not process" in output
    with get_client(sync_client=True) as client:
        assert client.read_work_pool("gpu").type == "kubernetes"
        client.delete_global_concurrency_limit_by_name(slot)


@pytest.mark.e2e
def test_a_fresh_server_takes_infra_init_then_prefect_deploy_all(tmp_path: Path) -> None:
    """The compose `init` service's two commands, on a server of their own: the pools
    (gpu on Kubernetes, so the deployments' job variables meet the job template's schema),
    then every deployment of infra/prefect.yaml on its pool."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from reelfactory.stack import prefect_server

    settings = Settings(data_dir=tmp_path / "data", prefect_port=0)  # any free port
    with prefect_server(settings) as api:
        env = {
            **os.environ,
            "PREFECT_API_URL": api,
            "REEL_DATA_DIR": str(settings.data_dir),
            "HF_HUB_OFFLINE": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
        }
        reel = Path(sys.executable).with_name("reel")
        steps = [
            [str(reel), "infra", "init", "--kubernetes", "--gpu-limit", "gpu-e2e-0"],
            [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all", *PREFECT_FILE],
        ]
        for args in steps:
            done = subprocess.run(
                args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        with (
            temporary_settings(updates={PREFECT_API_URL: api}),
            get_client(sync_client=True) as client,
        ):
            pools = {d.name: d.work_pool_name for d in client.read_deployments()}
            assert client.read_work_pool("gpu").type == "kubernetes"
    spec = yaml.safe_load((INFRA / "prefect.yaml").read_text())
    assert pools == {d["name"]: d["work_pool"]["name"] for d in spec["deployments"]}
