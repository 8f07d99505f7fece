"""Golden shot lists: the three formats with the two example brand kits.

A change to a template, a kit or the expansion shows up here as a readable JSON diff.
After an intended change, regenerate and review the diff before committing it:
``UPDATE_GOLDEN=1 make test PYTEST_ARGS=tests/test_golden.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from reelfactory.brand import load_brand_kit
from reelfactory.models import Brief
from reelfactory.settings import PROJECT_ROOT
from tests.conftest import shot_list_for

GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = PROJECT_ROOT / "examples" / "briefs"
BASE_BRIEF = {
    "aurora-coffee": EXAMPLES / "aurora-coffee-launch.yaml",
    "kestrel-bikes": EXAMPLES / "kestrel-bikes-commute.yaml",
}
STEPS = {
    "aurora-coffee": ["Weigh the beans", "Grind medium-fine", "Pour in slow circles"],
    "kestrel-bikes": ["Unlock the hinge", "Fold the frame", "Lift by the saddle", "Roll it along"],
}
DURATION = {"social-teaser-15": 15, "product-spot-30": 30, "training-explainer-60": 60}


@pytest.mark.parametrize("fmt", sorted(DURATION))
@pytest.mark.parametrize("brand", sorted(BASE_BRIEF))
def test_golden_shot_list(brand: str, fmt: str) -> None:
    data = yaml.safe_load(BASE_BRIEF[brand].read_text())
    data.update(id=f"golden-{brand}-{fmt}", format=fmt, duration_s=DURATION[fmt])
    if fmt == "training-explainer-60":
        data["steps"] = STEPS[brand]
    kit = load_brand_kit(PROJECT_ROOT / "brand_kits" / brand)
    got = shot_list_for(Brief.model_validate(data), kit).model_dump(mode="json")
    path = GOLDEN / f"{brand}--{fmt}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    assert path.is_file(), f"no golden file {path.name}: run with UPDATE_GOLDEN=1 and review it"
    assert got == json.loads(path.read_text())
