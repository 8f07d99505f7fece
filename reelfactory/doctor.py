"""``reel doctor``: is this installation able to run the lane? One line per check, each
either ok or what exactly to fix. Checks only read (the asset-store probe writes and removes
one file); nothing here creates pools, limits or buckets.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reelfactory.settings import Settings

Outcome = Literal["ok", "fail", "skip"]


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome
    detail: str  # what was found; with "fail", what to do about it

    @property
    def ok(self) -> bool:
        return self.outcome != "fail"

    def line(self) -> str:
        mark = {"ok": "ok  ", "fail": "FAIL", "skip": "skip"}[self.outcome]
        return f"{mark}  {self.name}: {self.detail}"


def _run(name: str, probe: Callable[[], Check]) -> Check:
    try:
        return probe()
    except Exception as exc:  # a check that crashes is a failed check, never a pass
        return Check(name, "fail", f"{type(exc).__name__}: {exc}")


def prefect_api(api_url: str | None) -> Check:
    name = "prefect api"
    if not api_url:
        return Check(
            name,
            "skip",
            "PREFECT_API_URL is not set: `reel up`, `reel produce` and `reel demo` start a "
            "local server; set it to use a shared one",
        )
    import httpx

    try:
        resp = httpx.get(f"{api_url.rstrip('/')}/health", timeout=5)
    except httpx.HTTPError as exc:
        return Check(
            name, "fail", f"{api_url} unreachable ({exc}); start it or fix PREFECT_API_URL"
        )
    if resp.status_code != 200:
        return Check(name, "fail", f"{api_url}/health answered {resp.status_code}")
    return Check(name, "ok", f"{api_url} is healthy")


def database(db_url: str) -> Check:
    """The schema is at the newest migration (the URL is shown without its password)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from reelfactory.db import MIGRATIONS

    url = make_url(db_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return Check(
            "database", "fail", f"{shown} does not exist yet: `reel up` (or any run) creates it"
        )
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if current != head:
        return Check(
            "database",
            "fail",
            f"{shown} is at migration {current or 'none'}, the code needs {head}: run any "
            "`reel` command that writes (e.g. `reel up`), which upgrades it",
        )
    return Check("database", "ok", f"{shown} at migration {head}")


def asset_store(settings: Settings) -> Check:
    if settings.asset_store:
        return s3_asset_store(settings)
    assets_dir = settings.assets_dir
    try:
        assets_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=assets_dir, prefix=".doctor-") as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as exc:
        return Check(
            "asset store",
            "fail",
            f"{assets_dir} is not writable ({exc.strerror}); fix its permissions or REEL_DATA_DIR",
        )
    return Check("asset store", "ok", f"{assets_dir} is writable")


def s3_asset_store(settings: Settings) -> Check:
    """Write and delete one probe object under the asset store's prefix."""
    from uuid import uuid4

    from botocore.exceptions import BotoCoreError, ClientError

    from reelfactory.publish import s3_client
    from reelfactory.storage import parse_asset_store

    name = "asset store"
    bucket, prefix = parse_asset_store(settings.asset_store or "")
    key = f"{prefix}/.doctor-{uuid4().hex}" if prefix else f".doctor-{uuid4().hex}"
    where = f"{settings.asset_store}" + (
        f" at {settings.s3_endpoint_url}" if settings.s3_endpoint_url else ""
    )
    try:
        client = s3_client(settings)
        client.put_object(Bucket=bucket, Key=key, Body=b"ok")
        client.delete_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "?"))
        fix = {
            "NoSuchBucket": "the bucket does not exist: create it or fix REEL_ASSET_STORE",
            "AccessDenied": "access denied: the workers' credentials need s3:PutObject, "
            "s3:GetObject and s3:DeleteObject under the prefix",
        }.get(code, f"error {code}")
        return Check(name, "fail", f"{where}: {fix}")
    except BotoCoreError as exc:
        return Check(name, "fail", f"{where}: {exc}")
    return Check(name, "ok", f"{where} is writable; this worker caches in {settings.data_dir}")


def result_storage(settings: Settings, api_url: str | None) -> Check:
    """With an S3 asset store, Prefect's results must be shared too (see reelfactory.infra)."""
    from prefect.settings import get_current_settings

    from reelfactory.infra import (
        RESULT_STORAGE_SETTING,
        read_result_storage,
        result_storage_for,
    )

    name = "result storage"
    wanted = result_storage_for(settings)
    if wanted is None:
        return Check(name, "skip", "local asset store: results stay on this machine")
    configured = get_current_settings().results.default_storage_block
    if configured != RESULT_STORAGE_SETTING:
        return Check(
            name,
            "fail",
            f"PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK is {configured or 'unset'}: set it to "
            f"{RESULT_STORAGE_SETTING} on every worker, or runs cannot read each other's results",
        )
    if not api_url:
        return Check(name, "skip", "no Prefect API to read the block from")
    found = read_result_storage(wanted.name)
    if found is None:
        return Check(name, "fail", f"block {RESULT_STORAGE_SETTING} is missing: `reel infra init`")
    if found != wanted:
        return Check(
            name,
            "fail",
            f"block is {found.describe()}, REEL_ASSET_STORE implies {wanted.describe()}",
        )
    return Check(name, "ok", f"{RESULT_STORAGE_SETTING}: {found.describe()}")


def s3(settings: Settings) -> Check:
    name = "s3"
    if not settings.s3_bucket:
        return Check(name, "skip", "REEL_S3_BUCKET is not set: publishing to the local directory")
    from botocore.exceptions import BotoCoreError, ClientError

    from reelfactory.publish import s3_client

    where = f"bucket {settings.s3_bucket}" + (
        f" at {settings.s3_endpoint_url}" if settings.s3_endpoint_url else ""
    )
    try:
        s3_client(settings).head_bucket(Bucket=settings.s3_bucket)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "?")
        fix = {
            "404": "it does not exist: create it or fix REEL_S3_BUCKET",
            "NoSuchBucket": "it does not exist: create it or fix REEL_S3_BUCKET",
            "403": "access denied: the credentials need s3:ListBucket on it "
            "(infra/s3-publisher-policy.json)",
        }.get(str(code), f"error {code}")
        return Check(name, "fail", f"{where}: {fix}")
    except BotoCoreError as exc:  # no credentials, endpoint down, ...
        return Check(name, "fail", f"{where}: {exc}")
    return Check(name, "ok", f"{where} is reachable with the current credentials")


def work_pools(api_url: str | None, settings: Settings) -> list[Check]:
    """The pools and limits this configuration relies on exist on the server."""
    if not api_url:
        return [Check("work pools", "skip", "no PREFECT_API_URL: flows are served locally")]
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    wanted_pools = ["cpu"] + (["gpu"] if settings.render_deployment else [])
    checks = []
    with get_client(sync_client=True) as client:
        for pool in wanted_pools:
            try:
                client.read_work_pool(pool)
                checks.append(Check(f"work pool {pool}", "ok", "present"))
            except ObjectNotFound:
                checks.append(
                    Check(
                        f"work pool {pool}",
                        "fail",
                        f"missing: `reel infra init` creates it (or `prefect work-pool "
                        f"create {pool} --type process`)",
                    )
                )
        if settings.gpu_concurrency_limit:
            limit = settings.gpu_concurrency_limit
            try:
                client.read_global_concurrency_limit_by_name(limit)
                checks.append(Check(f"concurrency limit {limit}", "ok", "present"))
            except ObjectNotFound:
                checks.append(
                    Check(
                        f"concurrency limit {limit}",
                        "fail",
                        f"missing: `reel infra init --gpu-limit {limit}` (or `prefect gcl "
                        f"create {limit} --limit 1`); REEL_GPU_CONCURRENCY_LIMIT names it",
                    )
                )
    return checks


def gpu(settings: Settings) -> Check:
    if settings.renderer == "animatic" or settings.render_device == "cpu":
        return Check("gpu", "skip", f"renderer {settings.renderer} on {settings.render_device}")
    try:
        import torch
    except ImportError:
        return Check("gpu", "fail", "torch is not installed: `pip install '.[render]'`")
    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        return Check("gpu", "ok", names)
    if settings.render_device == "cuda":
        return Check("gpu", "fail", "REEL_RENDER_DEVICE=cuda but torch sees no CUDA device")
    return Check(
        "gpu", "fail", f"renderer {settings.renderer} would run on the CPU: no CUDA device seen"
    )


def fonts_and_ffmpeg(settings: Settings) -> list[Check]:
    from reelfactory.brand import list_brand_ids, load_brand_kit
    from reelfactory.errors import InputError

    checks = []
    problems = []
    brands = list_brand_ids(settings.brand_kits_dir)
    for brand in brands:
        try:
            load_brand_kit(settings.brand_kits_dir / brand)  # resolves the font, logo, music
        except InputError as exc:
            problems += [f"{brand}: {p}" for p in exc.problems]
    if problems:
        checks.append(
            Check(
                "brand kits and fonts",
                "fail",
                f"{'; '.join(problems)}. A missing font family: install it (Debian: "
                "fonts-dejavu-core) or put the file in the kit",
            )
        )
    else:
        checks.append(
            Check("brand kits and fonts", "ok", f"{len(brands)} kits load, fonts installed")
        )
    import imageio_ffmpeg

    try:
        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        checks.append(Check("ffmpeg", "fail", f"{exc}; `pip install imageio-ffmpeg`"))
    else:
        found = shutil.which(exe) or exe
        checks.append(Check("ffmpeg", "ok", found))
    return checks


def diagnose(settings: Settings, api_url: str | None = None) -> list[Check]:
    """Every check, in the order a newcomer would fix them."""
    api_url = api_url if api_url is not None else os.environ.get("PREFECT_API_URL") or None
    out: list[Check] = [_run("prefect api", lambda: prefect_api(api_url))]
    out.append(_run("database", lambda: database(settings.db_url)))
    out.append(_run("asset store", lambda: asset_store(settings)))
    out.append(_run("s3", lambda: s3(settings)))
    api_ok = out[0].outcome == "ok"
    out.append(
        _run("result storage", lambda: result_storage(settings, api_url if api_ok else None))
    )
    out += _many("work pools", lambda: work_pools(api_url if api_ok else None, settings))
    out.append(_run("gpu", lambda: gpu(settings)))
    out += _many("fonts and ffmpeg", lambda: fonts_and_ffmpeg(settings))
    return out


def _many(name: str, probe: Callable[[], Iterable[Check]]) -> list[Check]:
    try:
        return list(probe())
    except Exception as exc:
        return [Check(name, "fail", f"{type(exc).__name__}: {exc}")]
