"""Benchmark: brief submission to the web app at 20 concurrent users, the run trigger included.

A real local lane, started by the benchmark in a temporary data directory: a Prefect server on
SQLite (``reelfactory.stack.prefect_server``) with the produce-video deployment registered and
nothing serving it (submitted runs stay Scheduled: the trigger is measured, the rendering is
not; the server's late-runs service is told to wait a day, so it does not rewrite every
unserved run as Late, which a worker taking the runs would not see either), and the web app
as ``reel web`` (uvicorn, one process, as shipped) in its own process on 127.0.0.1, so that
the load generator does not share its GIL. The web app gets ``REEL_DATA_DIR`` and
``PREFECT_API_URL``; every other ``REEL_*`` of the caller's environment is dropped. A user
with SUBMITTER on aurora-coffee and an API token are created first.

The load: ``--users`` (20) simulated users, each with its own keep-alive connection (httpx,
asyncio, in this process), in a closed loop: a user sends its next request as soon as the
previous one is answered (plus ``--think-ms``, 0 by default), so 20 users means 20 requests in
flight at every moment: the heaviest load 20 people can make, not 20 people at a human pace.
The submit phase stops after ``--requests`` (400) requests or ``--max-seconds`` (120 s),
whichever comes first. Every request is POST /api/v1/briefs with ``Authorization: Bearer``
(``--route form``: POST /briefs from a signed-in session with its CSRF token, as the form
does) and a distinct brief (its title numbered), so every request creates a brief row and
triggers a new flow run through ``run_deployment(timeout=0)``. 201 (303 for the form) is a
success; any other status or a transport error is an error. The benchmark checks afterwards
that every success has its brief row and its Scheduled flow run; a success without them
counts as an error too.

Baselines and breakdown, in the same run and on the same lane:
  - ``healthz``: the same 20-user load on GET /healthz, the app's floor (routing, the
    middleware, the thread pool, HTTP);
  - ``submit_serial``: one user submitting ``--serial`` (30) briefs one after another: the
    service time of one submission with no queueing;
  - ``trigger``: ``orchestration.submit`` (``run_deployment``, ``timeout=0``: a new client,
    the deployment read by name, the flow run created) called directly from this process,
    without the app's per-call settings binding: serially (``--serial`` calls), and from 20
    threads in a closed loop (``--requests`` calls or ``--max-seconds``) to see what the
    Prefect server alone does at that concurrency;
  - ``breakdown``: the steps of one API submission timed one by one in this process, serially:
    the token lookup, validating and shaping the brief, Prefect's settings binding, the trigger
    and the brief row's insert (into a scratch database).

CPU: busy cores per process (the Prefect server, the web app, this load generator) and for the
whole machine during the 20-user submit phase, from /proc, with the load average and the cores.
``prefect_server_503s``: the requests the Prefect server answered 503 because SQLite was
locked (``PREFECT_API_LOG_RETRYABLE_ERRORS``), by phase; Prefect's client retries those after
2, 4, 8, 16 s, which is where multi-second latencies come from.

Goal (web app issue): POST-submit at 20 concurrent users: p95 <= 150 ms and 0 errors.
Ratios: submit p95 / goal, and submit p95 / healthz p95.

Run: ``python bench/intake.py [--users 20] [--requests 400] [--max-seconds 120]
[--serial 30] [--think-ms 0] [--route api|form] [--keep DIR]``; about 6-7 minutes on 2 cores
(the Prefect server's first start, then two phases that run into ``--max-seconds``). Progress
goes to stderr; the last stdout line is one JSON object. Exits 0 even when the goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx

from reelfactory import accounts as acc
from reelfactory import orchestration as orch
from reelfactory.brand import brand_kit_by_id
from reelfactory.db import init_db, session_for
from reelfactory.expand import TemplateExpander
from reelfactory.intake import shape
from reelfactory.models import Brief
from reelfactory.settings import PROJECT_ROOT, Settings
from reelfactory.stack import QUIET, free_port, prefect_server, stop

GOAL_P95_MS = 150.0
GOAL_ERRORS = 0
BRAND = "aurora-coffee"
SUBMITTER = "bench.submit@aurora-coffee.example"
PASSWORD = "bench-intake-password"
WEB_START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 60.0
WARMUP_SUBMITS = 5
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- briefs


def brief_payload(tag: str, i: int) -> dict[str, Any]:
    """A distinct, valid brief for the API: its title (and so its id) names ``tag`` and ``i``."""
    return {
        "brand": BRAND,
        "format": "social-teaser-15",
        "title": f"Sunrise Blend, cup {i} ({tag})",
        "message": "Slow mornings taste better with Sunrise Blend.",
        "audience": "Home brewers",
        "call_to_action": "Order at aurora.example",
        "duration_s": 15,
        "aspect_ratios": ["16:9"],
        "language": "en",
    }


def form_fields(tag: str, i: int, csrf: str) -> dict[str, Any]:
    """The same brief as the form posts it."""
    data = {k: str(v) for k, v in brief_payload(tag, i).items() if k != "aspect_ratios"}
    return data | {"aspect_ratios": ["16:9"], "csrf_token": csrf, "action": "submit"}


def brief_for(tag: str, i: int) -> Brief:
    return Brief.model_validate(brief_payload(tag, i) | {"submitted_by": SUBMITTER})


# --------------------------------------------------------------------------- statistics


def pct(values: list[float], q: int) -> float:
    """The q-th percentile (1-99), interpolated between the samples (never past the max)."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summary(ms: list[float]) -> dict[str, float]:
    if not ms:
        return {}
    return {
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(pct(ms, 95), 1),
        "p99_ms": round(pct(ms, 99), 1),
        "max_ms": round(max(ms), 1),
        "mean_ms": round(statistics.fmean(ms), 1),
    }


@dataclass
class Phase:
    """One load phase: every request's latency and outcome."""

    name: str
    users: int
    expect: int
    ms: list[float] = field(default_factory=list)  # successes only
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # the first few, for the report
    wall_s: float = 0.0
    bodies: list[Any] = field(default_factory=list)  # successes' JSON (API) or locations

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    @property
    def failed(self) -> int:
        return self.sent - self.statuses.get(str(self.expect), 0)

    def report(self) -> dict[str, Any]:
        return {
            "users": self.users,
            "requests": self.sent,
            "errors": self.failed,
            "statuses": dict(self.statuses),
            "wall_s": round(self.wall_s, 2),
            "throughput_rps": round(self.sent / self.wall_s, 1) if self.wall_s else None,
            **summary(self.ms),
        }

    def line(self) -> str:
        s = summary(self.ms)
        return (
            f"{self.name}: {self.sent} requests from {self.users} users in {self.wall_s:.1f} s "
            f"({self.sent / max(self.wall_s, 1e-9):.1f} req/s), errors {self.failed}, "
            f"p50 {s.get('p50_ms')} ms, p95 {s.get('p95_ms')} ms, max {s.get('max_ms')} ms"
        )


# --------------------------------------------------------------------------- CPU from /proc


@dataclass(frozen=True)
class CpuSample:
    at: float
    machine_busy: int
    machine_total: int
    by_group: dict[str, int]  # clock ticks (user + system) of each group's live processes


def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, utime + stime) of a process; None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = text[text.rindex(")") + 2 :].split()
    return int(rest[1]), int(rest[11]) + int(rest[12])


def _descendants(root: int, children: dict[int, list[int]]) -> list[int]:
    out, todo = [], [root]
    while todo:
        node = todo.pop()
        out.append(node)
        todo += children.get(node, [])
    return out


def cpu_sample(groups: dict[str, int]) -> CpuSample | None:
    """Machine-wide busy ticks and each group's own ticks: a root pid and its descendants,
    except for this process, which counts alone (its children are the other groups)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for pid in pids:
        if (stat := _stat(pid)) is not None:
            children.setdefault(stat[0], []).append(pid)
            ticks[pid] = stat[1]
    by_group = {
        name: sum(
            ticks.get(p, 0)
            for p in ([root] if root == os.getpid() else _descendants(root, children))
        )
        for name, root in groups.items()
    }
    return CpuSample(time.time(), sum(fields) - idle, sum(fields), by_group)


def cpu_use(before: CpuSample | None, after: CpuSample | None) -> dict[str, float]:
    """Average busy cores between two samples: the machine's, each group's, everyone else's."""
    if before is None or after is None or after.machine_total <= before.machine_total:
        return {}
    cores = os.cpu_count() or 1
    secs = after.at - before.at
    hz = os.sysconf("SC_CLK_TCK")
    out = {
        "machine": (after.machine_busy - before.machine_busy)
        / (after.machine_total - before.machine_total)
        * cores
    }
    for name, t in after.by_group.items():
        out[name] = (t - before.by_group.get(name, 0)) / hz / secs
    out["others"] = max(0.0, out["machine"] - sum(v for k, v in out.items() if k != "machine"))
    return {k: round(v, 2) for k, v in out.items()}


def prefect_server_pid() -> int | None:
    """Our child running ``prefect server start`` (stack.prefect_server keeps its handle)."""
    me = os.getpid()
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        stat = _stat(int(p.name))
        if stat is None or stat[0] != me:
            continue
        try:
            cmd = (p / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"prefect" in cmd and b"server" in cmd:
            return int(p.name)
    return None


# --------------------------------------------------------------------------- the lane

RETRYABLE = "Encountered retryable exception in request"  # PREFECT_API_LOG_RETRYABLE_ERRORS


def retryable_errors(settings: Settings) -> int:
    """How many requests the Prefect server answered 503 so far (SQLite busy or locked: its
    clients retry those after 2, 4, 8, ... s)."""
    path = settings.data_dir / "logs" / "prefect-server.log"
    try:
        return path.read_text(errors="replace").count(RETRYABLE)
    except OSError:
        return 0


def register_deployment() -> None:
    """produce-video as a deployment, served by nobody: its runs stay Scheduled."""
    from prefect.deployments.runner import RunnerDeployment

    from flows.produce_video import produce_video

    deployment = produce_video.to_deployment(name="produce-video")
    assert isinstance(deployment, RunnerDeployment)  # the sync call
    deployment.apply()


def make_user(settings: Settings) -> str:
    """The submitter, with a password for the form and an API token; returns the token."""
    init_db(settings.db_url)
    with session_for(settings.db_url) as session:
        user = acc.add_user(
            session, SUBMITTER, password=PASSWORD, grants=[(acc.Role.SUBMITTER, BRAND)]
        )
        return acc.new_api_token(session, user, label="bench-intake")


def web_healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def tails_on_failure(settings: Settings) -> Iterator[None]:
    """If the lane fails, show the end of its logs before the data directory goes."""
    try:
        yield
    except BaseException:
        for name in ("prefect-server.log", "web.log"):
            path = settings.data_dir / "logs" / name
            if path.is_file():
                log(f"--- the end of {path}:\n{path.read_text(errors='replace')[-4000:]}")
        raise


@contextmanager
def web_app(settings: Settings, api_url: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``reel web`` on a free port of 127.0.0.1, in its own process; yields its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REEL_")}
    env |= {**QUIET, "PREFECT_API_URL": api_url, "REEL_DATA_DIR": str(settings.data_dir)}
    log_path = settings.data_dir / "logs" / "web.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    code = "import sys; from reelfactory.cli import main; sys.argv[0] = 'reel'; main()"
    args = [sys.executable, "-c", code, "web", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("ab") as out:
        # cwd: the data directory, so that no developer's .env reaches the app's Settings.
        proc = subprocess.Popen(
            args,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=settings.data_dir,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + WEB_START_TIMEOUT_S
        while not web_healthy(base_url):
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise SystemExit(f"the web app exited with code {proc.returncode}:\n{tail}")
            if time.monotonic() > deadline:
                raise SystemExit(f"the web app was not up after {WEB_START_TIMEOUT_S:.0f} s")
            time.sleep(0.2)
        yield base_url, proc
    finally:
        stop(proc)


# --------------------------------------------------------------------------- the load


@dataclass
class User:
    client: httpx.AsyncClient
    csrf: str = ""


Send = Callable[[User, int], Awaitable[httpx.Response]]


async def sign_in(user: User) -> None:
    """Sign in through the login form and keep the session's CSRF token, as a browser does."""
    page = await user.client.get("/login")
    found = CSRF.search(page.text)
    assert found, f"no CSRF token on the login page ({page.status_code})"
    resp = await user.client.post(
        "/login", data={"email": SUBMITTER, "password": PASSWORD, "csrf_token": found.group(1)}
    )
    assert resp.status_code == 303, f"sign-in failed: {resp.status_code} {resp.text[:200]}"
    form = await user.client.get("/briefs/new")
    found = CSRF.search(form.text)
    assert found, f"no CSRF token on the brief form ({form.status_code})"
    user.csrf = found.group(1)


async def run_load(
    phase: Phase,
    users: list[User],
    send: Send,
    total: int,
    max_s: float,
    think_s: float,
) -> Phase:
    """Closed loop: each user sends, waits for the answer, (thinks,) and sends again, until
    ``total`` requests have been started or ``max_s`` has passed."""
    numbers = itertools.count()
    started = time.perf_counter()
    deadline = started + max_s

    async def one_user(user: User) -> None:
        while time.perf_counter() < deadline and (i := next(numbers)) < total:
            t0 = time.perf_counter()
            try:
                resp = await send(user, i)
            except httpx.HTTPError as exc:
                phase.statuses[type(exc).__name__] += 1
                if len(phase.errors) < 5:
                    phase.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            ms = (time.perf_counter() - t0) * 1000
            phase.statuses[str(resp.status_code)] += 1
            if resp.status_code == phase.expect:
                phase.ms.append(ms)
                if phase.expect != 200:  # a submission: keep what names its brief and run
                    phase.bodies.append(
                        resp.headers.get("location") if phase.expect == 303 else resp.json()
                    )
            elif len(phase.errors) < 5:
                phase.errors.append(f"{resp.status_code}: {resp.text[:300]}")
            if think_s:
                await asyncio.sleep(think_s)

    await asyncio.gather(*(one_user(u) for u in users))
    phase.wall_s = time.perf_counter() - started
    return phase


@dataclass
class LoadPlan:
    base_url: str
    token: str
    route: str
    users: int
    requests: int
    serial: int
    max_s: float
    think_s: float
    tag: str


async def load_phases(plan: LoadPlan, groups: dict[str, int]) -> dict[str, Any]:
    """Warm-up, the healthz baseline, the serial submissions, the 20-user submissions."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    headers = {"Authorization": f"Bearer {plan.token}"}
    users = [
        User(
            httpx.AsyncClient(
                base_url=plan.base_url,
                headers=headers if plan.route == "api" else {},
                limits=limits,
                timeout=REQUEST_TIMEOUT_S,
            )
        )
        for _ in range(plan.users)
    ]
    counter = itertools.count()

    async def submit(user: User, _i: int) -> httpx.Response:
        n = next(counter)  # across phases: every brief distinct
        if plan.route == "form":
            return await user.client.post("/briefs", data=form_fields(plan.tag, n, user.csrf))
        return await user.client.post("/api/v1/briefs", json=brief_payload(plan.tag, n))

    async def healthz(user: User, _i: int) -> httpx.Response:
        return await user.client.get("/healthz")

    expect = 303 if plan.route == "form" else 201
    try:
        if plan.route == "form":
            log(f"signing in {plan.users} users (argon2 verify each) ...")
            for user in users:
                await sign_in(user)
        log(f"warm-up: {WARMUP_SUBMITS} submissions, then healthz from every user")
        warm = await run_load(Phase("warm-up", 1, expect), users[:1], submit, WARMUP_SUBMITS, 60, 0)
        if warm.failed:
            raise SystemExit(f"warm-up submissions failed: {warm.statuses} {warm.errors}")
        await run_load(Phase("warm-up", plan.users, 200), users, healthz, plan.users * 5, 30, 0)

        health = await run_load(
            Phase("healthz", plan.users, 200),
            users,
            healthz,
            plan.requests,
            plan.max_s,
            plan.think_s,
        )
        log(health.line())
        serial = await run_load(
            Phase("submit_serial", 1, expect), users[:1], submit, plan.serial, plan.max_s, 0
        )
        log(serial.line())
        log(
            f"submit at {plan.users} users: up to {plan.requests} requests or "
            f"{plan.max_s:.0f} s, think time {plan.think_s * 1000:.0f} ms ..."
        )
        before = cpu_sample(groups)
        load = await run_load(
            Phase("submit", plan.users, expect),
            users,
            submit,
            plan.requests,
            plan.max_s,
            plan.think_s,
        )
        cpu = cpu_use(before, cpu_sample(groups))
        log(load.line())
        log(f"busy cores during the submit phase: {cpu}")
        for err in load.errors:
            log(f"  error: {err}")
    finally:
        for user in users:
            await user.client.aclose()
    return {"healthz": health, "submit_serial": serial, "submit": load, "cpu": cpu}


# --------------------------------------------------------------------------- in-process


def trigger(brief: Brief) -> str:
    """The app's trigger without the app's per-request settings binding (``breakdown`` times
    that step on its own): ``run_deployment`` with ``timeout=0``, a new client each call."""
    return orch.submit(brief, idempotency_key=brief.brief_id)


def trigger_ms(brief: Brief) -> float | str:
    """Milliseconds, or what went wrong (the Prefect client gave up on its retries)."""
    t0 = time.perf_counter()
    try:
        trigger(brief)
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return (time.perf_counter() - t0) * 1000


def trigger_report(results: list[float | str]) -> tuple[list[float], dict[str, Any]]:
    ms = [r for r in results if isinstance(r, float)]
    errors = [r for r in results if isinstance(r, str)]
    for err in errors[:3]:
        log(f"  trigger error: {err}")
    return ms, {"calls": len(results), "errors": len(errors), **summary(ms)}


def trigger_phases(tag: str, serial: int, users: int, total: int, max_s: float) -> dict[str, Any]:
    """``run_deployment`` alone: serially, then from ``users`` threads at once (closed loop,
    ``total`` calls or ``max_s``; each thread in a copy of this thread's context, which holds
    Prefect's settings: no per-call binding)."""
    for i in range(3):  # warm-up: imports, the first client
        trigger(brief_for(f"{tag}-tw", i))
    ms, serial_report = trigger_report(
        [trigger_ms(brief_for(f"{tag}-ts", i)) for i in range(serial)]
    )
    log(f"trigger (run_deployment) serial: {serial_report}")
    numbers = itertools.count()
    started = time.perf_counter()
    deadline = started + max_s

    def one_thread() -> list[float | str]:
        out: list[float | str] = []
        while time.perf_counter() < deadline and (i := next(numbers)) < total:
            out.append(trigger_ms(brief_for(f"{tag}-tc", i)))
        return out

    with ThreadPoolExecutor(users) as pool:
        futures = [pool.submit(contextvars.copy_context().run, one_thread) for _ in range(users)]
        results = [r for f in futures for r in f.result()]
    wall = time.perf_counter() - started
    ms, conc_report = trigger_report(results)
    conc_report |= {"threads": users, "wall_s": round(wall, 2)}
    conc_report["throughput_rps"] = round(len(ms) / wall, 1)
    log(f"trigger (run_deployment) from {users} threads: {conc_report}")
    return {"trigger_serial": serial_report, "trigger_concurrent": conc_report}


def one_breakdown(
    settings: Settings, token: str, api_url: str, scratch: str, payload: dict[str, Any]
) -> dict[str, float]:
    """One API submission's steps as ``api_submit`` takes them, each timed (ms)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    t: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        t[name] = (now - clock) * 1000
        clock = now

    with session_for(settings.db_url) as session:
        acc.user_for_token(session, token)
    lap("auth")
    brief = Brief.model_validate(payload)
    lap("validate")
    shape(
        brief,
        brand_kit_by_id(settings.brand_kits_dir, brief.brand),
        settings,
        expander=TemplateExpander(),
    )
    lap("shape")
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        lap("bind")
        run_id = orch.submit(brief, idempotency_key=brief.brief_id)
        lap("trigger")
    with session_for(scratch) as session:
        acc.save_brief(session, brief, run_id)
    lap("save")
    return t


def breakdown(settings: Settings, token: str, api_url: str, tag: str, n: int) -> dict[str, Any]:
    """The API submission's steps, one by one, in this process (serially, no HTTP). The brief
    rows go to a scratch database: the app's keeps only what the app wrote."""
    scratch = f"sqlite:///{settings.data_dir / 'scratch.db'}"
    init_db(scratch)
    steps: dict[str, list[float]] = {}
    for i in range(n + 2):
        payload = brief_payload(f"{tag}-b", i) | {"submitted_by": SUBMITTER}
        t = one_breakdown(settings, token, api_url, scratch, payload)
        if i >= 2:  # the first two warm up
            for k, v in t.items():
                steps.setdefault(k, []).append(v)
    out = {k: round(statistics.median(v), 2) for k, v in steps.items()}
    total = sum(statistics.median(v) for v in steps.values())
    log(
        "one submission, step by step (p50 ms): "
        + ", ".join(f"{k} {v}" for k, v in out.items())
        + f"; sum {total:.1f}"
    )
    return {"steps": out, "sum_p50_ms": round(total, 1)}


# --------------------------------------------------------------------------- checks


def check_runs(settings: Settings, phase: Phase, route: str) -> dict[str, int]:
    """Every success has its brief row and a Scheduled flow run of its own."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    if route == "form":
        ids = [str(loc).rsplit("/", 1)[-1] for loc in phase.bodies]
        with session_for(settings.db_url) as session:
            rows = [acc.brief_row(session, b) for b in ids]
        run_ids = [r.flow_run_id for r in rows if r is not None]
    else:
        ids = [b["brief_id"] for b in phase.bodies]
        run_ids = [b["flow_run_id"] for b in phase.bodies]
        with session_for(settings.db_url) as session:
            rows = [acc.brief_row(session, b) for b in ids]
    uuids = [UUID(r) for r in set(run_ids)]
    states: Counter[str] = Counter()
    with get_client(sync_client=True) as client:
        for start in range(0, len(uuids), 200):
            chunk = uuids[start : start + 200]
            for run in client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=chunk)), limit=len(chunk)
            ):
                # Scheduled or Late (the server's late-runs service renames them): not started.
                states[run.state.type.value if run.state else "UNKNOWN"] += 1
    return {
        "successes": len(phase.bodies),
        "distinct_briefs": len(set(ids)),
        "brief_rows": sum(r is not None for r in rows),
        "distinct_flow_runs": len(uuids),
        "scheduled_flow_runs": states.get("SCHEDULED", 0),
    }


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="concurrent users (closed loop)")
    parser.add_argument("--requests", type=int, default=400, help="requests per 20-user phase")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time bound per phase")
    parser.add_argument("--serial", type=int, default=30, help="requests per serial phase")
    parser.add_argument("--think-ms", type=float, default=0.0, help="pause between a user's sends")
    parser.add_argument("--route", choices=["api", "form"], default="api")
    parser.add_argument("--keep", type=Path, help="use and keep this data directory")
    args = parser.parse_args()
    if args.users < 1 or args.requests < 2 or args.serial < 2:
        parser.error("--users >= 1, --requests >= 2 and --serial >= 2, please")

    for key in [k for k in os.environ if k.startswith("REEL_")]:
        del os.environ[key]  # this process's Settings: the bench's data directory, defaults else
    # The Prefect server (it inherits this environment) logs each 503 it sends, and does not
    # mark our never-served runs Late: with a worker they would be picked up in seconds, and
    # the late-runs service's writes (one per run) would contend for SQLite's write lock.
    os.environ["PREFECT_API_LOG_RETRYABLE_ERRORS"] = "true"
    os.environ["PREFECT_SERVER_SERVICES_LATE_RUNS_AFTER_SECONDS"] = "86400"
    cores = len(os.sched_getaffinity(0))
    load_before = [round(x, 2) for x in os.getloadavg()]
    command_started = time.perf_counter()
    tag = uuid4().hex[:6]  # a fresh brief id for every request, even into a kept directory

    from prefect.settings import PREFECT_API_URL, temporary_settings

    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        data_dir = (args.keep or Path(tmp)).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        # prefect_port 0: any free port. The default (4200) is every local stack's first
        # choice: another one started at the same moment could answer our health check.
        settings = Settings(
            data_dir=data_dir, brand_kits_dir=PROJECT_ROOT / "brand_kits", prefect_port=0
        )
        log(f"starting a Prefect server on SQLite in {data_dir} ...")
        with ExitStack() as stack:
            stack.enter_context(tails_on_failure(settings))  # left last: after the lane stops
            api_url = stack.enter_context(prefect_server(settings))
            stack.enter_context(temporary_settings(updates={PREFECT_API_URL: api_url}))
            register_deployment()
            if prefect_server_pid() is None:
                raise SystemExit(f"the Prefect server we started is gone ({api_url} is another)")
            token = make_user(settings)
            setup_s = time.perf_counter() - command_started
            log(f"Prefect server up, produce-video registered (not served) in {setup_s:.1f} s")

            busy = {"setup": retryable_errors(settings)}
            triggers = trigger_phases(tag, args.serial, args.users, args.requests, args.max_seconds)
            busy["trigger"] = retryable_errors(settings) - sum(busy.values())
            steps = breakdown(settings, token, api_url, tag, args.serial)

            base_url, web = stack.enter_context(web_app(settings, api_url))
            log(f"web app up at {base_url} (pid {web.pid})")
            groups = {"web_app": web.pid, "load_generator": os.getpid()}
            if (server := prefect_server_pid()) is None:
                raise SystemExit("the Prefect server we started is gone")
            groups["prefect_server"] = server
            plan = LoadPlan(
                base_url=base_url,
                token=token,
                route=args.route,
                users=args.users,
                requests=args.requests,
                serial=args.serial,
                max_s=args.max_seconds,
                think_s=args.think_ms / 1000,
                tag=tag,
            )
            busy["breakdown"] = retryable_errors(settings) - sum(busy.values())
            phases = asyncio.run(load_phases(plan, groups))
            busy["web"] = retryable_errors(settings) - sum(busy.values())
            log(f"Prefect server 503s (retryable database errors) by phase: {busy}")
            checked = check_runs(settings, phases["submit"], args.route)
            log(f"checked: {checked}")
        if args.keep:
            log(f"kept the data directory (databases, logs/web.log) in {data_dir}")

    submit: Phase = phases["submit"]
    health: Phase = phases["healthz"]
    serial: Phase = phases["submit_serial"]
    p95 = pct(submit.ms, 95) if submit.ms else float("inf")
    health_p95 = pct(health.ms, 95) if health.ms else float("nan")
    missing = checked["successes"] - min(checked["brief_rows"], checked["distinct_flow_runs"])
    errors = submit.failed + missing
    met = p95 <= GOAL_P95_MS and errors <= GOAL_ERRORS
    result = {
        "bench": "intake",
        "route": "POST /briefs (form)" if args.route == "form" else "POST /api/v1/briefs",
        "users": args.users,
        "think_ms": args.think_ms,
        "requests": submit.sent,
        "submit_p50_ms": round(statistics.median(submit.ms), 1) if submit.ms else None,
        "submit_p95_ms": round(p95, 1),
        "submit_p99_ms": round(pct(submit.ms, 99), 1) if submit.ms else None,
        "submit_max_ms": round(max(submit.ms), 1) if submit.ms else None,
        "errors": errors,
        "statuses": dict(submit.statuses),
        "throughput_rps": round(submit.sent / submit.wall_s, 1),
        "healthz_p50_ms": round(statistics.median(health.ms), 1) if health.ms else None,
        "healthz_p95_ms": round(health_p95, 1),
        "healthz_throughput_rps": round(health.sent / health.wall_s, 1),
        "submit_serial_p50_ms": round(statistics.median(serial.ms), 1) if serial.ms else None,
        "submit_serial_p95_ms": round(pct(serial.ms, 95), 1) if serial.ms else None,
        "trigger_p50_ms": triggers["trigger_serial"].get("p50_ms"),
        "trigger_p95_ms": triggers["trigger_serial"].get("p95_ms"),
        "trigger_concurrent_p50_ms": triggers["trigger_concurrent"].get("p50_ms"),
        "trigger_concurrent_p95_ms": triggers["trigger_concurrent"].get("p95_ms"),
        "trigger_concurrent_throughput_rps": triggers["trigger_concurrent"]["throughput_rps"],
        "trigger_concurrent_errors": triggers["trigger_concurrent"]["errors"],
        "breakdown_p50_ms": steps["steps"],
        "breakdown_sum_p50_ms": steps["sum_p50_ms"],
        "ratio_p95_to_goal": round(p95 / GOAL_P95_MS, 2),
        "ratio_p95_submit_to_healthz": round(p95 / health_p95, 1) if health.ms else None,
        "busy_cores_submit_phase": phases["cpu"],
        "cpu_ms_per_submit": {
            k: round(v / (submit.sent / submit.wall_s) * 1000, 1)
            for k, v in phases["cpu"].items()
            if k in ("web_app", "prefect_server") and submit.sent
        },
        "checked": checked,
        "prefect_server_503s": busy,
        "phases": {
            "submit": submit.report(),
            "submit_serial": serial.report(),
            "healthz": health.report(),
            **triggers,
        },
        "cores": cores,
        "load_avg_before": load_before,
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        "command_s": round(time.perf_counter() - command_started, 1),
        "goal": {"submit_p95_ms_max": GOAL_P95_MS, "errors_max": GOAL_ERRORS},
        "goal_met": met,
        "met": met,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
