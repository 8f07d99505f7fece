"""The `reel` command's refusals: one clear error naming field and value, before any work."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from reelfactory.cli import app
from reelfactory.models import AspectRatio, Publication, ShotList
from reelfactory.settings import PROJECT_ROOT
from tests.conftest import EXAMPLE_BRIEF, brief_data

EXAMPLES = PROJECT_ROOT / "examples" / "briefs"


@pytest.fixture
def runner(tmp_path: Path) -> CliRunner:
    return CliRunner(env={"REEL_DATA_DIR": str(tmp_path / "data"), "PREFECT_API_URL": None})


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"brand": "acme-anvils"}, "brand: unknown brand kit 'acme-anvils'"),
        ({"format": "opera-3h"}, "format: unknown template 'opera-3h'"),
        (
            {"duration_s": 45},
            "duration_s: 45 s does not fit 'social-teaser-15', which supports 6-30 s",
        ),
        ({"duration_s": -3}, "duration_s: Input should be greater than 0 (got -3)"),
        ({"message": ""}, "message: String should have at least 1 character (got '')"),
        ({"message": None}, "message: required field is missing"),
        (
            {"message": "Miracle beans, guaranteed!"},
            "brief.message at 0-7: block brand-rules 'miracle'",
        ),
        ({"audience": "fans of gore"}, "brief.audience at 8-12: block violence 'gore'"),
        (
            {"aspect_ratios": ["4:3"]},
            "aspect_ratios.0: Input should be '16:9', '9:16' or '1:1' (got '4:3')",
        ),
    ],
)
def test_bad_briefs_stop_before_any_work(
    runner: CliRunner, tmp_path: Path, overrides: dict[str, object], expected: str
) -> None:
    data = brief_data(**overrides)
    path = tmp_path / "brief.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in data.items() if v is not None}))
    result = runner.invoke(
        app, ["produce", str(path), "--approve-as", "maya.chen@aurora-coffee.example"]
    )
    assert result.exit_code == 2, result.output
    assert expected in result.output
    # Refused before anything started: no Prefect server, no database, no renders.
    assert not (tmp_path / "data").exists()


def test_missing_brief_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["produce", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml: file not found" in result.output


def test_expand_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["expand", str(EXAMPLE_BRIEF), "--json"])
    assert result.exit_code == 0, result.output
    shots = ShotList.model_validate_json(result.stdout)
    assert shots.total_frames + shots.edit_frames == 15 * shots.fps  # cards, crossfades
    assert shots.expander == "template"


def test_expand_localised_explainer(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["expand", str(EXAMPLES / "aurora-coffee-pour-over-training.yaml"), "--json"]
    )
    assert result.exit_code == 0, result.output
    shots = ShotList.model_validate_json(result.stdout)
    assert [s.name for s in shots.shots] == ["title", "step-1", "step-2", "step-3", "recap"]
    assert shots.languages == ["en", "de"]
    assert shots.shots[1].localized["de"].caption == "18 g Sunrise Blend mittelfein mahlen"
    assert shots.shots[0].voice_over == "Welcome to the Aurora pour-over."


def test_expand_table_with_ratio(tmp_path: Path) -> None:
    wide = CliRunner(env={"REEL_DATA_DIR": str(tmp_path), "COLUMNS": "1000"})
    result = wide.invoke(app, ["expand", str(EXAMPLE_BRIEF), "--ratio", "9:16"])
    assert result.exit_code == 0, result.output
    assert "social-teaser-15" in result.stdout and "prompt (9:16)" in result.stdout
    rows = [line for line in result.stdout.splitlines() if "Framing for 9:16: vertical" in line]
    assert len(rows) == 3  # one row per shot, each framed for 9:16
    assert "moderation: allow" in result.output


def test_expand_shows_a_review_with_its_reasons(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "brief.yaml"
    path.write_text(yaml.safe_dump(brief_data(message="Sunrise Blend boosts metabolism")))
    result = runner.invoke(app, ["expand", str(path)])
    assert result.exit_code == 0, result.output
    assert "moderation: review" in result.output
    assert "claim 'boosts metabolism' without disclaimer" in result.output


def test_expand_with_another_format_checks_its_durations(runner: CliRunner) -> None:
    result = runner.invoke(app, ["expand", str(EXAMPLE_BRIEF), "--format", "product-spot-30"])
    assert result.exit_code == 2
    assert (
        "duration_s: 15 s does not fit 'product-spot-30', which supports 20-45 s" in result.output
    )
    bad_ratio = runner.invoke(app, ["expand", str(EXAMPLE_BRIEF), "--ratio", "4:5"])
    assert bad_ratio.exit_code == 2
    assert "--ratio: unsupported aspect ratio '4:5' (use 16:9, 9:16, 1:1)" in bad_ratio.output


def test_brand_kits_validate(runner: CliRunner, kits_copy: Path) -> None:
    ok = runner.invoke(app, ["brand-kits", "validate"])
    assert ok.exit_code == 0 and "aurora-coffee" in ok.output and "kestrel-bikes" in ok.output
    (kits_copy / "kestrel-bikes" / "kit.yaml").write_text(
        (kits_copy / "kestrel-bikes" / "kit.yaml").read_text().replace('"#ffcc00"', '"yellow"')
    )
    bad = runner.invoke(app, ["brand-kits", "validate", str(kits_copy / "kestrel-bikes")])
    assert bad.exit_code == 2
    assert "palette.accent: not a #rrggbb colour: 'yellow'" in bad.output


def test_published_lists_rows_and_verify_checks_files(tmp_path: Path) -> None:
    from reelfactory import db
    from reelfactory.publish import LocalTarget, publish_version
    from reelfactory.settings import Settings
    from tests.test_publish import plan_for

    settings = Settings(data_dir=tmp_path / "data")
    plan = plan_for(tmp_path / "cuts")
    publish_version(
        LocalTarget(settings.local_publish_dir), plan.uploads, plan.manifest, plan.manifest_key
    )
    db.init_db(settings.db_url)
    video = plan.manifest.files[-1]
    with db.session_for(settings.db_url) as session:
        db.record_publication(
            session=session,
            publication=Publication(
                brief_id="test-brief",
                brand="aurora-coffee",
                campaign="adhoc",
                flow_run_id="run-1",
                aspect_ratio=AspectRatio.LANDSCAPE,
                bucket="local",
                key=video.key,
                uri="file:///x",
                captions_key=plan.uploads[0].key,
                captions_uri="file:///y",
                manifest_key=plan.manifest_key,
                sha256=video.sha256,
                size=video.size,
                duration_s=1.0,
                width=64,
                height=36,
                link="file:///x",
            ),
            at=datetime.now(UTC),
        )
    runner = CliRunner(env={"REEL_DATA_DIR": str(tmp_path / "data")})
    listed = runner.invoke(app, ["published", "--brand", "aurora-coffee", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (row["key"], row["manifest_key"]) == (video.key, plan.manifest_key)
    other = runner.invoke(app, ["published", "--brand", "kestrel-bikes", "--json"])
    assert other.stdout.strip() == ""

    ok = runner.invoke(app, ["verify-publication", video.key])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout.splitlines()[-1])["ok"] is True
    (settings.local_publish_dir / video.key).write_bytes(b"tampered")
    bad = runner.invoke(app, ["verify-publication", plan.manifest_key])
    assert bad.exit_code == 1
    assert json.loads(bad.stdout.splitlines()[-1])["problems"][0].startswith(video.key)


def test_approval_commands_need_a_prefect_api(runner: CliRunner) -> None:
    env = {"PREFECT_API_URL": "http://127.0.0.1:9/api"}  # nothing listens on port 9
    for args in (
        ["approvals"],
        ["approve", "x", "--as", "a@b.example"],
        ["review", "x", "--as", "a@b.example"],
    ):
        result = CliRunner(env=env).invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "no Prefect API at http://127.0.0.1:9/api" in result.output


def test_models_lists_the_registry_and_names_a_broken_one(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert sorted(listed) == ["cogvideox-2b", "ltx-video", "wan2.1-t2v-1.3b"]
    assert listed["ltx-video"]["frames"] == {"min": 9, "max": 257, "step": 8}

    extra = tmp_path / "models.yaml"
    extra.write_text("models:\n  house: {pipeline: LTXPipeline, source: ./w, steps: -1}\n")
    broken = CliRunner(env={"REEL_DATA_DIR": str(tmp_path), "REEL_MODEL_REGISTRY": str(extra)})
    result = broken.invoke(app, ["models"])
    assert result.exit_code == 2
    assert "models.house.steps" in result.output and "models.house.fps" in result.output
