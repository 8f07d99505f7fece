from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reelfactory.brand import brand_kit_by_id, list_brand_ids, load_brand_kit
from reelfactory.errors import InputError
from reelfactory.settings import PROJECT_ROOT


def test_example_kits_load() -> None:
    ids = list_brand_ids(PROJECT_ROOT / "brand_kits")
    assert len(ids) >= 2
    for brand in ids:
        kit = brand_kit_by_id(PROJECT_ROOT / "brand_kits", brand)
        assert kit.font.is_file() and kit.logo.is_file()
        assert kit.approvers and kit.tone_words


def edit_kit(kits: Path, brand: str, **changes: object) -> Path:
    path = kits / brand / "kit.yaml"
    data = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {
                "palette": {
                    "primary": "brown",
                    "secondary": "#ffffff",
                    "accent": "#ffffff",
                    "background": "#000000",
                    "text": "#ffffff",
                }
            },
            "palette.primary: not a #rrggbb colour: 'brown'",
        ),
        ({"approvers": ["not-an-email"]}, "approvers.0: not an email address: 'not-an-email'"),
        ({"approvers": None}, "approvers: required field is missing"),
        ({"logo": "missing.png"}, "logo: file not found 'missing.png'"),
        ({"font": "No Such Font"}, "font: no font file or installed family named 'No Such Font'"),
        ({"id": "someone-else"}, "id: must match the folder name 'aurora-coffee'"),
        ({"tone_words": []}, "tone_words: List should have at least 1 item"),
    ],
)
def test_kit_errors_name_file_field_and_value(
    kits_copy: Path, changes: dict[str, object], expected: str
) -> None:
    path = edit_kit(kits_copy, "aurora-coffee", **changes)
    with pytest.raises(InputError) as info:
        load_brand_kit(kits_copy / "aurora-coffee")
    message = str(info.value)
    assert str(path) in message
    assert expected in message


def test_kit_yaml_syntax_error_names_the_file(kits_copy: Path) -> None:
    path = kits_copy / "aurora-coffee" / "kit.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML") as info:
        load_brand_kit(path)
    assert str(path) in str(info.value)


def test_unknown_brand_lists_known_ones() -> None:
    with pytest.raises(InputError) as info:
        brand_kit_by_id(PROJECT_ROOT / "brand_kits", "acme-anvils")
    assert "brand: unknown brand kit 'acme-anvils'" in str(info.value)
    assert "aurora-coffee" in str(info.value)
