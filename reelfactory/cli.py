"""The ``reel`` command. Progress goes to stderr; machine-readable results to stdout."""

from __future__ import annotations

import json
import logging
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from reelfactory.errors import InputError, ReelError
from reelfactory.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from uuid import UUID

    from prefect.client.schemas.objects import TaskRun

    from reelfactory.campaign import Campaign, Estimate, Variant
    from reelfactory.models import AspectRatio, ModerationReport, ShotList

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
brand_kits_app = typer.Typer(no_args_is_help=True, help="Brand kit tools.")
app.add_typer(brand_kits_app, name="brand-kits")
campaign_app = typer.Typer(no_args_is_help=True, help="Campaigns: many briefs from one spec.")
report_app = typer.Typer(no_args_is_help=True, help="Cost and ROI reports from recorded runs.")
app.add_typer(report_app, name="report")
app.add_typer(campaign_app, name="campaign")
users_app = typer.Typer(no_args_is_help=True, help="Web app users, roles and API tokens.")
app.add_typer(users_app, name="users")
infra_app = typer.Typer(no_args_is_help=True, help="Production setup on a Prefect server.")
app.add_typer(infra_app, name="infra")
err = Console(stderr=True, highlight=False, soft_wrap=True)

DEMO_BRIEF = PROJECT_ROOT / "examples" / "briefs" / "aurora-coffee-launch.yaml"
RENDER_TIMEOUT_S = 3600.0


def fail(exc: BaseException, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {exc}")
    return typer.Exit(code)


@app.command()
def expand(
    brief_path: Annotated[Path, typer.Argument(help="Brief YAML file.")],
    format_id: Annotated[
        str | None, typer.Option("--format", help="Use this format instead of the brief's.")
    ] = None,
    ratio: Annotated[
        str | None, typer.Option("--ratio", help="Show prompts framed for this aspect ratio.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the shot list as JSON.")] = False,
) -> None:
    """Expand a brief into its shot list (rewritten and moderated), without rendering."""
    from reelfactory.intake import load_brief, parse_brief, plan
    from reelfactory.models import AspectRatio

    settings = Settings()
    try:
        brief = load_brief(brief_path)
        if format_id:
            data = brief.model_dump(mode="json")
            data["format"] = format_id
            brief = parse_brief(data, source=f"{brief_path} (--format)")
        try:
            framed = AspectRatio(ratio) if ratio else None
        except ValueError:
            known = ", ".join(r.value for r in AspectRatio)
            raise ReelError(f"--ratio: unsupported aspect ratio {ratio!r} (use {known})") from None
        p = plan(brief, settings)
    except ReelError as exc:
        raise fail(exc) from None
    shot_list = p.shot_list
    if as_json:
        typer.echo(shot_list.model_dump_json(indent=2))
        return
    _print_shot_list(shot_list, framed)
    err.print(f"moderation: {p.report.verdict.value}")
    for finding in p.report.findings:
        err.print(f"  - {finding.describe()}")


def _print_shot_list(shot_list: ShotList, ratio: AspectRatio | None) -> None:
    from rich.table import Table

    from reelfactory.intake import shot_list_rows

    out = Console(highlight=False, soft_wrap=False)
    table = Table(
        title=f"{shot_list.brief_id} · {shot_list.format} · {shot_list.duration_s:g} s "
        f"at {shot_list.fps} fps · by {shot_list.expander}",
        show_lines=True,
    )
    for column in ("#", "shot", "time", "caption", f"prompt{f' ({ratio.value})' if ratio else ''}"):
        table.add_column(column, overflow="fold")
    for shot, row in zip(shot_list.shots, shot_list_rows(shot_list), strict=True):
        start, length = float(row["start_s"]), float(row["duration_s"])
        table.add_row(
            str(row["shot"]),
            shot.name,
            f"{start:.2f}-{start + length:.2f} s\n{shot.frames} frames",
            shot.caption,
            shot.prompt_for(ratio) if ratio else shot.prompt,
        )
    out.print(table)
    for rw in shot_list.rewrites:
        out.print(
            f"rewrote shot {rw.shot_index + 1} {rw.field}: {rw.original!r} -> "
            f"{rw.replacement!r} ({rw.reason})"
        )


@brand_kits_app.command("validate")
def validate_kits(
    path: Annotated[
        Path | None, typer.Argument(help="A kit folder or kit.yaml; all kits if omitted.")
    ] = None,
) -> None:
    """Validate brand kits; errors name the file, field and value."""
    from reelfactory.brand import KIT_FILE, load_brand_kit

    settings = Settings()
    targets = (
        [path] if path else sorted(p.parent for p in settings.brand_kits_dir.glob(f"*/{KIT_FILE}"))
    )
    if not targets:
        raise fail(ReelError(f"no brand kits under {settings.brand_kits_dir}"))
    failed = 0
    for target in targets:
        try:
            kit = load_brand_kit(target)
        except ReelError as exc:
            failed += 1
            err.print(f"[red]✗[/] {exc}")
        else:
            err.print(f"[green]✓[/] {kit.id}: {kit.name} ({len(kit.approvers)} approvers)")
    if failed:
        raise typer.Exit(2)


@campaign_app.command("validate")
def validate_campaign(
    path: Annotated[Path, typer.Argument(help="Campaign YAML file.")],
    seconds_per_output_second: Annotated[
        float | None,
        typer.Option(
            "--seconds-per-output-second",
            min=0,
            help="Render seconds per second of output video, for the estimate (default: "
            "REEL_RENDER_SECONDS_PER_OUTPUT_SECOND, else 0.5 for the animatic).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Expand a campaign into its briefs and check them (brand kit, formats, durations,
    ratios; no moderation). Prints what it expands to and its estimated cost. Exit 2 when
    invalid; errors name the file, the variant, the field and the value."""
    from reelfactory.campaign import (
        campaign_problems,
        estimate_for,
        expand_campaign,
        load_campaign,
    )

    settings = Settings()
    try:
        campaign = load_campaign(path)
        expanded, problems = expand_campaign(campaign)
        problems += campaign_problems(campaign, expanded, settings)
        if problems:
            raise InputError(str(path), problems)
    except InputError as exc:
        if as_json:
            typer.echo(json.dumps({"file": str(path), "valid": False, "problems": exc.problems}))
        raise fail(exc) from None
    guess = estimate_for(
        [v.brief for v in expanded], campaign.budget, settings, seconds_per_output_second
    )
    if as_json:
        typer.echo(json.dumps(_campaign_json(path, campaign, expanded, guess, settings)))
        return
    _print_campaign(path, campaign, expanded, guess, settings.renderer)


def _campaign_json(
    path: Path,
    campaign: Campaign,
    expanded: list[Variant],
    guess: Estimate | None,
    settings: Settings,
) -> dict[str, Any]:
    return {
        "file": str(path),
        "valid": True,
        "campaign": campaign.id,
        "brand": campaign.brand,
        "variants": len(expanded),
        "videos": sum(len(v.aspect_ratios) for v in expanded),
        "schedule": campaign.schedule.model_dump() if campaign.schedule else None,
        "concurrency": campaign.concurrency,
        "renderer": settings.renderer,
        "estimate": guess.model_dump(mode="json") if guess else None,
        "fits_budget": guess.fits_budget if guess else None,
        "briefs": [
            {
                "key": v.key,
                "brief_id": v.brief.brief_id,
                "market": v.market,
                "product": v.product,
                "format": v.format,
                "aspect_ratios": [r.value for r in v.aspect_ratios],
                "duration_s": v.brief.duration_s,
                "languages": v.brief.languages,
            }
            for v in expanded
        ],
    }


def _print_campaign(
    path: Path, campaign: Campaign, expanded: list[Variant], guess: Estimate | None, renderer: str
) -> None:
    from rich.markup import escape

    videos = sum(len(v.aspect_ratios) for v in expanded)
    err.print(
        f"[green]✓[/] {escape(str(path))}: campaign {campaign.id} ({campaign.brand}): "
        f"{len(expanded)} variants, {videos} videos"
    )
    for v in expanded:
        err.print(
            f"  {v.key}  {v.brief.brief_id}  {v.brief.duration_s:g} s x "
            f"{len(v.aspect_ratios)}  {escape(','.join(v.brief.languages))}"
        )
    if campaign.schedule:
        err.print(f"schedule: {campaign.schedule.cron} ({campaign.schedule.timezone})")
    err.print(f"concurrency: {campaign.concurrency}")
    if guess is None:
        err.print(
            f"estimate: no figure for renderer {renderer!r}; pass --seconds-per-output-second"
        )
        return
    unit = f"{guess.device.upper()}-s"
    money = f" = {guess.cost:g} {guess.currency}" if guess.cost is not None else ""
    err.print(
        f"estimate: {guess.output_s:g} output s x {guess.seconds_per_output_second:g} {unit} "
        f"= {guess.device_s:g} {unit}{money} ({renderer}, first run, no shot cache)"
    )
    if campaign.budget is None:
        err.print("budget: none set")
        return
    budget = f"{campaign.budget.amount:g} {campaign.budget.currency}"
    if guess.fits_budget is None:
        err.print(f"budget: {budget}: cannot tell ({guess.note})")
    elif guess.fits_budget:
        err.print(f"budget: {budget}: [green]fits[/]")
    else:
        err.print(f"budget: {budget}: [bold yellow]over budget[/]")


@app.command()
def models(
    as_json: Annotated[bool, typer.Option("--json", help="The registry as JSON.")] = False,
) -> None:
    """The renderers: the animatic and every text-to-video model in the registry."""
    from reelfactory.render.registry import load_registry

    settings = Settings()
    try:
        registry = load_registry(settings.model_registry)
    except InputError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps({n: s.model_dump(mode="json") for n, s in registry.models.items()}))
        return
    chosen = settings.renderer
    mark = "[bold green]*[/]" if chosen == "animatic" else " "
    err.print(f"{mark} animatic  CPU, no weights; any size, clips up to 60 s (the default)")
    for name in registry.names():
        spec = registry.models[name]
        mark = "[bold green]*[/]" if name == chosen else " "
        sizes = ", ".join(f"{r.value} {w}x{h}" for r, (w, h) in spec.sizes.items())
        err.print(
            f"{mark} {name}  {spec.pipeline} from {spec.source}"
            f"{'@' + spec.revision if spec.revision else ''}; {spec.steps} steps, "
            f"guidance {spec.guidance}, {spec.dtype}; {spec.frames.describe()} frames at "
            f"{spec.fps} fps (up to {spec.max_seconds():.1f} s); {sizes}"
            + (f"; {spec.vram_note}" if spec.vram_note else "")
        )


def _verdict_json(report: ModerationReport, **extra: Any) -> str:
    return json.dumps(
        {
            **extra,
            "subject": report.subject,
            "verdict": report.verdict.value,
            "reasons": [f.describe() for f in report.findings],
            "findings": [f.model_dump(mode="json") for f in report.findings],
            "layers": report.layers,
        },
        ensure_ascii=False,
    )


def _print_report(report: ModerationReport) -> None:
    colour = {"allow": "green", "review": "yellow", "block": "red"}[report.verdict.value]
    typer.echo(f"{report.subject}: ", nl=False)
    err.print(f"[bold {colour}]{report.verdict.value}[/]")
    for f in report.findings:
        typer.echo(f"  - {f.describe()}")


@app.command()
def moderate(
    text: Annotated[str | None, typer.Argument(help="The text to moderate.")] = None,
    brand: Annotated[
        str | None, typer.Option("--brand", help="Apply this brand kit's rules and thresholds.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Moderate each line of this file separately.")
    ] = None,
    frames: Annotated[
        Path | None, typer.Option("--frames", help="Run the frame layers on this video.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON verdict per line.")] = False,
) -> None:
    """Moderate a text, each line of a file, or a video's frames. Exit 1 unless all allowed."""
    from reelfactory.brand import brand_kit_by_id

    given = [x for x in (text, file, frames) if x is not None]
    if len(given) != 1:
        raise fail(ReelError("give exactly one of TEXT, --file FILE or --frames VIDEO"))
    settings = Settings()
    try:
        kit = brand_kit_by_id(settings.brand_kits_dir, brand) if brand else None
        reports: list[ModerationReport] = []
        if frames is not None:
            from reelfactory.moderation.frames import frame_moderator

            if not frames.is_file():
                raise ReelError(f"--frames: no such file {str(frames)!r}")
            reports.append(frame_moderator(settings, kit).video(frames, frames.name))
        else:
            from reelfactory.moderation import text_moderator

            moderator = text_moderator(settings, kit)
            if file is not None:
                try:
                    lines = file.read_text(encoding="utf-8").splitlines()
                except (FileNotFoundError, UnicodeDecodeError) as exc:
                    raise ReelError(f"--file: cannot read {str(file)!r}: {exc}") from None
                for n, line in enumerate(lines, start=1):
                    reports.append(moderator.text(line, f"line {n}"))
                    if not as_json and n % 50 == 0:
                        err.print(f"  {n}/{len(lines)} lines")
            else:
                assert text is not None
                reports.append(moderator.text(text))
    except ReelError as exc:
        raise fail(exc) from None
    for report in reports:
        if as_json:
            typer.echo(_verdict_json(report))
        else:
            _print_report(report)
    if any(r.verdict.value != "allow" for r in reports):
        raise typer.Exit(1)


@campaign_app.command("run")
def run_campaign(
    path: Annotated[Path, typer.Argument(help="Campaign YAML file.")],
    approve_as: Annotated[
        str | None,
        typer.Option(help="Approve every variant as this approver (for demos and tests)."),
    ] = None,
) -> None:
    """Run a campaign now through the campaign-batch deployment and report every variant.

    Without PREFECT_API_URL a local Prefect server is started, as for `reel produce`."""
    from reelfactory import orchestration as orch
    from reelfactory.campaign import load_campaign, variants
    from reelfactory.db import init_db
    from reelfactory.stack import local_stack

    settings = Settings()
    try:
        campaign = load_campaign(path)
        items = variants(campaign, str(path))
    except InputError as exc:
        raise fail(exc) from None
    err.print(f"campaign [bold]{campaign.id}[/]: {len(items)} variants")
    init_db(settings.db_url)
    with local_stack(settings) as stack:
        run_id = orch.submit_campaign(campaign)
        err.print(f"flow run: {stack.flow_run_url(run_id)}")
        started = time.monotonic()
        w = orch.Watched(orch.read_run(run_id))
        while not orch.is_final(w):
            if approve_as:
                for approved in orch.approve_waiting(campaign.id, approve_as):
                    err.print(f"  [{time.monotonic() - started:6.1f} s] approved {approved}")
            time.sleep(2)
            w = orch.Watched(orch.read_run(run_id))
    err.print(f"{w.state_name}: {w.message}".rstrip(": "))
    summary = orch.campaign_summary(run_id, campaign.id)
    typer.echo(json.dumps({"flow_run_id": run_id, "state": w.state_name, "variants": summary}))
    if w.state_name != "Completed":
        raise typer.Exit(1)


@campaign_app.command("schedule")
def schedule_campaign(
    path: Annotated[Path, typer.Argument(help="Campaign YAML file.")],
    cron: Annotated[
        str | None, typer.Option(help='Cron expression, e.g. "0 6 * * 1"; default: the spec\'s.')
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone; default: the spec's.")
    ] = None,
) -> None:
    """Create or update the campaign's schedule on the Prefect server (pause it in the UI)."""
    from pydantic import ValidationError

    from reelfactory import orchestration as orch
    from reelfactory.campaign import Schedule, load_campaign, variants
    from reelfactory.errors import problems_from

    try:
        campaign = load_campaign(path)
        variants(campaign, str(path))
        base = campaign.schedule
        if cron is None and base is None:
            raise InputError(str(path), ["schedule: none in the spec; pass --cron"])
        when = Schedule(
            cron=cron or (base.cron if base else ""),
            timezone=timezone or (base.timezone if base else "UTC"),
        )
    except InputError as exc:
        raise fail(exc) from None
    except ValidationError as exc:  # a bad --cron or --timezone
        raise fail(InputError(str(path), problems_from(exc, "schedule."))) from None
    try:
        _api_ready(Settings())
        done = orch.schedule_campaign(campaign, when.cron, when.timezone)
    except ReelError as exc:
        raise fail(exc) from None
    verb = "created" if done.created else "updated"
    state = "active" if done.active else "paused"
    err.print(f"schedule {verb}: {campaign.id} at '{done.cron}' ({done.timezone}), {state}")
    typer.echo(json.dumps({"campaign": campaign.id, **done.__dict__}))


@report_app.command("campaign")
def report_campaign(
    name: Annotated[str, typer.Argument(help="Campaign id.")],
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout.")] = False,
) -> None:
    """Every recorded run of a campaign: status, versions, seconds, cost, turnaround."""
    import csv
    import sys

    from reelfactory import db
    from reelfactory.report import campaign_rows, roi

    settings = Settings()
    db.init_db(settings.db_url)
    with db.session_for(settings.db_url) as session:
        records = db.videos(session=session, campaign=name)
    if not records:
        raise fail(ReelError(f"campaign {name!r}: no recorded runs"), code=1)
    rows = campaign_rows(records)
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    for row in rows:
        err.print(
            f"{row['brief_id']}  {row['status']:9}  v{row['versions']}  "
            f"{row['renders']} rendered / {row['reused']} reused  "
            f"{row['cpu_s']:.1f} CPU-s {row['gpu_s']:.1f} GPU-s  {row['cost']} {row['currency']}"
        )
    [total] = [r for r in roi(records) if r.brand == "all"]
    typer.echo(json.dumps({"campaign": name, "runs": rows, "total": total.model_dump(mode="json")}))


@report_app.command("roi")
def report_roi(
    since: Annotated[
        str, typer.Option(help="Runs finished on or after this date (YYYY-MM-DD, UTC).")
    ],
    traditional_cost: Annotated[
        float | None,
        typer.Option(min=0, help="What one video costs you the traditional way, to compare."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Videos produced, total and per-video cost, cache savings, approval turnaround and
    rejection rate per brand since a date."""
    from datetime import UTC, datetime

    from reelfactory import db
    from reelfactory.report import roi

    try:
        start = datetime.strptime(since, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise fail(InputError("report roi", [f"since: not a YYYY-MM-DD date: {since!r}"])) from None
    settings = Settings()
    db.init_db(settings.db_url)
    with db.session_for(settings.db_url) as session:
        records = db.videos(session=session, since=start)
    figures = roi(records, traditional_cost)
    if as_json:
        typer.echo(
            json.dumps({"since": since, "brands": [f.model_dump(mode="json") for f in figures]})
        )
        return
    if not figures:
        err.print(f"no recorded runs since {since}")
    for f in figures:
        cost = f"{f.total_cost:.2f} {f.currency}" if f.total_cost is not None else "unpriced"
        per = f" ({f.per_video_cost:.2f} a video)" if f.per_video_cost is not None else ""
        turn = f"{f.median_turnaround_s / 3600:.1f} h" if f.median_turnaround_s is not None else "-"
        rate = f"{f.rejection_rate:.0%}" if f.rejection_rate is not None else "-"
        saving = (
            f"; {f.saving:.2f} saved against the traditional cost" if f.saving is not None else ""
        )
        saved_s = f.cost.saved_cpu_s + f.cost.saved_gpu_s
        err.print(
            f"{f.brand}: {f.published} videos, {cost}{per}; {f.cost.cpu_total_s:.0f} CPU-s, "
            f"{f.cost.gpu_s:.0f} GPU-s; cache saved {saved_s:.0f} s ({f.cost.reused} shots); "
            f"median approval {turn}; rejected {rate}{saving}"
        )


def _api_ready(settings: Settings) -> None:
    """Point the Prefect client at PREFECT_API_URL, or at `reel up`'s local server."""
    import os

    from reelfactory.stack import healthy

    if not os.environ.get("PREFECT_API_URL"):
        os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{settings.prefect_port}/api"
    if not healthy(os.environ["PREFECT_API_URL"]):
        raise ReelError(
            f"no Prefect API at {os.environ['PREFECT_API_URL']} (start one with `reel up`, "
            "or set PREFECT_API_URL)"
        )


@app.command()
def approvals(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per run.")] = False,
) -> None:
    """List runs waiting for a decision: brand approval or moderation review."""
    from reelfactory import orchestration as orch

    try:
        _api_ready(Settings())
        runs = orch.waiting_runs()
    except ReelError as exc:
        raise fail(exc) from None
    for run in runs:
        key = orch.pause_key(orch.Watched(run)) or ""
        row = {
            "flow_run_id": str(run.id),
            "name": run.name,
            "waiting_for": "review" if key.startswith("review-") else "approval",
            "pause": key,
            "tags": run.tags,
            "since": run.state.timestamp.isoformat() if run.state else None,
        }
        if as_json:
            typer.echo(json.dumps(row))
        else:
            typer.echo(
                f"{row['flow_run_id']}  {row['waiting_for']:<8} {key:<18} {run.name}  "
                f"{' '.join(run.tags)}"
            )
    if not runs and not as_json:
        err.print("no runs are waiting")


@app.command("sweep-expired")
def sweep_expired(
    grace_s: Annotated[
        float,
        typer.Option("--grace-s", min=0, help="Leave runs that expired less than this ago."),
    ] = 120.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per run.")] = False,
) -> None:
    """Audit approval waits that expired while suspended (no process was left to do it):
    one audit row and an `expired-<brief>` artifact per run, once. The approval-sweep
    deployment does this on a schedule."""
    from reelfactory.expiry import sweep

    settings = Settings()
    try:
        _api_ready(settings)
        written = sweep(settings, grace_s=grace_s)
    except ReelError as exc:
        raise fail(exc) from None
    for wait in written:
        row = {
            "flow_run_id": wait.flow_run_id,
            "brief_id": wait.brief_id,
            "step": wait.step,
            "timeout_s": wait.timeout_s,
            "expired_at": wait.expired_at.isoformat(),
        }
        if as_json:
            typer.echo(json.dumps(row))
        else:
            typer.echo(f"{wait.flow_run_id}  {wait.step:<14} {wait.brief_id}  expired, audited")
    if not written and not as_json:
        err.print("no expired waits left unaudited")


@app.command()
def approve(
    flow_run_id: Annotated[str, typer.Argument(help="The waiting run (see `reel approvals`).")],
    as_: Annotated[str, typer.Option("--as", help="Your email, as listed on the brand kit.")],
    reject: Reject = False,
    notes: Notes = "",
    changes: Annotated[
        str,
        typer.Option("--changes", help="Request changes: '2: slower push-in; 3: show the bag'."),
    ] = "",
) -> None:
    """Approve, --reject, or request --changes on a run waiting for brand approval, through
    the same API as the Prefect UI."""
    decision = "changes" if changes else "reject" if reject else "approve"
    _decide(flow_run_id, as_, decision, notes, review=False, changes=changes)


@app.command()
def review(
    flow_run_id: Annotated[str, typer.Argument(help="The waiting run (see `reel approvals`).")],
    as_: Annotated[str, typer.Option("--as", help="Your email, as listed on the brand kit.")],
    block: Annotated[
        bool, typer.Option("--block", help="Block the run instead of allowing.")
    ] = False,
    notes: Notes = "",
) -> None:
    """Clear (or --block) a run waiting for moderation review, as the Prefect UI does."""
    _decide(flow_run_id, as_, "block" if block else "allow", notes, review=True)


def _decide(
    flow_run_id: str, who: str, decision: str, notes: str, *, review: bool, changes: str = ""
) -> None:
    from uuid import UUID

    from reelfactory import orchestration as orch

    try:
        _api_ready(Settings())
        try:
            UUID(flow_run_id)
        except ValueError:
            raise ReelError(f"flow_run_id: not a flow run id {flow_run_id!r}") from None
        w = orch.Watched(orch.read_run(flow_run_id))
        if not orch.is_paused(w):
            raise ReelError(f"flow run {flow_run_id} is not waiting (it is {w.state_name})")
        if orch.is_review(w) != review:
            wanted = "reel review" if orch.is_review(w) else "reel approve"
            raise ReelError(f"flow run {flow_run_id} waits for {orch.pause_key(w)}: use `{wanted}`")
        key = orch.pause_key(w)
        if review:
            orch.resume_review(flow_run_id, reviewer=who, decision=decision, notes=notes)
        else:
            orch.resume(flow_run_id, approver=who, decision=decision, notes=notes, changes=changes)
        after = orch.wait_for(
            flow_run_id, lambda x: orch.paused_again(x, key), timeout_s=RENDER_TIMEOUT_S
        )
    except ReelError as exc:
        raise fail(exc) from None
    out: dict[str, str | None] = {
        "flow_run_id": flow_run_id,
        "state": after.state_name,
        "message": after.message,
    }
    refused = ""
    if orch.is_paused(after):
        out["waiting_for"] = orch.pause_key(after)
        refused = _last_refusal(flow_run_id, Settings())
        if refused:
            out["refused"] = refused
    typer.echo(json.dumps(out))
    if refused:
        err.print(f"[yellow]refused, the run is still waiting:[/] {refused}")
        raise typer.Exit(3)


@app.command("moderation-eval")
def moderation_eval(
    dataset: Annotated[
        Path | None,
        typer.Argument(
            help="JSONL of {text, expected, category[, brand]}; the shipped set if omitted."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Precision, recall and accuracy of the text layers, per category and overall."""
    from reelfactory.brand import brand_kit_by_id
    from reelfactory.moderation import TextModerator, text_moderator
    from reelfactory.moderation.dataset import DEFAULT_EVAL, Labelled, load_dataset
    from reelfactory.moderation.evaluate import evaluate, table

    settings = Settings()
    path = dataset or DEFAULT_EVAL
    moderators: dict[str | None, TextModerator] = {}

    def moderate_row(row: Labelled) -> ModerationReport:
        if row.brand not in moderators:
            kit = brand_kit_by_id(settings.brand_kits_dir, row.brand) if row.brand else None
            moderators[row.brand] = text_moderator(settings, kit)
        return moderators[row.brand].text(row.text)

    def progress(n: int, total: int) -> None:
        if n % 100 == 0 or n == total:
            err.print(f"  {n}/{total}")

    try:
        rows = load_dataset(path)
        err.print(f"evaluating {len(rows)} lines of {path}")
        started = time.monotonic()
        summary = evaluate(rows, moderate_row, progress)
    except ReelError as exc:
        raise fail(exc) from None
    summary["dataset"] = str(path)
    summary["seconds"] = round(time.monotonic() - started, 2)
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        typer.echo(table(summary))


def _result(flow_run_id: str, state_name: str, settings: Settings) -> dict[str, Any]:
    from reelfactory import db

    with db.session_for(settings.db_url) as session:
        rows = db.publications_for_run(session=session, flow_run_id=flow_run_id)
        video = db.video_for_run(session=session, flow_run_id=flow_run_id)
    out: dict[str, Any] = {"status": state_name.lower(), "flow_run_id": flow_run_id}
    if video is not None:  # what the run cost (renders, assembly, moderation), if it finished
        out["cost"] = {**video.cost.model_dump(mode="json"), "priced": video.priced}
    if state_name == "Completed" and rows:
        first = rows[0]
        out.update(
            status="published",
            uri=first.uri,
            captions_uri=first.captions_uri,
            sha256=first.sha256,
            duration_s=first.duration_s,
            width=first.width,
            height=first.height,
            link=first.link,
            version=first.version,
            manifest_key=first.manifest_key,
            already_published=first.already_published,
            cuts=[
                {
                    "aspect_ratio": r.aspect_ratio,
                    "uri": r.uri,
                    "captions_uri": r.captions_uri,
                    "width": r.width,
                    "height": r.height,
                }
                for r in rows
            ],
        )
    return out


def run_brief(
    brief_path: Path, *, approve_as: str | None, reject: bool, notes: str, serve: bool | None
) -> dict[str, Any]:
    """Pre-flight the brief, run it through the produce-video deployment, report the outcome."""
    from reelfactory import orchestration as orch
    from reelfactory.db import init_db
    from reelfactory.intake import load_brief, plan
    from reelfactory.stack import local_stack

    settings = Settings()
    brief = load_brief(brief_path)
    # Everything that can be refused is refused here, before a server or a renderer starts.
    p = plan(brief, settings)
    err.print(
        f"brief [bold]{brief.brief_id}[/]: {len(p.shot_list.shots)} shots, "
        f"{p.shot_list.duration_s:g} s, {', '.join(r.value for r in brief.aspect_ratios)}"
    )
    init_db(settings.db_url)

    with local_stack(settings, serve=serve) as stack:
        flow_run_id = orch.submit(brief)
        err.print(f"flow run: {stack.flow_run_url(flow_run_id)}")
        started = time.monotonic()

        def progress(w: orch.Watched) -> None:
            err.print(
                f"  [{time.monotonic() - started:6.1f} s] {w.state_name} {w.message}".rstrip()
            )

        reported: set[UUID] = set()

        def task_done(task_runs: list[TaskRun]) -> None:
            for t in task_runs:
                if t.id in reported:
                    continue
                reported.add(t.id)
                took = f" in {t.total_run_time.total_seconds():.1f} s" if t.total_run_time else ""
                elapsed = time.monotonic() - started
                err.print(f"  [{elapsed:6.1f} s]   {t.name}: {t.state_name}{took}")

        w = orch.wait_for(
            flow_run_id,
            orch.is_paused,
            timeout_s=RENDER_TIMEOUT_S,
            on_change=progress,
            on_tasks=task_done,
        )
        while orch.is_review(w):
            # --approve-as never clears a moderation review: a reviewer decides in the UI.
            err.print(
                f"[bold yellow]moderation is unsure[/]: waiting for a reviewer at "
                f"{stack.flow_run_url(flow_run_id)}"
            )
            w = orch.wait_for(
                flow_run_id,
                partial(orch.paused_again, previous_key=orch.pause_key(w)),
                timeout_s=settings.approval_timeout_s,
                on_change=progress,
                on_tasks=task_done,
            )
        if orch.is_paused(w) and approve_as:
            decision = "reject" if reject else "approve"
            err.print(f"resuming as {approve_as}: {decision}")
            key = orch.pause_key(w)
            orch.resume(flow_run_id, approver=approve_as, decision=decision, notes=notes)
            w = orch.wait_for(
                flow_run_id,
                lambda x: orch.paused_again(x, key),
                timeout_s=RENDER_TIMEOUT_S,
                on_change=progress,
                on_tasks=task_done,
            )
            if orch.is_paused(w):
                reason = _last_refusal(flow_run_id, settings)
                return {"status": "waiting", "flow_run_id": flow_run_id, "message": reason}
        elif orch.is_paused(w):
            err.print(f"[bold]waiting for a brand approver[/] at {stack.flow_run_url(flow_run_id)}")
            w = orch.wait_for(
                flow_run_id,
                orch.is_final,
                timeout_s=settings.approval_timeout_s,
                on_change=progress,
                on_tasks=task_done,
            )
    out = _result(flow_run_id, w.state_name, settings)
    if out["status"] != "published" and w.message:
        out["message"] = w.message
    return out


def _last_refusal(flow_run_id: str, settings: Settings) -> str:
    from reelfactory import db

    with db.session_for(settings.db_url) as session:
        rows = db.decisions_for_run(session=session, flow_run_id=flow_run_id)
    return rows[-1].reason if rows else ""


ApproveAs = Annotated[
    str | None, typer.Option("--approve-as", help="Resume the approval step as this approver.")
]
Reject = Annotated[bool, typer.Option("--reject", help="With --approve-as: reject instead.")]
Notes = Annotated[str, typer.Option("--notes", help="Approval notes for the audit trail.")]
Serve = Annotated[
    bool | None,
    typer.Option(
        "--serve/--no-serve", help="Serve the flows here (default: only with a local server)."
    ),
]
EXIT_CODES = {"published": 0, "rejected": 0, "waiting": 3, "blocked": 4}


def _run_and_report(
    path: Path, approve_as: str | None, reject: bool, notes: str, serve: bool | None
) -> None:
    logging.basicConfig(level=logging.WARNING)
    try:
        out = run_brief(path, approve_as=approve_as, reject=reject, notes=notes, serve=serve)
    except ReelError as exc:
        raise fail(exc) from None
    except (TimeoutError, RuntimeError) as exc:
        raise fail(exc, code=1) from None
    if out["status"] == "waiting":
        err.print(f"[yellow]approval refused, the run is still waiting:[/] {out['message']}")
    typer.echo(json.dumps(out))
    raise typer.Exit(EXIT_CODES.get(out["status"], 1))


@app.command()
def produce(
    brief_path: Annotated[Path, typer.Argument(help="Brief YAML file.")],
    approve_as: ApproveAs = None,
    reject: Reject = False,
    notes: Notes = "",
    serve: Serve = None,
) -> None:
    """Run a brief through the whole lane: expand, moderate, render, approve, publish."""
    _run_and_report(brief_path, approve_as, reject, notes, serve)


@app.command()
def demo(approve_as: ApproveAs = None, reject: Reject = False, notes: Notes = "") -> None:
    """Run the first example brief on the embedded defaults (local Prefect, local publish)."""
    err.print(f"demo brief: {DEMO_BRIEF.relative_to(PROJECT_ROOT)}")
    _run_and_report(DEMO_BRIEF, approve_as, reject, notes or "approved from reel demo", None)


@app.command()
def up(
    web: Annotated[bool, typer.Option(help="Also serve the web app (the brief form).")] = True,
) -> None:
    """Start the local stack (Prefect server + UI, served flows, web app) until Ctrl-C."""
    import threading

    from reelfactory.db import init_db
    from reelfactory.stack import local_stack

    settings = Settings()
    init_db(settings.db_url)
    err.print("starting the Prefect server and the served flows…")
    with local_stack(settings, serve=True) as stack:
        err.print(f"Prefect UI:  {stack.ui_url}")
        err.print(f"Prefect API: {stack.api_url}")
        err.print("deployment:  produce-video/produce-video  (Ctrl-C to stop)")
        if web:
            from reelfactory.web.app import create_app, serve

            settings.prefect_ui_url = settings.prefect_ui_url or stack.ui_url
            web_app = create_app(settings)  # here: it binds to this stack's Prefect API
            err.print(f"web app:     http://{settings.web_host}:{settings.web_port}/")
            threading.Thread(
                target=serve, args=(settings,), kwargs={"app": web_app}, daemon=True
            ).start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            err.print("stopping…")


@app.command()
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Check this installation: Prefect API, database, asset store, S3, work pools and
    limits, GPU, fonts, ffmpeg. Each line says ok or what to fix; exit 1 if any failed."""
    from reelfactory.doctor import diagnose

    checks = diagnose(Settings())
    for check in checks:
        err.print(check.line(), markup=False)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": all(c.ok for c in checks),
                    "checks": [
                        {"name": c.name, "outcome": c.outcome, "detail": c.detail} for c in checks
                    ],
                }
            )
        )
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@app.command("web")
def web_app(
    host: Annotated[str | None, typer.Option(help="Default: REEL_WEB_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: REEL_WEB_PORT.")] = None,
) -> None:
    """Serve the web app alone, against the Prefect API in PREFECT_API_URL."""
    from reelfactory.web.app import serve

    serve(Settings(), host=host, port=port)


@infra_app.command("init")
def infra_init(
    gpu_limit: Annotated[
        list[str] | None,
        typer.Option(
            "--gpu-limit",
            help="A GPU slot: a global concurrency limit of 1 (repeatable, one per GPU). "
            "Default: REEL_GPU_CONCURRENCY_LIMIT, if set.",
        ),
    ] = None,
    kubernetes: Annotated[
        bool,
        typer.Option(
            "--kubernetes",
            help="Make the gpu pool a Kubernetes pool with infra/k8s/gpu-job-template.json.",
        ),
    ] = False,
    skip_db: Annotated[
        bool, typer.Option("--skip-db", help="Leave reelfactory's database as it is.")
    ] = False,
) -> None:
    """Create the work pools cpu and gpu, the GPU concurrency limits, and reelfactory's
    database schema, where missing. Existing ones are left as they are: safe to run again."""
    from reelfactory import infra

    settings = Settings()
    limits = gpu_limit or (
        [settings.gpu_concurrency_limit] if settings.gpu_concurrency_limit else []
    )
    try:
        _api_ready(settings)
        steps = infra.init(
            limits, kubernetes=kubernetes, storage=infra.result_storage_for(settings)
        )
    except ReelError as exc:
        raise fail(exc) from None
    for step in steps:
        err.print(step.line(), markup=False)
    if not skip_db:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import SQLAlchemyError

        from reelfactory.db import init_db

        shown = make_url(settings.db_url).render_as_string(hide_password=True)
        try:
            init_db(settings.db_url).dispose()
        except SQLAlchemyError as exc:
            raise fail(ReelError(f"database {shown}: {exc}")) from None
        err.print(f"database {shown}: at the newest migration", markup=False)
    created = [s for s in steps if s.outcome == "create"]
    differs = [s for s in steps if s.outcome == "differs"]
    if not created and not differs:
        err.print("nothing to create: every pool, limit and result storage exists")
    typer.echo(json.dumps({"ok": not differs, "steps": [s.as_json() for s in steps]}))
    if differs:
        raise typer.Exit(1)


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="The user's email (their login).")],
    role: Annotated[
        list[str], typer.Option("--role", help="submitter, approver or admin (repeatable).")
    ],
    brand: Annotated[
        list[str], typer.Option("--brand", help="Brand kit id, or '*' for all (repeatable).")
    ],
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from stdin instead of asking.")
    ] = False,
    sso_only: Annotated[bool, typer.Option(help="No password: sign-in via the SSO proxy.")] = False,
) -> None:
    """Create a user (or add roles to one) with each --role on each --brand."""
    import sys

    from reelfactory.accounts import ANY_BRAND, Role, add_user
    from reelfactory.brand import list_brand_ids
    from reelfactory.db import init_db, session_for

    settings = Settings()
    try:
        roles = [Role(r) for r in role]
    except ValueError:
        raise fail(ValueError(f"--role: one of {[r.value for r in Role]} (got {role!r})")) from None
    known = list_brand_ids(settings.brand_kits_dir)
    unknown = [b for b in brand if b != ANY_BRAND and b not in known]
    if unknown:
        raise fail(ValueError(f"--brand: no brand kit {unknown} (known: {known})"))
    password: str | None = None
    if not sso_only:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    init_db(settings.db_url)
    with session_for(settings.db_url) as session:
        try:
            user = add_user(
                session, email, password=password, grants=[(r, b) for r in roles for b in brand]
            )
        except InputError as exc:
            raise fail(exc) from None
    grants = ", ".join(f"{r.value}@{b}" for r, b in sorted(user.grants))
    err.print(f"user {user.email}: {grants}")


@users_app.command("list")
def users_list() -> None:
    """Every user and their roles, as JSON lines."""
    from reelfactory.accounts import list_users
    from reelfactory.db import init_db, session_for

    settings = Settings()
    init_db(settings.db_url)
    with session_for(settings.db_url) as session:
        for user in list_users(session):
            grants = [{"role": r.value, "brand": b} for r, b in sorted(user.grants)]
            typer.echo(json.dumps({"email": user.email, "grants": grants}))


@users_app.command("token")
def users_token(
    email: Annotated[str, typer.Argument(help="Whose token.")],
    label: Annotated[str, typer.Option(help="What it is for, e.g. the tool's name.")] = "",
) -> None:
    """Make an API token (Authorization: Bearer ...). It is printed once, never stored."""
    from reelfactory.accounts import new_api_token, user_by_email
    from reelfactory.db import init_db, session_for

    settings = Settings()
    init_db(settings.db_url)
    with session_for(settings.db_url) as session:
        user = user_by_email(session, email)
        if user is None:
            raise fail(ValueError(f"email: no such user {email!r} (reel users add first)"))
        typer.echo(new_api_token(session, user, label))


@app.command()
def published(
    brand: Annotated[str | None, typer.Option("--brand", help="Only this brand.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List publications recorded in the database, newest first."""
    from rich.table import Table

    from reelfactory import db

    settings = Settings()
    db.init_db(settings.db_url)
    with db.session_for(settings.db_url) as session:
        rows = db.publications(session=session, brand=brand, limit=limit)
    if as_json:
        for row in rows:
            typer.echo(row.model_dump_json(exclude={"id"}))
        return
    table = Table(title=f"publications{f' of {brand}' if brand else ''}", show_lines=False)
    for column in ("published", "brief", "v", "ratio", "uri", "sha256"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            f"{row.published_at:%Y-%m-%d %H:%M}",
            row.brief_id,
            str(row.version),
            row.aspect_ratio,
            row.uri,
            row.sha256[:12],
        )
    Console(highlight=False).print(table)


@app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="A video file, e.g. a published cut.")],
    json_out: Annotated[bool, typer.Option("--json", help="Only the JSON line.")] = False,
) -> None:
    """Read a video's C2PA manifest back: trusted, valid (signature fine, signer not in the
    trust anchors), invalid (tampered or broken), or missing. Exit 0 for trusted or valid."""
    from reelfactory.provenance import ProvenanceError, trust_anchors, verify_video

    settings = Settings()
    if not file.is_file():
        raise fail(InputError("verify", [f"FILE: no such file {str(file)!r}"]), code=2)
    try:
        result = verify_video(file, trust_anchors_pem=trust_anchors(settings))
    except ProvenanceError as exc:
        raise fail(exc, code=1) from None
    if not json_out:
        colour = {"trusted": "green", "valid": "yellow"}.get(result.state, "red")
        err.print(f"[{colour}]{result.state}[/] {file}")
        if result.signer:
            err.print(f"  signed by {result.signer}")
        for problem in result.errors:
            err.print(f"  [red]✗[/] {problem}")
    typer.echo(
        json.dumps(
            {
                "file": str(file),
                "state": result.state,
                "errors": result.errors,
                "signer": result.signer,
                "title": result.title,
                "digital_source_type": result.digital_source_type,
                "production": result.production,
            }
        )
    )
    raise typer.Exit(0 if result.state in ("trusted", "valid") else 1)


@app.command("verify-publication")
def verify_publication(
    key: Annotated[str, typer.Argument(help="A published key: the manifest or any file of it.")],
) -> None:
    """Re-download a published version and check every file against its manifest."""
    from reelfactory.provenance import trust_anchors
    from reelfactory.publish import MANIFEST, PublishError, target_for, verify_version

    settings = Settings()
    manifest_key = key if key.endswith(f"/{MANIFEST}") else f"{key.rsplit('/', 1)[0]}/{MANIFEST}"
    target = target_for(settings)
    try:
        result = verify_version(target, manifest_key, trust_anchors_pem=trust_anchors(settings))
    except PublishError as exc:
        raise fail(exc, code=1) from None
    for problem in result.problems:
        err.print(f"[red]✗[/] {problem}")
    if result.ok:
        err.print(f"[green]✓[/] every file of {target.uri(manifest_key)} matches its manifest")
    typer.echo(
        json.dumps(
            {
                "manifest": target.uri(manifest_key),
                "ok": result.ok,
                "problems": result.problems,
                "files": len(result.manifest.files) if result.manifest else 0,
                "c2pa": result.manifest.c2pa if result.manifest else None,
            }
        )
    )
    raise typer.Exit(0 if result.ok else 1)


def main() -> None:
    app()
