"""Benchmark: a 24-video campaign, its variants one at a time against N at a time.

A real local lane, started by the benchmark in a temporary data directory: a Prefect server on
SQLite and ``python -m flows`` serving produce-video, render-shots and campaign-batch
(``reelfactory.stack``). The served flows get ``REEL_DATA_DIR``, ``REEL_RENDER_SHORT_EDGE``
(``--short-edge``, 240 by default) and ``REEL_APPROVAL_POLL_S=1``; the animatic renderer, the
default moderation layers and local publishing (every other ``REEL_*`` of the caller's
environment is dropped, S3 included).

The campaign: aurora-coffee, ``social-teaser-15`` at 6 s, one product axis of 12 products x
the ratio set [16:9, 9:16] = 12 briefs, 24 videos (``--videos``, even). Each variant goes the
whole way through produce-video by deployment: planning and text moderation, 3 shots x 2 ratios
rendered, frames of every shot and cut checked, 2 cuts assembled, a pause for approval, C2PA
signing and publishing. A test approver (maya.chen@aurora-coffee.example, listed in the kit;
briefs are submitted by jordan.pike) answers whatever waits, polling every 0.5 s: it approves,
and it allows an output review (the face layer now and then takes the text on an animatic
frame for a face; ``output_reviews_allowed`` counts them). A review of the brief or prompts
stops the benchmark: the copy below passes text moderation unattended.

  - baseline ``serial``: the campaign run with ``concurrency: 1``;
  - candidate ``concurrent``: the same campaign shape with ``concurrency: N`` (``--concurrency``,
    3 by default: the fastest of 2, 3 and 4 on this 2-core box, 170 s, 168 s and 179 s for
    the concurrent route. At 2 the cores are ~1.7 busy: a variant also waits (runner pick-up,
    status polls, slot hand-offs, approval) and a third in flight fills those gaps; at 4 the
    variants only share the 2 cores more thinly (a flow-run process takes ~10 s to start
    instead of ~3 s) and the campaign is slower).

The two routes are two campaigns with different ids and different copy (titles, messages,
audience, call to action): every shot prompt differs, so no clip is shared through the shot
cache and no task result through Prefect's cache; each renders everything. An untimed
1-video warm-up campaign runs first, so that neither route pays first-use costs (the C2PA
development CA, the database's first use, cold imports). Then serial, then concurrent.

Wall time: from submitting the campaign-batch run to seeing it final. Every route must end
with every video published (the campaign's summary table says "published" for each variant
and the ``publication`` table holds one cut per brief and ratio, its file present), else the
benchmark stops with an error.

Orchestration share (goal issue: time not spent rendering, encoding or moderating), from the
Prefect API: the busy intervals of the variant runs' work tasks ``render-shot`` (rendering),
``assemble-cut`` and ``sign-cuts`` (encoding: the cut's H.264/AAC encode, the C2PA re-mux),
``plan-brief``, ``moderate-frames`` and ``moderate-revision`` (moderating: text layers and
their model loads while planning, frame layers on every shot and cut): the tasks
``reelfactory.cost`` counts as assembly and moderation, plus the renders. Tasks overlap
(variants in flight, render and check threads within a run), so their intervals are merged and
clipped to the route's wall-time window: ``orchestration_share = 1 - busy_union / wall``.
Staging and publishing (stage-cut, link-previews, publish-version: copies and checksums),
recording, flow-run process start-ups, status polls and concurrency-slot hand-offs all count
as orchestration. Read it with its limit: a task's interval is wall time, so tasks stretched
by sharing the cores with more variants cover more of the wall; oversubscribing the cores
lowers the share without making the campaign faster. ``*_busy_cores`` (from /proc: the
machine, this process tree, everyone else) say how much CPU each route really used.

Approval: ``approval_wait_s`` is the time when at least one variant waits for a decision and
nothing else happens (no work task, no variant run that is not paused): time the campaign
spends on the test approver's and the pause's polling alone. It stays in the headline share
(the issue defines the share over wall time and the pause/resume round trip is orchestration
machinery), and ``orchestration_share_excl_approval`` removes it from both the wall time and
the idle time, as a run with an instant approver would look. With a concurrency above 1 it is
near zero: while one variant waits, the others work.

Slot hand-offs (``campaign_phases_s``): from a variant pausing to the next variant run being
created. Prefect answers a refused slot with a Retry-After of the limit's average occupancy
times the queue per slot, capped at 30 s (``maximum_concurrency_slot_wait_seconds``), jittered:
with 11 variants queued behind one slot a free slot can wait 2-25 s for its next taker. That
makes the serial baseline long and noisy (its hand-offs add up to 80-115 s of ~300 s here).

Run: ``python bench/campaign.py [--videos 24] [--short-edge 240] [--concurrency 3]
[--keep DIR]``; about 9 minutes on 2 cores. Goals: speed-up >= 1.7 x, orchestration share of
the concurrent route <= 0.15. The last line is one JSON object. Exits 0 even when a goal is
missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname
from uuid import uuid4

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, State, StateType, TaskRun

from reelfactory import db
from reelfactory import orchestration as orch
from reelfactory.campaign import Campaign, parse_campaign, variants
from reelfactory.settings import Settings
from reelfactory.stack import prefect_server, served_flows

GOAL_SPEEDUP = 1.7
GOAL_ORCHESTRATION_SHARE = 0.15
BRAND = "aurora-coffee"
FORMAT = "social-teaser-15"
DURATION_S = 6
RATIOS = ["16:9", "9:16"]
SUBMITTER = "jordan.pike@aurora-coffee.example"
APPROVER = "maya.chen@aurora-coffee.example"  # listed in brand_kits/aurora-coffee/kit.yaml
APPROVE_POLL_S = 0.5
PROGRESS_EVERY_S = 15.0
RUN_LIMIT = 200  # Prefect's page size: variant runs per campaign, task runs per variant run

RENDERING = ("render-shot",)
ENCODING = ("assemble-cut", "sign-cuts")
MODERATING = ("plan-brief", "moderate-frames", "moderate-revision")
WORK_TASKS = {**dict.fromkeys(RENDERING, "render"), **dict.fromkeys(ENCODING, "encode")}
WORK_TASKS |= dict.fromkeys(MODERATING, "moderate")
PUBLISHING = ("stage-cut", "link-previews", "publish-version")

PRODUCTS = [
    "Sunrise Blend",
    "Morning Light Blend",
    "Harbour Decaf",
    "Golden Hour Espresso",
    "Meadow Cold Brew",
    "Garden Filter Blend",
    "Orchard Oat Latte",
    "Lantern House Roast",
    "Tidewater Single Origin",
    "Riverside Breakfast Blend",
    "Velvet Mocha",
    "Fjord Filter Roast",
]
# Each route's copy: every prompt differs, so no clip is shared through the shot cache. All of
# it passes text moderation (the MiniLM layer sent some coffee names to review: "drugs", "ip").
COPY: dict[str, dict[str, str]] = {
    "warmup": {
        "audience": "Coffee lovers trying something new",
        "title": "{p}, a first cup",
        "message": "{p} is a gentle start for a new ritual.",
        "cta": "Find {p} in our shops",
    },
    "serial": {
        "audience": "Home brewers who enjoy a calm start to the day",
        "title": "{p} is here",
        "message": "A calm morning cup of {p}, roasted in small batches.",
        "cta": "Order {p} at aurora.example",
    },
    "concurrent": {
        "audience": "Commuters who want a good cup on the way",
        "title": "Meet {p}",
        "message": "{p} brings a warm, steady cup to busy afternoons.",
        "cta": "Try {p} in any Aurora shop",
    },
}

Interval = tuple[float, float]


# --------------------------------------------------------------------------- the campaigns


def product_name(i: int) -> str:
    base = PRODUCTS[i % len(PRODUCTS)]
    return base if i < len(PRODUCTS) else f"{base} No. {i // len(PRODUCTS) + 1}"


def build_campaign(route: str, briefs: int, ratios: list[str], concurrency: int) -> Campaign:
    """``briefs`` products x one ratio set, in ``route``'s copy, under a fresh campaign id."""
    copy = COPY[route]
    products = []
    for i in range(briefs):
        p = product_name(i)
        products.append(
            {
                "id": f"p{i + 1:02d}",
                "overrides": {
                    "title": copy["title"].format(p=p),
                    "message": copy["message"].format(p=p),
                    "call_to_action": copy["cta"].format(p=p),
                },
            }
        )
    return parse_campaign(
        {
            "id": f"bench-{route}-{uuid4().hex[:8]}",
            "brand": BRAND,
            "base": {
                "audience": copy["audience"],
                "duration_s": DURATION_S,
                "submitted_by": SUBMITTER,
            },
            "matrix": {"products": products, "formats": [FORMAT], "aspect_ratios": [ratios]},
            "concurrency": concurrency,
        },
        source=f"{route} campaign",
    )


# --------------------------------------------------------------------------- intervals


def merged(intervals: Iterable[Interval], lo: float, hi: float) -> list[Interval]:
    """The union of ``intervals`` clipped to [lo, hi], as sorted disjoint intervals."""
    out: list[Interval] = []
    for a, b in sorted((max(a, lo), min(b, hi)) for a, b in intervals):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def length(intervals: Iterable[Interval]) -> float:
    return sum(b - a for a, b in intervals)


def minus(keep: list[Interval], drop: list[Interval]) -> list[Interval]:
    """``keep`` without ``drop`` (both sorted and disjoint)."""
    out: list[Interval] = []
    for a, b in keep:
        at = a
        for c, d in drop:
            if d <= at or c >= b:
                continue
            if c > at:
                out.append((at, c))
            at = max(at, d)
        if at < b:
            out.append((at, b))
    return out


def ts(value: Any) -> float:
    """A Prefect timestamp as Unix seconds (same machine, same clock as ``time.time``)."""
    return float(value.timestamp())


# --------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class CpuSample:
    """Clock ticks: the machine's busy and total (all cores), and this process tree's own."""

    at: float
    busy: int
    total: int
    own: int


def _stat(pid: str) -> tuple[int, list[int]] | None:
    """(ppid, [utime, stime, cutime, cstime]) of a process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = text[text.rindex(")") + 2 :].split()
    return int(rest[1]), [int(x) for x in rest[11:15]]


def cpu_sample() -> CpuSample | None:
    """Machine-wide CPU ticks (/proc/stat), and those of this process and every descendant
    (the Prefect server, the served flows and their flow-run processes: a live process's own
    ticks plus those of the children it has reaped). None where /proc cannot be read."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        pids = [p.name for p in Path("/proc").iterdir() if p.name.isdigit()]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for pid in pids:
        stat = _stat(pid)
        if stat is not None:
            children.setdefault(stat[0], []).append(int(pid))
            ticks[int(pid)] = sum(stat[1])
    own, todo = 0, [os.getpid()]
    while todo:
        node = todo.pop()
        own += ticks.get(node, 0)
        todo += children.get(node, [])
    return CpuSample(time.time(), sum(fields) - idle, sum(fields), own)


def cpu_use(before: CpuSample | None, after: CpuSample | None) -> dict[str, float | None]:
    """Average busy cores over the interval: the machine's, ours and everyone else's."""
    if before is None or after is None or after.total <= before.total:
        return {"machine_busy_cores": None, "own_busy_cores": None, "others_busy_cores": None}
    cores = os.cpu_count() or 1
    machine = (after.busy - before.busy) / (after.total - before.total) * cores
    own = (after.own - before.own) / os.sysconf("SC_CLK_TCK") / (after.at - before.at)
    return {
        "machine_busy_cores": round(machine, 2),
        "own_busy_cores": round(own, 2),
        "others_busy_cores": round(max(0.0, machine - own), 2),
    }


@dataclass
class Route:
    name: str
    campaign: Campaign
    run_id: str = ""
    started: float = 0.0
    ended: float = 0.0
    approvals: int = 0
    reviews: int = 0
    state: str = ""
    cpu: dict[str, float | None] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def wall_s(self) -> float:
        return self.ended - self.started


def variant_runs(campaign: Campaign) -> list[FlowRun]:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"campaign:{campaign.id}"])),
            limit=RUN_LIMIT,
        )


def progress(route: Route) -> str:
    counts: dict[str, int] = {}
    for run in variant_runs(route.campaign):
        name = (run.state.name or "Unknown") if run.state else "Unknown"
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no variant runs yet"


def answer_waiting(route: Route) -> None:
    """Answer the route's variant runs that wait: approve those waiting for approval (as
    ``orch.approve_waiting`` does) and allow those an output check sent to review (the face
    layer takes text on an animatic frame for a face now and then: a reviewer clears it). A
    review of the brief or prompts stops the benchmark: the copy is chosen to pass unattended.
    """
    for run in orch.waiting_runs():
        if f"campaign:{route.campaign.id}" not in run.tags:
            continue
        key = (run.state.state_details.pause_key if run.state else None) or ""
        if key.startswith("approval-"):
            orch.resume(str(run.id), approver=APPROVER, decision="approve")
            route.approvals += 1
        elif key.startswith("review-output-"):
            orch.resume_review(
                str(run.id), reviewer=APPROVER, decision="allow", notes="bench: animatic frames"
            )
            route.reviews += 1
            print(f"  {route.name}: allowed output review {key} of variant run {run.id}")
        else:
            raise SystemExit(f"{route.name}: variant run {run.id} paused for {key!r}")


def run_route(route: Route, timeout_s: float) -> None:
    """Submit the campaign, approve whatever waits, until the campaign run is final."""
    cpu_before = cpu_sample()
    route.started = time.time()
    route.run_id = orch.submit_campaign(route.campaign)
    next_progress = route.started + PROGRESS_EVERY_S
    while True:
        watched = orch.Watched(orch.read_run(route.run_id))
        if orch.is_final(watched):
            route.ended = time.time()
            break
        answer_waiting(route)
        now = time.time()
        if now > route.started + timeout_s:
            raise SystemExit(
                f"{route.name}: campaign run {route.run_id} still {watched.state_name} after "
                f"{timeout_s:.0f} s ({progress(route)})"
            )
        if now >= next_progress:
            print(f"  [{now - route.started:6.1f} s] {route.name}: {progress(route)}", flush=True)
            next_progress = now + PROGRESS_EVERY_S
        time.sleep(APPROVE_POLL_S)
    route.state = watched.state_name
    route.cpu = cpu_use(cpu_before, cpu_sample())
    print(
        f"{route.name}: {watched.state_name} in {route.wall_s:.1f} s "
        f"({route.approvals} approvals, {route.reviews} output reviews; "
        f"busy cores on average: {route.cpu['own_busy_cores']} ours, "
        f"{route.cpu['others_busy_cores']} others' of {os.cpu_count()})",
        flush=True,
    )


def check_published(route: Route, settings: Settings) -> int:
    """Every variant published, every cut recorded and on disk; the number of videos."""
    items = variants(route.campaign)
    expected = {(v.brief.brief_id, r.value) for v in items for r in v.aspect_ratios}
    rows = orch.campaign_summary(route.run_id, route.campaign.id)
    problems = [f"campaign run ended {route.state!r}"] if route.state != "Completed" else []
    if len(rows) != len(items):
        problems.append(f"summary table has {len(rows)} rows for {len(items)} variants")
    problems += [
        f"{r['variant']}: {r['status']} {r.get('note', '')}".rstrip()
        for r in rows
        if r["status"] != "published"
    ]
    found: set[tuple[str, str]] = set()
    with db.session_for(settings.db_url) as session:
        for row in rows:
            for pub in db.publications_for_run(session=session, flow_run_id=str(row["run"])):
                found.add((pub.brief_id, pub.aspect_ratio))
                if (
                    pub.uri.startswith("file:")
                    and not Path(url2pathname(urlparse(pub.uri).path)).is_file()
                ):
                    problems.append(f"{pub.key}: recorded but missing at {pub.uri}")
    missing = expected - found
    if missing:
        problems.append(f"{len(missing)} of {len(expected)} videos have no publication")
    if problems:
        raise SystemExit(
            f"{route.name}: not every video was published:\n  " + "\n  ".join(problems)
        )
    return len(found & expected)


def states_of(client: Any, run: FlowRun) -> list[State]:
    states: list[State] = client.read_flow_run_states(run.id)
    return sorted(states, key=lambda s: ts(s.timestamp))


def analyse(route: Route) -> dict[str, Any]:
    """Busy, paused and idle time of the route's variant runs, over its wall-time window."""
    lo, hi = route.started, route.ended
    runs = variant_runs(route.campaign)
    work: dict[str, list[Interval]] = {"render": [], "encode": [], "moderate": []}
    publishing: list[Interval] = []
    paused: list[Interval] = []
    active: list[Interval] = []  # in flight and not paused
    plain = dict.fromkeys(work, 0.0)
    created_at: list[float] = []
    final_at: list[float] = []
    paused_at: list[float] = []  # where a variant gives its campaign slot back
    phases: dict[str, list[float]] = {
        "queued_s": [],  # created -> picked up by the runner (Scheduled -> Pending)
        "process_start_s": [],  # Pending -> Running: the flow run's process starts
        "to_first_work_s": [],  # Running -> first work task starts
        "to_approval_s": [],  # first work task starts -> paused for approval
        "paused_s": [],  # waiting for the approver, and for the pause's poll
        "after_approval_s": [],  # resumed -> final (sign, publish, record)
        "run_s": [],  # created -> final
    }
    with get_client(sync_client=True) as client:
        for run in runs:
            tasks: list[TaskRun] = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])), limit=RUN_LIMIT
            )
            starts = []
            for t in tasks:
                if t.start_time is None or t.end_time is None:
                    continue
                kind = t.name.rsplit("-", 1)[0]
                span = (ts(t.start_time), ts(t.end_time))
                if kind in WORK_TASKS:
                    work[WORK_TASKS[kind]].append(span)
                    plain[WORK_TASKS[kind]] += span[1] - span[0]
                    starts.append(span[0])
                elif kind in PUBLISHING:
                    publishing.append(span)
            states = states_of(client, run)
            if not states:
                continue
            created, final = ts(states[0].timestamp), ts(states[-1].timestamp)
            own_paused = []
            for s, nxt in pairwise(states):
                if s.type is StateType.PAUSED:
                    own_paused.append((ts(s.timestamp), ts(nxt.timestamp)))
            paused += own_paused
            active += minus([(created, final)], merged(own_paused, created, final))
            first: dict[StateType, float] = {}
            for s in states:
                first.setdefault(s.type, ts(s.timestamp))
            if StateType.PENDING in first:
                phases["queued_s"].append(first[StateType.PENDING] - created)
                if StateType.RUNNING in first:
                    phases["process_start_s"].append(
                        first[StateType.RUNNING] - first[StateType.PENDING]
                    )
            if StateType.RUNNING in first and starts:
                phases["to_first_work_s"].append(min(starts) - first[StateType.RUNNING])
            if own_paused:
                if starts:
                    phases["to_approval_s"].append(own_paused[0][0] - min(starts))
                phases["paused_s"].append(length(own_paused))
                phases["after_approval_s"].append(final - own_paused[-1][1])
            phases["run_s"].append(final - created)
            created_at.append(created)
            final_at.append(final)
            paused_at += [a for a, _ in own_paused[:1]]
    wall = hi - lo
    # A slot hand-off: from a variant pausing (its slot is free once the campaign sees it) to
    # the next variant run being created; for every variant that had to wait for a slot.
    n = route.campaign.concurrency
    handoffs = []
    for at in sorted(created_at)[n:]:
        before = [p for p in paused_at if p <= at]
        if before:
            handoffs.append(at - max(before))
    campaign = {
        "first_variant_after_s": round(min(created_at) - lo, 2) if created_at else None,
        "slot_handoffs": len(handoffs),
        "slot_handoff_median_s": round(statistics.median(handoffs), 2) if handoffs else None,
        "slot_handoff_max_s": round(max(handoffs), 2) if handoffs else None,
        "slot_handoff_sum_s": round(sum(handoffs), 2),
        "after_last_variant_s": round(hi - max(final_at), 2) if final_at else None,
    }
    busy = merged((span for spans in work.values() for span in spans), lo, hi)
    idle = minus([(lo, hi)], busy)
    waiting = minus(idle, merged(active, lo, hi))  # idle, and every run in flight is paused
    approval_only = length(
        [
            (max(a, c), min(b, d))
            for a, b in waiting
            for c, d in merged(paused, lo, hi)
            if min(b, d) > max(a, c)
        ]
    )
    busy_s = length(busy)
    share = 1 - busy_s / wall
    excl = 1 - busy_s / (wall - approval_only) if wall > approval_only else 0.0
    return {
        "wall_s": round(wall, 2),
        "variant_runs": len(runs),
        "busy_union_s": round(busy_s, 2),
        "busy_union_by_kind_s": {k: round(length(merged(v, lo, hi)), 2) for k, v in work.items()},
        "task_seconds_sum_by_kind": {k: round(v, 2) for k, v in plain.items()},
        "publishing_union_s": round(length(merged(publishing, lo, hi)), 2),
        "publishing_not_overlapping_work_s": round(
            length(minus(merged(publishing, lo, hi), busy)), 2
        ),
        "orchestration_share": round(share, 4),
        "paused_union_s": round(length(merged(paused, lo, hi)), 2),
        "paused_sum_s": round(sum(phases["paused_s"]), 2),
        "approval_wait_s": round(approval_only, 2),
        "orchestration_share_excl_approval": round(excl, 4),
        "campaign_phases_s": campaign,
        "variant_phases_median_s": {
            k: round(statistics.median(v), 2) for k, v in phases.items() if v
        },
    }


# --------------------------------------------------------------------------- the lane


@contextmanager
def lane(data_dir: Path, short_edge: int) -> Iterator[Settings]:
    """A Prefect server and the served flows on ``data_dir``; this process talks to them."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    env = {
        "REEL_DATA_DIR": str(data_dir),
        "REEL_RENDER_SHORT_EDGE": str(short_edge),
        "REEL_APPROVAL_POLL_S": "1",
        "REEL_PREFECT_PORT": "0",
    }
    for key in [k for k in os.environ if k.startswith("REEL_")]:
        del os.environ[key]  # the caller's REEL_* (S3, models, prices) stay out of the bench
    os.environ.update(env)
    settings = Settings()
    db.init_db(settings.db_url)
    with ExitStack() as stack:
        api_url = stack.enter_context(prefect_server(settings))
        stack.enter_context(served_flows(settings, api_url, extra_env=env))
        stack.enter_context(temporary_settings(updates={PREFECT_API_URL: api_url}))
        yield settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=24, help="videos per route (even)")
    parser.add_argument("--short-edge", type=int, default=240, help="cut size, e.g. 240 -> 240p")
    parser.add_argument("--concurrency", type=int, default=3, help="the concurrent route's N")
    parser.add_argument("--keep", type=Path, help="use and keep this data directory")
    args = parser.parse_args()
    if args.videos < 2 or args.videos % len(RATIOS):
        parser.error(f"--videos must be a positive multiple of {len(RATIOS)} (ratios {RATIOS})")
    if not 2 <= args.concurrency <= 16:
        parser.error("--concurrency must be 2-16 (the serial route is 1)")
    briefs = args.videos // len(RATIOS)
    cores = len(os.sched_getaffinity(0))
    load_before = round(os.getloadavg()[0], 2)
    timeout_s = 300.0 + 60.0 * briefs * len(RATIOS)
    command_started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="bench-campaign-") as tmp:
        data_dir = (args.keep or Path(tmp)).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        with lane(data_dir, args.short_edge) as settings:
            setup_s = time.perf_counter() - command_started
            print(f"lane up in {setup_s:.1f} s (data: {data_dir})", flush=True)
            warmup = Route("warmup", build_campaign("warmup", 1, RATIOS[:1], 1))
            run_route(warmup, timeout_s)
            check_published(warmup, settings)
            routes = {
                "serial": Route("serial", build_campaign("serial", briefs, RATIOS, 1)),
                "concurrent": Route(
                    "concurrent", build_campaign("concurrent", briefs, RATIOS, args.concurrency)
                ),
            }
            published = {}
            for route in routes.values():
                print(
                    f"{route.name}: campaign {route.campaign.id}, {briefs} briefs x "
                    f"{len(RATIOS)} ratios, concurrency {route.campaign.concurrency}",
                    flush=True,
                )
                run_route(route, timeout_s)
                published[route.name] = check_published(route, settings)
                route.details = analyse(route)
                d = route.details
                print(
                    f"{route.name}: {published[route.name]} videos published; work tasks busy "
                    f"{d['busy_union_s']} s of {d['wall_s']} s (orchestration share "
                    f"{d['orchestration_share']:.1%}); approval-only waits "
                    f"{d['approval_wait_s']} s",
                    flush=True,
                )
        if args.keep:
            print(f"kept the data directory (db, published cuts, logs) in {data_dir}", flush=True)

    serial, concurrent = routes["serial"], routes["concurrent"]
    speedup = serial.wall_s / concurrent.wall_s
    share = concurrent.details["orchestration_share"]
    command_s = time.perf_counter() - command_started
    print(
        json.dumps(
            {
                "bench": "campaign",
                "videos": published["concurrent"],
                "serial_s": round(serial.wall_s, 2),
                "concurrent_s": round(concurrent.wall_s, 2),
                "speedup": round(speedup, 3),
                "goal_speedup": GOAL_SPEEDUP,
                "orchestration_share": share,
                "goal_orchestration_share": GOAL_ORCHESTRATION_SHARE,
                "met": {
                    "speedup": speedup >= GOAL_SPEEDUP,
                    "orchestration_share": share <= GOAL_ORCHESTRATION_SHARE,
                },
                "orchestration_share_excl_approval": concurrent.details[
                    "orchestration_share_excl_approval"
                ],
                "approval_wait_s": concurrent.details["approval_wait_s"],
                "concurrency": args.concurrency,
                "short_edge": args.short_edge,
                "cpu_cores": cores,
                "campaign": {
                    "brand": BRAND,
                    "format": FORMAT,
                    "duration_s": DURATION_S,
                    "briefs": briefs,
                    "aspect_ratios": RATIOS,
                },
                "work_tasks": {
                    "rendering": list(RENDERING),
                    "encoding": list(ENCODING),
                    "moderating": list(MODERATING),
                },
                "routes": {
                    name: {
                        "campaign": r.campaign.id,
                        "concurrency": r.campaign.concurrency,
                        "state": r.state,
                        "approvals": r.approvals,
                        "output_reviews_allowed": r.reviews,
                        **r.cpu,
                        **r.details,
                    }
                    for name, r in routes.items()
                },
                "warmup_s": round(warmup.wall_s, 2),
                "setup_s": round(setup_s, 2),
                "command_s": round(command_s, 2),
                "load_avg_1m_before": load_before,
                "python": sys.version.split()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
