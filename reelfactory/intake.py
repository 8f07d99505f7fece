"""Briefs in: read, validate and check a brief before anything is rendered."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reelfactory.brand import brand_kit_by_id, read_yaml
from reelfactory.errors import InputError, ModerationBlocked, problems_from
from reelfactory.expand import expand, load_format
from reelfactory.models import BrandKit, Brief, ModerationReport, ShotList, Verdict
from reelfactory.moderation import moderate_brief, moderate_shots


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


def plan(brief: Brief, *, brand_kits_dir: Path, templates_dir: Path) -> Plan:
    """Resolve the kit and template, expand, moderate; raise on anything that must stop.

    Raises:
        InputError: unknown brand or format, or a duration the format cannot take.
        ModerationBlocked: the brief or a shot hit a blocklist.
    """
    kit = brand_kit_by_id(brand_kits_dir, brief.brand)
    brief_report = moderate_brief(brief, kit)
    raise_if_blocked(brief_report)
    fmt = load_format(templates_dir, brief.format)
    shot_list = expand(brief, kit, fmt)
    report = moderate_shots(shot_list, kit, prior=brief_report)
    raise_if_blocked(report)
    return Plan(brief=brief, kit=kit, shot_list=shot_list, report=report)


def raise_if_blocked(report: ModerationReport) -> None:
    if report.verdict is Verdict.BLOCK:
        lines = "\n".join(f"  - {f.describe()}" for f in report.findings)
        raise ModerationBlocked(f"{report.subject} blocked by moderation:\n{lines}")
