"""Load and validate brand kits: ``brand_kits/<id>/kit.yaml`` plus its logo and font."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from reelfactory.errors import InputError, problems_from
from reelfactory.models import BrandKit

KIT_FILE = "kit.yaml"
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
FONT_SUFFIXES = (".ttf", ".otf")


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, reporting syntax errors with the file name."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(str(path), ["file not found"]) from None
    except yaml.YAMLError as exc:
        raise InputError(str(path), [f"not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise InputError(
            str(path), [f"expected a mapping at the top level, got {type(data).__name__}"]
        )
    return data


def find_font(name: str, kit_root: Path) -> Path | None:
    """Resolve a kit's font: a path inside the kit, or a family name such as 'DejaVu Sans'."""
    candidate = kit_root / name
    if candidate.suffix.lower() in FONT_SUFFIXES:
        return candidate if candidate.is_file() else None
    wanted = name.replace(" ", "").lower()
    for root in FONT_DIRS:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() in FONT_SUFFIXES and path.stem.lower() == wanted:
                return path
    return None


def load_brand_kit(path: Path) -> BrandKit:
    """Load one kit from its folder or its kit.yaml; errors name the file, field and value."""
    kit_file = path / KIT_FILE if path.is_dir() else path
    root = kit_file.parent
    data = read_yaml(kit_file)
    problems: list[str] = []

    font_name = data.get("font")
    if isinstance(font_name, str):
        font = find_font(font_name, root)
        if font is None:
            problems.append(f"font: no font file or installed family named {font_name!r}")
        data["font"] = font or root / font_name
    logo = data.get("logo")
    if isinstance(logo, str):
        data["logo"] = root / logo
        if not data["logo"].is_file():
            problems.append(f"logo: file not found {logo!r}")
    edit = data.get("edit")
    music = edit.get("music") if isinstance(edit, dict) else None
    if isinstance(music, dict) and isinstance(music.get("file"), str):
        name = music["file"]
        music["file"] = root / name
        if not music["file"].is_file():
            problems.append(f"edit.music.file: file not found {name!r}")
    if "id" in data and data["id"] != root.name and path.is_dir():
        problems.append(f"id: must match the folder name {root.name!r} (got {data['id']!r})")
    data["root"] = root

    try:
        kit = BrandKit.model_validate(data)
    except ValidationError as exc:
        raise InputError(str(kit_file), problems_from(exc) + problems) from None
    if problems:
        raise InputError(str(kit_file), problems)
    return kit


def brand_kit_by_id(kits_dir: Path, brand: str) -> BrandKit:
    """Find the kit a brief names."""
    folder = kits_dir / brand
    if not (folder / KIT_FILE).is_file():
        known = ", ".join(list_brand_ids(kits_dir)) or "none"
        raise InputError("brief", [f"brand: unknown brand kit {brand!r} (known: {known})"])
    return load_brand_kit(folder)


def list_brand_ids(kits_dir: Path) -> list[str]:
    return sorted(p.parent.name for p in kits_dir.glob(f"*/{KIT_FILE}"))
