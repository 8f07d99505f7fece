"""Campaign specs: matrix expansion, override precedence, stable brief ids, errors that name
the variant, cron checks, the cost estimate, and `reel campaign validate`."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from reelfactory.campaign import (
    Budget,
    Campaign,
    check_cron,
    estimate,
    load_campaign,
    parse_campaign,
    variant_key,
    variants,
)
from reelfactory.cli import app
from reelfactory.cost import Prices
from reelfactory.errors import InputError
from reelfactory.models import AspectRatio, Brief
from reelfactory.settings import PROJECT_ROOT
from tests.conftest import brief_data

EXAMPLE = PROJECT_ROOT / "examples" / "campaigns" / "aurora-spring.yaml"
MARKETS = ["en", "de"]
PRODUCTS = ["sunrise-blend", "pour-over"]
FORMATS = ["social-teaser-15", "product-spot-30"]
RATIOS = ["16x9", "9x16-1x1"]


def example_data() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def small(**changes: Any) -> dict[str, Any]:
    """A two-market, two-product campaign, one format and one ratio set."""
    data: dict[str, Any] = {
        "id": "test-campaign",
        "brand": "aurora-coffee",
        "base": {
            "title": "Base title",
            "message": "Base message",
            "audience": "Home brewers",
            "call_to_action": "Base CTA",
            "duration_s": 15,
            "submitted_by": "jordan.pike@aurora-coffee.example",
        },
        "matrix": {
            "markets": [{"id": "en", "language": "en"}, {"id": "fr", "language": "fr"}],
            "products": [{"id": "p1"}, {"id": "p2"}],
        },
    }
    data.update(changes)
    return data


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(InputError) as caught:
        variants(parse_campaign(data))
    return caught.value.problems


# --------------------------------------------------------------------------- expansion


def test_example_expands_to_the_cross_product_in_spec_order() -> None:
    out = variants(load_campaign(EXAMPLE))
    assert [v.key for v in out] == [
        f"{m}/{p}/{f}/{r}" for m in MARKETS for p in PRODUCTS for f in FORMATS for r in RATIOS
    ]
    assert sum(len(v.brief.aspect_ratios) for v in out) == 24
    for v in out:
        assert v.brief.campaign == "aurora-spring"
        assert v.brief.brand == "aurora-coffee"
        assert v.brief.format == v.format == v.key.split("/")[2]
        assert tuple(v.brief.aspect_ratios) == v.aspect_ratios
    de = [v for v in out if v.market == "de"]
    assert {tuple(v.brief.languages) for v in de} == {("de", "en")}
    assert {v.brief.translations["de"].title for v in de} == {
        "Sunrise Blend ist da",
        "Der Aurora-Pour-over für zu Hause",
    }
    assert {v.brief.duration_s for v in out if v.format == "product-spot-30"} == {30}
    assert {v.brief.duration_s for v in out if v.format == "social-teaser-15"} == {15}


def test_a_missing_axis_is_one_value_from_the_base() -> None:
    data = small(matrix={})
    data["base"].update(format="product-spot-30", aspect_ratios=["9:16", "1:1"], duration_s=30)
    (only,) = variants(parse_campaign(data))
    assert only.key == "base/base/product-spot-30/9x16-1x1"
    assert only.market is None and only.product is None
    assert only.brief.format == "product-spot-30"
    assert only.brief.aspect_ratios == [AspectRatio.PORTRAIT, AspectRatio.SQUARE]

    p2 = {"id": "p2", "overrides": {"title": "P2"}}
    bare = small(matrix={"products": [{"id": "p1"}, p2]})
    keys = [v.key for v in variants(parse_campaign(bare))]
    assert keys == ["base/p1/social-teaser-15/16x9", "base/p2/social-teaser-15/16x9"]


def test_keys_are_slug_parts() -> None:
    key = variant_key("de", None, "social-teaser-15", [AspectRatio.PORTRAIT, AspectRatio.SQUARE])
    assert key == "de/base/social-teaser-15/9x16-1x1"
    for part in key.split("/"):
        assert part.replace("-", "").isalnum() and part == part.lower()


def test_axis_overrides_then_match_overrides_later_wins() -> None:
    data = small(
        overrides=[
            {"match": {"market": "fr"}, "set": {"call_to_action": "Match one"}},
            {"match": {"product": "p1"}, "set": {"call_to_action": "Match two"}},
        ]
    )
    data["matrix"]["markets"][1]["overrides"] = {"title": "Market title", "message": "Market msg"}
    data["matrix"]["products"][0]["overrides"] = {"message": "Product msg"}
    by_key = {v.key: v.brief for v in variants(parse_campaign(data))}
    en_p1, en_p2 = by_key["en/p1/social-teaser-15/16x9"], by_key["en/p2/social-teaser-15/16x9"]
    fr_p1, fr_p2 = by_key["fr/p1/social-teaser-15/16x9"], by_key["fr/p2/social-teaser-15/16x9"]
    # the market's overrides beat the base, the product's beat the market's
    assert (fr_p2.title, fr_p2.message) == ("Market title", "Market msg")
    assert (fr_p1.title, fr_p1.message) == ("Market title", "Product msg")
    assert (en_p1.title, en_p1.message) == ("Base title", "Product msg")
    assert (en_p2.title, en_p2.message) == ("Base title", "Base message")
    # match overrides apply after the axes, in order: the later one wins where both match
    assert fr_p1.call_to_action == "Match two"
    assert fr_p2.call_to_action == "Match one"
    assert en_p1.call_to_action == "Match two"
    assert en_p2.call_to_action == "Base CTA"
    # the market's own fields are set before its overrides
    assert fr_p1.language == "fr" and en_p1.language == "en"


def test_a_match_override_beats_the_product() -> None:
    data = small(overrides=[{"match": {"product": "p2"}, "set": {"title": "From the match"}}])
    data["matrix"]["products"][1]["overrides"] = {"title": "From the product"}
    titles = {v.key: v.brief.title for v in variants(parse_campaign(data))}
    assert titles["en/p2/social-teaser-15/16x9"] == "From the match"
    assert titles["en/p1/social-teaser-15/16x9"] == "Base title"


# --------------------------------------------------------------------------- ids


def test_the_same_spec_gets_the_same_ids() -> None:
    first = [(v.key, v.brief.brief_id) for v in variants(load_campaign(EXAMPLE))]
    again = [(v.key, v.brief.brief_id) for v in variants(parse_campaign(example_data()))]
    assert first == again
    ids = [i for _, i in first]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("aurora-coffee-") for i in ids)


def test_ids_are_the_briefs_own_content_ids() -> None:
    for v in variants(load_campaign(EXAMPLE)):
        data = v.brief.model_dump(mode="json")
        data["id"] = None
        assert Brief.model_validate(data).brief_id == v.brief.brief_id


def test_a_changed_field_changes_only_that_variants_id() -> None:
    before = {v.key: v.brief.brief_id for v in variants(load_campaign(EXAMPLE))}
    data = example_data()
    data["overrides"].append(
        {
            "match": {"market": "de", "product": "pour-over", "format": "product-spot-30"},
            "set": {"audience": "Baristas in Vienna"},
        }
    )
    after = {v.key: v.brief.brief_id for v in variants(parse_campaign(data))}
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"de/pour-over/product-spot-30/16x9", "de/pour-over/product-spot-30/9x16-1x1"}

    renamed = example_data() | {"id": "aurora-summer"}
    moved = {v.key: v.brief.brief_id for v in variants(parse_campaign(renamed))}
    assert not set(moved.values()) & set(before.values())  # the campaign is part of the content


def test_two_variants_that_are_the_same_brief_are_refused() -> None:
    data = small()
    data["matrix"]["markets"] = [{"id": "en", "language": "en"}, {"id": "gb", "language": "en"}]
    data["matrix"]["products"] = [{"id": "p1"}]
    (problem,) = problems_of(data)
    assert problem.startswith("variant gb/p1/social-teaser-15/16x9: the same brief as variant ")
    assert "en/p1/social-teaser-15/16x9" in problem


# --------------------------------------------------------------------------- errors


def test_errors_name_every_variant_field_and_value() -> None:
    data = small()
    data["matrix"]["products"][1]["overrides"] = {"title": "x" * 130}
    data["matrix"]["markets"][1]["languages"] = ["fr", "en"]  # English captions need copy
    problems = problems_of(data)
    long_title = [p for p in problems if "title: String should have at most 120" in p]
    assert sorted(p.split(":")[0] for p in long_title) == [
        "variant en/p2/social-teaser-15/16x9",
        "variant fr/p2/social-teaser-15/16x9",
    ]
    assert all("(got 'xxxx" in p for p in long_title)
    missing = [p for p in problems if "no localised copy" in p]
    assert missing == [
        "variant fr/p1/social-teaser-15/16x9: translations: no localised copy for requested "
        "language(s) ['en'] (captions are never machine-translated)"
    ]
    assert len(problems) == 3  # fr/p2 has both problems: pydantic stops at the field errors


def test_spec_problems_are_collected_and_named() -> None:
    data = small(
        overrides=[
            {"match": {"market": "fr"}, "set": {"format": "product-spot-30"}},
            {"match": {"product": "p1"}, "set": {"titel": "typo"}},
        ],
        schedule={"cron": "0 6 * *"},
        concurrency=17,
    )
    data["base"]["brand"] = "kestrel-bikes"
    data["base"]["aspect_ratios"] = ["4:3"]
    data["matrix"]["products"].append({"id": "p1"})
    data["matrix"]["markets"][0]["overrides"] = {"id": "mine"}
    with pytest.raises(InputError) as caught:
        parse_campaign(data, source="spring.yaml")
    assert caught.value.source == "spring.yaml"
    assert sorted(caught.value.problems) == sorted(
        [
            "base.brand: set by the campaign, not here",
            "base.aspect_ratios.0: Input should be '16:9', '9:16' or '1:1' (got '4:3')",
            "matrix.markets.0.overrides.id: set by the campaign, not here",
            "matrix.products: 'p1' is listed more than once",
            "overrides.0.set.format: set by the matrix (matrix.formats), not by an override",
            "overrides.1.set.titel: not a brief field",
            "schedule.cron: expected 5 fields (minute hour day-of-month month day-of-week), "
            "found 4 (got '0 6 * *')",
            "concurrency: Input should be less than or equal to 16 (got 17)",
        ]
    )


def test_matches_must_name_known_values() -> None:
    data = small(
        overrides=[
            {"match": {"market": "de"}, "set": {"title": "x"}},
            {"match": {"format": "product-spot-30"}, "set": {"title": "x"}},
        ]
    )
    data["base"]["format"] = "social-teaser-15"
    del data["matrix"]["products"]
    data["overrides"].append({"match": {"product": "p1"}, "set": {"title": "x"}})
    with pytest.raises(InputError) as caught:
        parse_campaign(data)
    assert caught.value.problems == [
        "overrides.0.match.market: no market 'de' (known: en, fr)",
        "overrides.1.match.format: no format 'product-spot-30' (known: social-teaser-15)",
        "overrides.2.match.product: the matrix has no products ('p1')",
    ]


def test_base_format_and_a_formats_axis_conflict() -> None:
    data = small()
    data["base"]["format"] = "social-teaser-15"
    data["matrix"]["formats"] = ["product-spot-30"]
    with pytest.raises(InputError, match=r"base.format: matrix.formats sets it"):
        parse_campaign(data)


def test_an_empty_match_and_repeated_ratio_sets_are_refused() -> None:
    data = small(overrides=[{"match": {}, "set": {"title": "x"}}])
    data["matrix"]["aspect_ratios"] = [["16:9", "9:16"], ["9:16", "16:9"], ["1:1", "1:1"]]
    with pytest.raises(InputError) as caught:
        parse_campaign(data)
    problems = "\n".join(caught.value.problems)
    assert "overrides.0.match: name at least one of market, product, format" in problems
    assert "matrix.aspect_ratios: ['16:9', '9:16'] is listed more than once" in problems
    assert "matrix.aspect_ratios.2: repeats a ratio (['1:1', '1:1'])" in problems


# --------------------------------------------------------------------------- schedule


@pytest.mark.parametrize(
    "cron", ["0 6 * * 1", "*/15 9-17 * * mon-fri", "0 0 1 jan,jul *", "30 4 1-7/2 * 7"]
)
def test_valid_cron_lines(cron: str) -> None:
    assert check_cron(cron) == cron
    assert parse_campaign(small(schedule={"cron": cron})).schedule is not None


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 6 * *", "expected 5 fields"),
        ("0 6 * * 1 2026", "found 6"),
        ("@daily", "found 1"),
        ("61 * * * *", "cron minute: '61' is not in 0-59"),
        ("0 24 * * *", "cron hour: '24' is not in 0-23"),
        ("0 0 0 * *", "cron day-of-month: '0' is not in 1-31"),
        ("0 0 * 13 *", "cron month: '13' is not in 1-12"),
        ("0 0 * * funday", "cron day-of-week: 'funday' is not in 0-7"),
        ("*/0 * * * *", "cron minute: step 0"),
        ("5-1 * * * *", "cron minute: range '5-1' runs backwards"),
        ("0 6 * * 1;", "cron day-of-week: cannot read '1;'"),
    ],
)
def test_bad_cron_lines(cron: str, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        check_cron(cron)
    with pytest.raises(InputError, match=r"schedule\.cron: "):
        parse_campaign(small(schedule={"cron": cron}))


def test_schedule_timezone_defaults_to_utc_and_must_exist() -> None:
    ok = parse_campaign(small(schedule={"cron": "0 6 * * 1"}))
    assert ok.schedule is not None and ok.schedule.timezone == "UTC"
    with pytest.raises(InputError, match=r"schedule\.timezone: unknown IANA time zone"):
        parse_campaign(small(schedule={"cron": "0 6 * * 1", "timezone": "Mars/Olympus"}))


def test_defaults() -> None:
    c = Campaign.model_validate({"id": "abc", "brand": "aurora-coffee"})
    assert (c.concurrency, c.schedule, c.budget, c.overrides) == (2, None, None, [])
    with pytest.raises(InputError, match=r"budget.amount: Input should be greater than 0"):
        parse_campaign(small(budget={"amount": 0}))


# --------------------------------------------------------------------------- estimate


def two_briefs() -> list[Brief]:
    return [
        Brief.model_validate(brief_data(duration_s=15, aspect_ratios=["9:16", "1:1"])),
        Brief.model_validate(brief_data(duration_s=30, aspect_ratios=["16:9"])),
    ]


def test_estimate_arithmetic_and_budget_fit() -> None:
    prices = Prices(cpu_hour=3.6, gpu_hour=7.2, currency="EUR")
    fits = estimate(
        two_briefs(),
        seconds_per_output_second=0.5,
        prices=prices,
        budget=Budget(amount=0.05, currency="EUR"),
    )
    # 15 s x 2 ratios + 30 s x 1 = 60 output s; x 0.5 = 30 CPU-s; 30 / 3600 h x 3.6 = 0.03
    assert (fits.variants, fits.videos, fits.output_s) == (2, 3, 60)
    assert (fits.device, fits.device_s, fits.cost, fits.currency) == ("cpu", 30, 0.03, "EUR")
    assert fits.fits_budget is True and fits.note == ""

    over = estimate(
        two_briefs(),
        seconds_per_output_second=0.5,
        prices=prices,
        budget=Budget(amount=0.02, currency="EUR"),
    )
    assert over.fits_budget is False

    gpu = estimate(two_briefs(), seconds_per_output_second=10, prices=prices, device="gpu")
    assert (gpu.device_s, gpu.cost) == (600, 1.2)  # 600 s / 3600 x 7.2
    assert gpu.fits_budget is None and gpu.note == "no budget set"


def test_estimate_without_prices_or_with_another_currency_cannot_tell() -> None:
    budget = Budget(amount=100)
    unpriced = estimate(two_briefs(), seconds_per_output_second=0.5, prices=Prices(), budget=budget)
    assert unpriced.device_s == 30 and unpriced.cost is None
    assert unpriced.fits_budget is None and "REEL_PRICE_CPU_HOUR" in unpriced.note
    euros = estimate(
        two_briefs(),
        seconds_per_output_second=0.5,
        prices=Prices(cpu_hour=1, currency="EUR"),
        budget=budget,
    )
    assert euros.cost is not None and euros.fits_budget is None
    assert euros.note == "budget is in USD, prices in EUR"
    with pytest.raises(ValueError, match="negative"):
        estimate(two_briefs(), seconds_per_output_second=-1, prices=Prices())


def test_estimate_of_the_example() -> None:
    c = load_campaign(EXAMPLE)
    briefs = [v.brief for v in variants(c)]
    e = estimate(briefs, seconds_per_output_second=0.5, prices=Prices(cpu_hour=1), budget=c.budget)
    # per market and product: 15 x (1 + 2) + 30 x (1 + 2) = 135 s; 4 of them
    assert (e.variants, e.videos, e.output_s, e.device_s) == (16, 24, 540, 270)
    assert e.cost == 0.075 and e.fits_budget is True


# --------------------------------------------------------------------------- the CLI


@pytest.fixture
def runner(tmp_path: Path) -> CliRunner:
    return CliRunner(env={"REEL_DATA_DIR": str(tmp_path / "data")})


def test_cli_validates_the_example(runner: CliRunner) -> None:
    result = runner.invoke(app, ["campaign", "validate", str(EXAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["valid"], out["campaign"], out["variants"], out["videos"]) == (
        True,
        "aurora-spring",
        16,
        24,
    )
    assert [b["key"] for b in out["briefs"]] == [v.key for v in variants(load_campaign(EXAMPLE))]
    assert out["estimate"]["device"] == "cpu" and out["estimate"]["device_s"] == 270
    assert out["estimate"]["cost"] is None and out["fits_budget"] is None  # no REEL_PRICE_*
    assert out["schedule"] == {"cron": "0 6 * * 1", "timezone": "Europe/Berlin"}

    text = runner.invoke(app, ["campaign", "validate", str(EXAMPLE)])
    assert text.exit_code == 0, text.output
    assert text.stdout == ""  # everything human goes to stderr
    assert "16 variants, 24 videos" in text.output
    assert "540 output s x 0.5 CPU-s = 270 CPU-s" in text.output
    assert "budget: 5 USD: cannot tell (unpriced: set REEL_PRICE_CPU_HOUR" in text.output


def test_cli_prices_the_estimate(tmp_path: Path) -> None:
    priced = CliRunner(env={"REEL_DATA_DIR": str(tmp_path), "REEL_PRICE_CPU_HOUR": "100"})
    result = priced.invoke(app, ["campaign", "validate", str(EXAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["estimate"]["cost"] == 7.5 and out["fits_budget"] is False  # 270 CPU-s at 100/h
    text = priced.invoke(app, ["campaign", "validate", str(EXAMPLE)])
    assert "= 270 CPU-s = 7.5 USD" in text.output and "over budget" in text.output


def test_cli_model_renderer_needs_a_figure_and_checks_what_it_can_make(tmp_path: Path) -> None:
    ltx = CliRunner(env={"REEL_DATA_DIR": str(tmp_path), "REEL_RENDERER": "ltx-video"})
    result = ltx.invoke(app, ["campaign", "validate", str(EXAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["estimate"] is None
    given = ltx.invoke(
        app, ["campaign", "validate", str(EXAMPLE), "--seconds-per-output-second", "20", "--json"]
    )
    estimate_ = json.loads(given.stdout)["estimate"]
    assert (estimate_["device"], estimate_["device_s"]) == ("gpu", 10800)

    cog = CliRunner(env={"REEL_DATA_DIR": str(tmp_path), "REEL_RENDERER": "cogvideox-2b"})
    refused = cog.invoke(app, ["campaign", "validate", str(EXAMPLE)])
    assert refused.exit_code == 2
    assert (
        "variant en/sunrise-blend/social-teaser-15/9x16-1x1: aspect_ratios: cogvideox-2b "
        "cannot make 9:16" in refused.output
    )


def test_cli_refuses_a_broken_copy_naming_file_variant_field_and_value(
    runner: CliRunner, tmp_path: Path
) -> None:
    data = example_data()
    data["overrides"] = [copy.deepcopy(o) for o in data["overrides"][:2]]  # no de pour-over copy
    data["overrides"][0]["set"]["duration_s"] = 60  # too long for the product spot
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    result = runner.invoke(app, ["campaign", "validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:" in result.output
    assert (
        "variant de/pour-over/social-teaser-15/16x9: translations: no localised copy for "
        "requested language(s) ['de']" in result.output
    )
    assert (
        "variant en/sunrise-blend/product-spot-30/16x9: duration_s: 60 s does not fit "
        "'product-spot-30', which supports 20-45 s" in result.output
    )

    as_json = runner.invoke(app, ["campaign", "validate", str(path), "--json"])
    assert as_json.exit_code == 2
    out = json.loads(as_json.stdout)
    assert out["valid"] is False and out["file"] == str(path)
    # 4 de/pour-over variants lack German copy; 8 product spots are too long, except the 2
    # de/pour-over ones that already failed as briefs
    assert sum("no localised copy" in p for p in out["problems"]) == 4
    assert sum("does not fit 'product-spot-30'" in p for p in out["problems"]) == 6


def test_cli_refuses_an_unknown_brand_and_format(runner: CliRunner, tmp_path: Path) -> None:
    data = example_data() | {"brand": "acme-anvils"}
    data["matrix"]["formats"].append("opera-3h")
    path = tmp_path / "unknown.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["campaign", "validate", str(path)])
    assert result.exit_code == 2
    assert "brand: unknown brand kit 'acme-anvils'" in result.output
    assert "format: unknown template 'opera-3h'" in result.output


def test_cli_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["campaign", "validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml: file not found" in result.output


def test_the_budget_refuses_up_front_with_the_numbers_and_bounds_each_start() -> None:
    from reelfactory.campaign import Budget, budget_refusal, may_start

    briefs = [Brief.model_validate(brief_data(duration_s=15, aspect_ratios=["16:9", "1:1"]))]
    prices = Prices(cpu_hour=36.0)  # 0.01 per CPU-second
    over = estimate(briefs, seconds_per_output_second=0.5, prices=prices, budget=Budget(amount=0.1))
    assert budget_refusal(over) == (
        "estimated 0.15 USD (15 CPU-s for 2 videos, 30 s of output) exceeds the budget of 0.1 USD"
    )
    fits = estimate(briefs, seconds_per_output_second=0.5, prices=prices, budget=Budget(amount=1))
    assert budget_refusal(fits) == ""
    unpriced = estimate(
        briefs, seconds_per_output_second=0.5, prices=Prices(), budget=Budget(amount=1)
    )
    assert budget_refusal(unpriced).startswith("cannot check the budget of 1 USD: unpriced")
    assert may_start(0.8, 0.15, Budget(amount=1)) and not may_start(0.9, 0.15, Budget(amount=1))
    assert may_start(1e9, 1e9, None)
