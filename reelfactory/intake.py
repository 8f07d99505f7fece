"""Briefs in: read, validate and check a brief before anything is rendered."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reelfactory.brand import brand_kit_by_id, read_yaml
from reelfactory.errors import InputError, ModerationBlocked, problems_from
from reelfactory.expand import Expander, expand
from reelfactory.formats import load_format
from reelfactory.models import BrandKit, Brief, ModerationReport, ShotList, Verdict
from reelfactory.moderation import text_moderator
from reelfactory.render import clip_limits, render_size
from reelfactory.settings import Settings


def parse_brief(data: dict[str, Any], source: str = "brief") -> Brief:
    try:
        return Brief.model_validate(data)
    except ValidationError as exc:
        raise InputError(source, problems_from(exc)) from None


def load_brief(path: Path) -> Brief:
    return parse_brief(read_yaml(path), source=str(path))


@dataclass(frozen=True)
class Plan:
    """Everything decided about a brief before any pixel is rendered."""

    brief: Brief
    kit: BrandKit
    shot_list: ShotList
    report: ModerationReport


def plan(brief: Brief, settings: Settings, *, expander: Expander | None = None) -> Plan:
    """Resolve the kit and template, expand (with rewriting), moderate; raise on a stop.

    Args:
        expander: who writes the shot directions; by default the one ``settings`` names.

    Raises:
        InputError: unknown brand or format, or copy, a duration or steps the format cannot take.
        ModerationBlocked: the brief or a shot was blocked by moderation. A ``review``
            verdict does not raise: the plan carries it and the flow asks a human.
    """
    kit = brand_kit_by_id(settings.brand_kits_dir, brief.brand)
    moderator = text_moderator(settings, kit)
    brief_report = moderator.brief(brief)
    raise_if_blocked(brief_report)
    shot_list = shape(brief, kit, settings, expander=expander)
    report = brief_report.merged(moderator.shots(shot_list))
    raise_if_blocked(report)
    return Plan(brief=brief, kit=kit, shot_list=shot_list, report=report)


def shape(
    brief: Brief, kit: BrandKit, settings: Settings, *, expander: Expander | None = None
) -> ShotList:
    """The shot list, after every check of the brief's shape against its format and the
    renderer: durations, frame counts, steps, voice-over roles, aspect ratios. No moderation.

    Raises:
        InputError: naming the field and the value that does not fit.
    """
    fmt = load_format(settings.templates_dir, brief.format)
    if expander is None:
        from reelfactory.llm import expander_for

        expander = expander_for(settings)
    shot_list = expand(
        brief,
        kit,
        fmt,
        limits=clip_limits(settings.renderer, fmt.timing.fps, settings.model_registry),
        expander=expander,
    )
    for ratio in brief.aspect_ratios:  # a model that cannot make a ratio fails here, not on a GPU
        render_size(settings.renderer, ratio, settings.render_short_edge, settings.model_registry)
    return shot_list


def raise_if_blocked(report: ModerationReport) -> None:
    if report.verdict is Verdict.BLOCK:
        lines = "\n".join(
            f"  - {f.describe()}" for f in report.findings if f.verdict is Verdict.BLOCK
        )
        raise ModerationBlocked(f"{report.subject} blocked by moderation:\n{lines}", report)


def shot_list_rows(shot_list: ShotList) -> list[dict[str, str | int | float]]:
    """One row per shot, for tables (the Prefect artifact, the CLI). Pure."""
    rows: list[dict[str, str | int | float]] = []
    start = 0
    for shot in shot_list.shots:
        rows.append(
            {
                "shot": shot.index + 1,
                "name": shot.name,
                "start_s": round(start / shot_list.fps, 3),
                "duration_s": round(shot.duration_s, 3),
                "frames": shot.frames,
                "caption": shot.caption,
                "voice_over": shot.voice_over,
                "prompt": shot.prompt,
                "negative_prompt": shot.negative_prompt,
                "seed": shot.seed,
            }
        )
        start += shot.frames
    return rows
