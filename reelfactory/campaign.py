"""Campaigns: one spec that expands into many briefs (markets x products x formats x ratios).

A campaign is YAML; ``Campaign`` validates it. Its ``base`` holds brief fields shared by every
variant; the ``matrix`` axes each say what changes between variants, and ``overrides`` change
fields for the variants a ``match`` selects::

    id: aurora-spring
    brand: aurora-coffee
    base: {audience: ..., duration_s: 15, submitted_by: ...}
    matrix:
      markets:                       # sets language, languages, translations, then overrides
        - {id: en, language: en}
        - {id: de, language: en, languages: [de, en], overrides: {audience: ...}}
      products:
        - {id: sunrise-blend, overrides: {title: ..., message: ..., call_to_action: ...}}
      formats: [social-teaser-15, product-spot-30]
      aspect_ratios: [["16:9"], ["9:16", "1:1"]]
    overrides:
      - match: {format: product-spot-30}
        set: {duration_s: 30}
    schedule: {cron: "0 6 * * 1", timezone: Europe/Berlin}
    budget: {amount: 25, currency: USD}
    concurrency: 2

Each variant's brief is built in this order, a later step replacing a field an earlier one set
(a whole field: mappings such as ``translations`` are replaced, not merged): ``base``; the
market's ``language``/``languages``/``translations``, then its ``overrides``; the product's
``overrides``; the format and the aspect ratios; every ``overrides`` entry whose ``match``
fits, in the order written. ``id``, ``campaign`` and ``brand`` are the campaign's to set, and
``format``/``aspect_ratios`` are the matrix's: overrides may set neither.

Pure: no Prefect and no I/O, apart from ``load_campaign`` reading its file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from reelfactory.brand import read_yaml
from reelfactory.cost import Prices, prices_from
from reelfactory.errors import InputError, problems_from
from reelfactory.models import AspectRatio, Brief, Copy, Frozen, LanguageTag, Slug
from reelfactory.settings import Settings

# Market and product ids: short slugs ("en", "de", "sunrise-blend"); they go into keys.
AxisId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
BriefFields = dict[str, Any]

CAMPAIGN_FIELDS = ("id", "campaign", "brand")  # set from the campaign, never by a spec
MATRIX_AXES = {"format": "matrix.formats", "aspect_ratios": "matrix.aspect_ratios"}
MATRIX_FIELDS = tuple(MATRIX_AXES)  # set from the matrix, never by an override
MISSING_AXIS = "base"  # a key's part for an axis the matrix does not have

# Render seconds per second of output video, by renderer, when the caller has no figure of its
# own. The animatic draws on CPUs; a model's figure depends on the GPU, so it has no default.
DEFAULT_SECONDS_PER_OUTPUT_SECOND: dict[str, float] = {"animatic": 0.5}


# --------------------------------------------------------------------------- the spec

SPEC_ERROR = "campaign_spec"  # our own validation errors: lines of "field: problem"


def spec_error(lines: Sequence[str]) -> PydanticCustomError:
    """Problems found by a validator, one ``sub.field: problem`` line each, relative to where
    the validator runs (``parse_campaign`` puts that in front; ``: problem`` is about that
    field itself)."""
    return PydanticCustomError(SPEC_ERROR, "{problems}", {"problems": "\n".join(lines)})


def _brief_field_problems(fields: BriefFields, *, matrix_fields: bool) -> list[str]:
    out = []
    for name in fields:
        if name in CAMPAIGN_FIELDS:
            out.append(f"{name}: set by the campaign, not here")
        elif matrix_fields and name in MATRIX_FIELDS:
            out.append(f"{name}: set by the matrix ({MATRIX_AXES[name]}), not by an override")
        elif name not in Brief.model_fields:
            out.append(f"{name}: not a brief field")
    return out


def _overrides(value: BriefFields) -> BriefFields:
    problems = _brief_field_problems(value, matrix_fields=True)
    if problems:
        raise spec_error(problems)
    return value


Overrides = Annotated[BriefFields, AfterValidator(_overrides)]


def _repeats(values: Sequence[Any]) -> list[Any]:
    """The values that occur more than once, each once, in order."""
    out: list[Any] = []
    for i, value in enumerate(values):
        if value in values[:i] and value not in out:
            out.append(value)
    return out


class _BaseAxes(Frozen):
    """The base's format and ratios, when they are an axis's one value."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    format: Slug | None = None
    aspect_ratios: list[AspectRatio] | None = Field(default=None, min_length=1)


class Market(Frozen):
    """A market: the language settings of its briefs, and any other fields it changes."""

    id: AxisId
    language: LanguageTag = Field(description="Sets the brief's language (of its copy).")
    languages: list[LanguageTag] | None = Field(
        default=None, description="Sets the caption languages; the first is burned in."
    )
    translations: dict[LanguageTag, Copy] | None = Field(
        default=None, description="Sets the brief's translations (replacing the base's)."
    )
    overrides: Overrides = Field(default_factory=dict)


class Product(Frozen):
    id: AxisId
    overrides: Overrides = Field(default_factory=dict)


class Matrix(Frozen):
    """The axes; a missing axis is one value: the base's (or the brief's default)."""

    markets: list[Market] | None = Field(default=None, min_length=1)
    products: list[Product] | None = Field(default=None, min_length=1)
    formats: list[Slug] | None = Field(default=None, min_length=1)
    aspect_ratios: list[Annotated[list[AspectRatio], Field(min_length=1)]] | None = Field(
        default=None, min_length=1, description='Sets of ratios, e.g. [["16:9"], ["9:16"]].'
    )

    @field_validator("markets", "products")
    @classmethod
    def _unique_ids(cls, value: list[Any] | None) -> list[Any] | None:
        repeats = _repeats([x.id for x in value or []])
        if repeats:
            raise spec_error([f": {v!r} is listed more than once" for v in repeats])
        return value

    @field_validator("formats")
    @classmethod
    def _unique_formats(cls, value: list[str] | None) -> list[str] | None:
        repeats = _repeats(value or [])
        if repeats:
            raise spec_error([f": {v!r} is listed more than once" for v in repeats])
        return value

    @field_validator("aspect_ratios")
    @classmethod
    def _unique_ratios(
        cls, value: list[list[AspectRatio]] | None
    ) -> list[list[AspectRatio]] | None:
        sets = [sorted(r.value for r in ratios) for ratios in value or []]
        out = [f": {v} is listed more than once" for v in _repeats(sets)]
        for i, ratios in enumerate(value or []):
            if len(set(ratios)) != len(ratios):
                out.append(f"{i}: repeats a ratio ({[r.value for r in ratios]})")
        if out:
            raise spec_error(out)
        return value

    def ids(self) -> dict[str, list[str] | None]:
        """Each id axis's values, None for a missing axis."""
        return {
            "market": [x.id for x in self.markets] if self.markets is not None else None,
            "product": [x.id for x in self.products] if self.products is not None else None,
            "format": list(self.formats) if self.formats is not None else None,
        }


class Match(Frozen):
    """Which variants an override applies to: all the values named must match."""

    market: AxisId | None = None
    product: AxisId | None = None
    format: Slug | None = None

    @model_validator(mode="after")
    def _names_one(self) -> Match:
        if self.market is None and self.product is None and self.format is None:
            raise ValueError("name at least one of market, product, format (use base for all)")
        return self

    def fits(self, market: str | None, product: str | None, format_id: str) -> bool:
        return (
            (self.market is None or self.market == market)
            and (self.product is None or self.product == product)
            and (self.format is None or self.format == format_id)
        )


class Override(Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    match: Match
    set_: Overrides = Field(alias="set", min_length=1)


FIELD_COUNT = 5
CRON_FIELDS = (  # name, lowest, highest, names
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    (
        "month",
        1,
        12,
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    ),
    ("day-of-week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_CRON_PART = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?$")


def _cron_value(text: str, low: int, high: int, names: tuple[str, ...], field: str) -> int:
    if text in names:
        return names.index(text) + (1 if field == "month" else 0)
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"cron {field}: {text!r} is not in {low}-{high}")
    return int(text)


def check_cron(expression: str) -> str:
    """A standard five-field cron line (minute hour day-of-month month day-of-week), or
    ValueError naming the field. Lists, ranges, steps and month/day names are allowed."""
    fields = expression.split()
    if len(fields) != FIELD_COUNT:
        raise ValueError(
            f"expected {FIELD_COUNT} fields (minute hour day-of-month month day-of-week), "
            f"found {len(fields)}"
        )
    for text, (field, low, high, names) in zip(fields, CRON_FIELDS, strict=True):
        for part in text.lower().split(","):
            m = _CRON_PART.match(part)
            if m is None:
                raise ValueError(f"cron {field}: cannot read {part!r}")
            span, step = m.groups()
            if step is not None and int(step) == 0:
                raise ValueError(f"cron {field}: step 0 in {part!r}")
            if span != "*":
                ends = [_cron_value(x, low, high, names, field) for x in span.split("-")]
                if ends[0] > ends[-1]:
                    raise ValueError(f"cron {field}: range {span!r} runs backwards")
    return " ".join(fields)


class Schedule(Frozen):
    cron: str = Field(description="Five fields: minute hour day-of-month month day-of-week.")
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown IANA time zone (e.g. UTC, Europe/Berlin)") from None
        return value


class Budget(Frozen):
    amount: float = Field(gt=0)
    currency: str = Field(default="USD", min_length=1, max_length=8)


class Campaign(Frozen):
    """A campaign spec: a base brief, the matrix it expands over, when and how it runs."""

    id: Slug
    brand: Slug = Field(description="Brand kit id: every variant's brand.")
    base: BriefFields = Field(
        default_factory=dict, description="Brief fields every variant shares (not id/brand)."
    )
    matrix: Matrix = Field(default_factory=Matrix)
    overrides: list[Override] = Field(
        default_factory=list, description="Applied in order after the axes; later wins."
    )
    schedule: Schedule | None = None
    budget: Budget | None = None
    concurrency: int = Field(default=2, ge=1, le=16, description="Variants produced at once.")

    @field_validator("base")
    @classmethod
    def _base(cls, value: BriefFields) -> BriefFields:
        problems = _brief_field_problems(value, matrix_fields=False)
        try:
            _BaseAxes.model_validate(value)
        except ValidationError as exc:
            problems += problems_from(exc)
        if problems:
            raise spec_error(problems)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Campaign:
        """What needs more than one field: the base against the axes, matches against ids."""
        out = []
        for name, axis in MATRIX_AXES.items():
            if name in self.base and getattr(self.matrix, axis.removeprefix("matrix.")):
                out.append(f"base.{name}: {axis} sets it; remove one of them")
        known = self.matrix.ids()
        known["format"] = self.format_axis()
        for i, o in enumerate(self.overrides):
            for axis, values in known.items():
                value = getattr(o.match, axis)
                if value is None:
                    continue
                if values is None:
                    out.append(f"overrides.{i}.match.{axis}: the matrix has no {axis}s ({value!r})")
                elif value not in values:
                    out.append(
                        f"overrides.{i}.match.{axis}: no {axis} {value!r} "
                        f"(known: {', '.join(values)})"
                    )
        if out:
            raise spec_error(out)
        return self

    def format_axis(self) -> list[str]:
        """The formats variants are made in: the matrix's, else the base's (or the default)."""
        if self.matrix.formats is not None:
            return list(self.matrix.formats)
        return [str(self.base.get("format", Brief.model_fields["format"].default))]

    def ratio_axis(self) -> list[tuple[AspectRatio, ...]]:
        """The sets of aspect ratios: the matrix's, else the base's (or the default)."""
        if self.matrix.aspect_ratios is not None:
            return [tuple(r) for r in self.matrix.aspect_ratios]
        default = [AspectRatio(r) for r in Brief.model_fields["aspect_ratios"].default]
        return [tuple(AspectRatio(r) for r in self.base.get("aspect_ratios", default))]


def _problems(exc: ValidationError, prefix: str = "") -> list[str]:
    """``problems_from``, but our own validators' lines under the field they ran on, and a
    brief's own (model-level) messages as they are written."""
    out = []
    for err, line in zip(exc.errors(), problems_from(exc, prefix), strict=True):
        where = ".".join(str(p) for p in err["loc"])
        if err["type"] == SPEC_ERROR:
            lines = str(err.get("ctx", {}).get("problems", "")).splitlines()
            out += [f"{prefix}{_join(where, x)}" for x in lines]
        elif not where and err["type"] == "value_error":
            out.append(f"{prefix}{err['msg'].removeprefix('Value error, ')}")
        else:
            out.append(line)
    return out


def _join(where: str, line: str) -> str:
    return where + line if not where or line.startswith(":") else f"{where}.{line}"


def parse_campaign(data: dict[str, Any], source: str = "campaign") -> Campaign:
    """Validate a campaign; InputError lists every problem, naming field and value."""
    try:
        return Campaign.model_validate(data)
    except ValidationError as exc:
        raise InputError(source, _problems(exc)) from None


def load_campaign(path: Path) -> Campaign:
    """Read and validate a campaign YAML file; errors name the file, field and value."""
    return parse_campaign(read_yaml(path), source=str(path))


# --------------------------------------------------------------------------- expansion


class Variant(Frozen):
    """One cell of the matrix and the brief made for it."""

    key: str = Field(description="market/product/format/ratios, e.g. de/sunrise-blend/...")
    market: str | None
    product: str | None
    format: str
    aspect_ratios: tuple[AspectRatio, ...]
    brief: Brief


def variant_key(
    market: str | None, product: str | None, format_id: str, ratios: Sequence[AspectRatio]
) -> str:
    """``market/product/format/ratios``; ``base`` for a missing axis, ratios as 16x9-9x16."""
    return "/".join(
        (
            market or MISSING_AXIS,
            product or MISSING_AXIS,
            format_id,
            "-".join(r.slug for r in ratios),
        )
    )


def variants(campaign: Campaign, source: str | None = None) -> list[Variant]:
    """Every variant of ``campaign``, in a stable order: markets, then products, formats and
    ratio sets, each in the order the spec lists them.

    A variant's brief id is the brief's own content id (``Brief`` derives ``<brand>-<hash>``
    from every other field, campaign included, when ``id`` is empty): the same variant always
    gets the same id, and changing anything in a variant gives it a new one.

    Raises:
        InputError: one line per problem, across all variants, each naming the variant key,
            the field and the value; also when two variants come out as the same brief.
    """
    out, problems = expand_campaign(campaign)
    if problems:
        raise InputError(source or f"campaign {campaign.id}", problems)
    return out


def expand_campaign(campaign: Campaign) -> tuple[list[Variant], list[str]]:
    """``variants``, without raising: the valid variants and one line per problem."""
    m = campaign.matrix
    markets: list[Market | None] = list(m.markets) if m.markets is not None else [None]
    products: list[Product | None] = list(m.products) if m.products is not None else [None]
    out: list[Variant] = []
    problems: list[str] = []
    cells = [
        (market, product, format_id, ratios)
        for market in markets
        for product in products
        for format_id in campaign.format_axis()
        for ratios in campaign.ratio_axis()
    ]
    first: dict[str, str] = {}
    for market, product, format_id, ratios in cells:
        market_id = market.id if market else None
        product_id = product.id if product else None
        key = variant_key(market_id, product_id, format_id, ratios)
        data = _variant_data(campaign, market, product, format_id, ratios)
        try:
            brief = Brief.model_validate(data)
        except ValidationError as exc:
            problems += _problems(exc, f"variant {key}: ")
            continue
        if brief.brief_id in first:
            problems.append(
                f"variant {key}: the same brief as variant {first[brief.brief_id]} "
                f"(id {brief.brief_id}); make them differ or drop one"
            )
            continue
        first[brief.brief_id] = key
        out.append(
            Variant(
                key=key,
                market=market_id,
                product=product_id,
                format=format_id,
                aspect_ratios=ratios,
                brief=brief,
            )
        )
    return out, problems


def _variant_data(
    campaign: Campaign,
    market: Market | None,
    product: Product | None,
    format_id: str,
    ratios: tuple[AspectRatio, ...],
) -> dict[str, Any]:
    data: dict[str, Any] = dict(campaign.base)
    if market is not None:
        data["language"] = market.language
        if market.languages is not None:
            data["languages"] = list(market.languages)
        if market.translations is not None:
            data["translations"] = {
                lang: copy.model_dump(mode="json") for lang, copy in market.translations.items()
            }
        data.update(market.overrides)
    if product is not None:
        data.update(product.overrides)
    data["format"] = format_id
    data["aspect_ratios"] = [r.value for r in ratios]
    for override in campaign.overrides:
        if override.match.fits(
            market.id if market else None, product.id if product else None, format_id
        ):
            data.update(override.set_)
    data.update(id=None, campaign=campaign.id, brand=campaign.brand)
    return data


# --------------------------------------------------------------------------- estimate


class Estimate(Frozen):
    """What a campaign run would cost, before anything renders."""

    variants: int = Field(ge=0, description="Briefs.")
    videos: int = Field(ge=0, description="Cuts: one per brief per aspect ratio.")
    output_s: float = Field(ge=0, description="Seconds of finished video, all cuts together.")
    seconds_per_output_second: float = Field(ge=0)
    device: Literal["cpu", "gpu"]
    device_s: float = Field(ge=0, description="Estimated render seconds on ``device``.")
    cost: float | None = Field(description="Priced device seconds; None when unpriced.")
    currency: str
    budget: Budget | None = None
    fits_budget: bool | None = Field(
        description="cost <= budget; None without a budget or a comparable cost."
    )
    note: str = Field(default="", description="Why fits_budget is None, if it is.")


def estimate(
    briefs: Sequence[Brief],
    *,
    seconds_per_output_second: float,
    prices: Prices,
    device: Literal["cpu", "gpu"] = "cpu",
    budget: Budget | None = None,
) -> Estimate:
    """A first-run estimate: every cut of every brief rendered from scratch.

    ``output_s = sum(brief.duration_s * len(brief.aspect_ratios))`` and
    ``device_s = output_s * seconds_per_output_second``, priced with ``prices`` for
    ``device``. The per-second figure comes from the caller (the CLI defaults to
    ``DEFAULT_SECONDS_PER_OUTPUT_SECOND[renderer]``: 0.5 CPU-s for the animatic, none for a
    model, which needs ``--seconds-per-output-second``). It ignores the shot cache (a re-run
    reuses shots), that brand cards are drawn rather than rendered, and moderation and
    assembly time: read it as an upper bound on render time, not a quote.
    """
    if seconds_per_output_second < 0:
        raise ValueError(f"seconds_per_output_second: {seconds_per_output_second} is negative")
    output_s = round(sum(b.duration_s * len(b.aspect_ratios) for b in briefs), 3)
    device_s = round(output_s * seconds_per_output_second, 3)
    cost = prices.of(
        gpu_s=device_s if device == "gpu" else 0.0, cpu_s=device_s if device == "cpu" else 0.0
    )
    fits: bool | None = None
    note = ""
    if budget is None:
        note = "no budget set"
    elif cost is None:
        note = f"unpriced: set REEL_PRICE_{device.upper()}_HOUR to compare with the budget"
    elif budget.currency.upper() != prices.currency.upper():
        note = f"budget is in {budget.currency}, prices in {prices.currency}"
    else:
        fits = cost <= budget.amount
    return Estimate(
        variants=len(briefs),
        videos=sum(len(b.aspect_ratios) for b in briefs),
        output_s=output_s,
        seconds_per_output_second=seconds_per_output_second,
        device=device,
        device_s=device_s,
        cost=cost,
        currency=prices.currency,
        budget=budget,
        fits_budget=fits,
        note=note,
    )


def budget_refusal(est: Estimate) -> str:
    """Why a campaign with a budget must not start, or '' when it may. Pure."""
    if est.budget is None:
        return ""
    if est.fits_budget is None:
        return f"cannot check the budget of {est.budget.amount:g} {est.budget.currency}: {est.note}"
    if not est.fits_budget:
        return (
            f"estimated {est.cost:.2f} {est.currency} ({est.device_s:.0f} {est.device.upper()}-s "
            f"for {est.videos} videos, {est.output_s:g} s of output) exceeds the budget of "
            f"{est.budget.amount:g} {est.budget.currency}"
        )
    return ""


def may_start(spent: float, next_cost: float, budget: Budget | None) -> bool:
    """Whether one more variant may start: what finished variants spent, plus what the next
    one is estimated to cost, stays within the budget. Pure."""
    return budget is None or spent + next_cost <= budget.amount


def estimate_for(
    briefs: Sequence[Brief],
    budget: Budget | None,
    settings: Settings,
    seconds_per_output_second: float | None = None,
) -> Estimate | None:
    """``estimate`` with the renderer, device and prices ``settings`` name; None when there
    is no per-second figure for the renderer (given, ``REEL_RENDER_SECONDS_PER_OUTPUT_SECOND``,
    or the renderer's default)."""
    per_second = (
        seconds_per_output_second
        or settings.render_seconds_per_output_second
        or DEFAULT_SECONDS_PER_OUTPUT_SECOND.get(settings.renderer)
    )
    if per_second is None:
        return None
    on_cpu = settings.renderer == "animatic" or settings.render_device == "cpu"
    return estimate(
        briefs,
        seconds_per_output_second=per_second,
        prices=prices_from(settings),
        device="cpu" if on_cpu else "gpu",
        budget=budget,
    )


def campaign_problems(campaign: Campaign, expanded: list[Variant], settings: Settings) -> list[str]:
    """The cheap checks ``plan`` makes, on every variant: the brand kit and formats exist,
    the durations, steps and aspect ratios fit the format and renderer. No moderation, no
    expansion into shots."""
    from reelfactory.brand import brand_kit_by_id
    from reelfactory.edit.timeline import overhead_frames
    from reelfactory.expand import slots_for, total_frames
    from reelfactory.formats import Format, load_format
    from reelfactory.models import BrandKit
    from reelfactory.render import clip_limits, render_size

    problems: list[str] = []
    try:
        kit: BrandKit | None = brand_kit_by_id(settings.brand_kits_dir, campaign.brand)
    except InputError as exc:
        kit = None
        problems += [_where(exc, p) for p in exc.problems]
    formats: dict[str, Format] = {}
    for format_id in dict.fromkeys(v.format for v in expanded):
        try:
            formats[format_id] = load_format(settings.templates_dir, format_id)
        except InputError as exc:
            problems += [_where(exc, p) for p in exc.problems]
    for v in expanded:
        fmt = formats.get(v.format)
        if fmt is None or kit is None:  # the edit's cards count towards the duration
            continue
        try:
            limits = clip_limits(settings.renderer, fmt.timing.fps, settings.model_registry)
        except InputError as exc:
            return problems + [_where(exc, p) for p in exc.problems]
        try:
            slots = slots_for(v.brief, fmt)
            overhead = overhead_frames(kit.edit, len(slots), fmt.timing.fps)
            total_frames(v.brief, fmt, len(slots), limits, overhead)
        except InputError as exc:
            problems += [f"variant {v.key}: {p}" for p in exc.problems]
        for ratio in v.aspect_ratios:
            try:
                render_size(
                    settings.renderer, ratio, settings.render_short_edge, settings.model_registry
                )
            except InputError as exc:
                problems += [f"variant {v.key}: {p}" for p in exc.problems]
    return problems


def _where(exc: InputError, problem: str) -> str:
    """A problem with its source when that is a file of its own (a template, a kit)."""
    return problem if exc.source in ("brief", "render", "settings") else f"{exc.source}: {problem}"
