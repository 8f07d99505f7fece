"""Typed data that moves down the lane.

    Brief -> ShotList -> ModerationReport -> AssetRef[] -> Timeline -> Cut[]
          -> ApprovalDecision -> Publication

Everything here is plain pydantic: no I/O, no Prefect.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

SLUG = r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

Slug = Annotated[str, StringConstraints(pattern=SLUG)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
LanguageTag = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]

# C0/C1 controls and the bidi embedding/override/isolate marks: never meaningful in copy,
# and the bidi ones can make a caption read differently from what was approved.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: object) -> object:
    """Strip control characters and fold line breaks/tabs to spaces. Never truncates."""
    if not isinstance(value, str):
        return value
    return _CONTROL.sub("", re.sub(r"[\t\r\n]+", " ", value))


# Copy limits, per field: what fits on screen as a caption and in a shot prompt.
TITLE_MAX = 120
MESSAGE_MAX = 500
AUDIENCE_MAX = 300
CTA_MAX = 120
STEP_MAX = 200
VOICE_OVER_MAX = 300
MAX_STEPS = 8
TONE_MAX = 120
ELEMENT_MAX = 120
MAX_ELEMENTS = 8
MAX_REFERENCES = 4

Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX),
    BeforeValidator(clean_text),
]
Message = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MESSAGE_MAX),
    BeforeValidator(clean_text),
]
AudienceText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=AUDIENCE_MAX),
    BeforeValidator(clean_text),
]
CallToAction = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=CTA_MAX),
    BeforeValidator(clean_text),
]
StepText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=STEP_MAX),
    BeforeValidator(clean_text),
]
VoiceOver = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=VOICE_OVER_MAX),
    BeforeValidator(clean_text),
]
Tone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TONE_MAX),
    BeforeValidator(clean_text),
]
Element = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=ELEMENT_MAX),
    BeforeValidator(clean_text),
]


def _email(value: str) -> str:
    value = value.strip().lower()
    if not EMAIL.match(value):
        raise ValueError(f"not an email address: {value!r}")
    return value


def _colour(value: str) -> str:
    if not HEX_COLOUR.match(value):
        raise ValueError(f"not a #rrggbb colour: {value!r}")
    return value.lower()


Email = Annotated[str, AfterValidator(_email)]
Colour = Annotated[str, AfterValidator(_colour)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- intake


class AspectRatio(StrEnum):
    LANDSCAPE = "16:9"
    PORTRAIT = "9:16"
    SQUARE = "1:1"

    @property
    def ratio(self) -> Fraction:
        w, h = self.value.split(":")
        return Fraction(int(w), int(h))

    @property
    def slug(self) -> str:
        return self.value.replace(":", "x")

    def size(self, short_edge: int) -> tuple[int, int]:
        """Frame size in pixels for this ratio, both sides even (H.264 4:2:0 needs that)."""
        long_edge = _even(short_edge * max(self.ratio, 1 / self.ratio))
        short = _even(Fraction(short_edge))
        return (long_edge, short) if self.ratio >= 1 else (short, long_edge)


def _even(x: Fraction) -> int:
    return max(2, 2 * round(x / 2))


class Copy(Frozen):
    """The words a viewer sees or hears, in one language. Captions and the CTA come only
    from here: nothing on screen is machine-written."""

    title: Title
    message: Message = Field(description="The one thing the viewer must get.")
    call_to_action: CallToAction
    steps: list[StepText] = Field(
        default_factory=list, max_length=MAX_STEPS, description="Steps, for explainer formats."
    )
    voice_over: dict[str, VoiceOver] = Field(
        default_factory=dict,
        description="Voice-over lines by shot name (a role, or role-N for repeated roles).",
    )


class Brief(Frozen):
    """What a marketing team asks for. The same model validates the CLI, the web form and
    the Prefect UI's parameter form.

    The copy fields at the top level are in ``language``; ``translations`` holds the same
    copy in the other ``languages`` the captions must be made in.
    """

    id: Slug | None = Field(
        default=None,
        description="Stable id; published keys derive from it. Derived from the content if empty.",
    )
    brand: Slug = Field(description="Brand kit id, a folder under brand_kits/.")
    campaign: Slug = Field(
        default="adhoc", description="Campaign id; published keys are grouped by it."
    )
    format: Slug = Field(default="social-teaser-15", description="Template id under templates/.")
    title: Title
    message: Message = Field(description="The one thing the viewer must get.")
    audience: AudienceText
    call_to_action: CallToAction
    steps: list[StepText] = Field(
        default_factory=list, max_length=MAX_STEPS, description="Steps, for explainer formats."
    )
    voice_over: dict[str, VoiceOver] = Field(
        default_factory=dict,
        description="Voice-over lines by shot name (a role, or role-N for repeated roles).",
    )
    duration_s: float = Field(gt=0, le=600, description="Total length in seconds.")
    aspect_ratios: list[AspectRatio] = Field(default=[AspectRatio.LANDSCAPE], min_length=1)
    language: LanguageTag = "en"
    languages: list[LanguageTag] = Field(
        default_factory=list,
        description="Caption languages; the first is the burned-in one. Default: [language].",
    )
    translations: dict[LanguageTag, Copy] = Field(
        default_factory=dict, description="Localised copy for every other caption language."
    )
    submitted_by: Email
    tone: Tone | None = Field(
        default=None, description="How it should feel, e.g. 'warm, unhurried'; joins the mood."
    )
    mandatory_elements: list[Element] = Field(
        default_factory=list,
        max_length=MAX_ELEMENTS,
        description="What every shot must show, e.g. 'the red bag'; added to every prompt.",
    )
    references: list[AssetRef] = Field(
        default_factory=list,
        max_length=MAX_REFERENCES,
        description="Reference images in the asset store, moderated before use.",
    )

    # Optional fields added after briefs were first hashed: left out of the id while unset,
    # so the id of every brief written before them stays what it was.
    LATER_FIELDS: ClassVar[tuple[str, ...]] = ("tone", "mandatory_elements", "references")

    @field_validator("aspect_ratios")
    @classmethod
    def _unique_ratios(cls, value: list[AspectRatio]) -> list[AspectRatio]:
        if len(set(value)) != len(value):
            raise ValueError(f"aspect ratios repeat: {[v.value for v in value]}")
        return value

    @model_validator(mode="after")
    def _languages(self) -> Brief:
        if not self.languages:
            object.__setattr__(self, "languages", [self.language])
        if len(set(self.languages)) != len(self.languages):
            raise ValueError(f"languages: repeated ({self.languages})")
        missing = [x for x in self.languages if x != self.language and x not in self.translations]
        if missing:
            raise ValueError(
                f"translations: no localised copy for requested language(s) {missing} "
                f"(captions are never machine-translated)"
            )
        for lang, copy in self.translations.items():
            if len(copy.steps) != len(self.steps):
                raise ValueError(
                    f"translations.{lang}.steps: {len(copy.steps)} steps, "
                    f"but the brief has {len(self.steps)}"
                )
        return self

    @model_validator(mode="after")
    def _derive_id(self) -> Brief:
        if self.id is None:
            unset = {f for f in self.LATER_FIELDS if not getattr(self, f)}
            payload = self.model_dump(mode="json", exclude={"id", *unset})
            digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
            object.__setattr__(self, "id", f"{self.brand}-{digest[:10]}")
        return self

    @property
    def brief_id(self) -> str:
        assert self.id is not None  # set by _derive_id
        return self.id

    def copy_in(self, language: str) -> Copy:
        """The brief's copy in ``language`` (the top-level fields for the brief's own)."""
        if language == self.language:
            return Copy(
                title=self.title,
                message=self.message,
                call_to_action=self.call_to_action,
                steps=self.steps,
                voice_over=self.voice_over,
            )
        return self.translations[language]


# --------------------------------------------------------------------------- brand


class Palette(Frozen):
    primary: Colour
    secondary: Colour
    accent: Colour
    background: Colour
    text: Colour


class RewriteRules(Frozen):
    """What must not be generated, and what goes there instead (Sora-style prompt rewriting).

    Keys are names as people write them; values are the generic description used instead.
    """

    people: dict[NonEmpty, NonEmpty] = Field(
        default_factory=dict, description="Real public figures -> generic descriptions."
    )
    artists: dict[NonEmpty, NonEmpty] = Field(
        default_factory=dict, description="Living artists -> style descriptors."
    )
    brands: dict[NonEmpty, NonEmpty] = Field(
        default_factory=dict, description="Competitor and third-party brands -> generic nouns."
    )


# --------------------------------------------------------------------------- moderation


class Verdict(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


class Category(StrEnum):
    """What a moderation layer scores. Scores are in [0, 1]; thresholds decide the verdict."""

    SEXUAL = "sexual"
    MINORS = "minors"
    VIOLENCE = "violence"
    SELF_HARM = "self-harm"
    HATE = "hate"
    WEAPONS = "weapons"
    DRUGS = "drugs"
    LIKENESS = "likeness"
    DECEPTIVE = "deceptive"
    IP = "ip"
    BRAND_RULES = "brand-rules"
    PROFANITY = "profanity"
    PEOPLE = "people"  # realistic people in frames: the brand's PeoplePolicy decides


class Threshold(Frozen):
    """A score at or above ``review`` goes to a human; at or above ``block`` it stops."""

    review: float = Field(ge=0, le=1)
    block: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Threshold:
        if self.review > self.block:
            raise ValueError(f"review ({self.review}) must not be above block ({self.block})")
        return self

    def scaled(self, factor: float) -> Threshold:
        return Threshold(review=self.review * factor, block=self.block * factor)

    def verdict(self, score: float) -> tuple[Verdict, float]:
        """The verdict for ``score`` and the threshold it crossed (or the review one)."""
        if score >= self.block:
            return Verdict.BLOCK, self.block
        if score >= self.review:
            return Verdict.REVIEW, self.review
        return Verdict.ALLOW, self.review


# Defaults, chosen on 5-fold cross-validation of the semantic layer on
# reelfactory/data/moderation/train.jsonl, never on the evaluation set: review at 0.20 caught
# 94% of disallowed lines with 24% of benign ones sent to review; block at 0.90 blocked 2% of
# benign ones. Blocklist terms score 1.0 (block) or 0.6 (review). Brand kits may lower these
# thresholds (stricter), never raise them.
DEFAULT_THRESHOLDS: dict[Category, Threshold] = {
    **{
        c: Threshold(review=0.20, block=0.90)
        for c in (
            Category.SEXUAL,
            Category.MINORS,
            Category.VIOLENCE,
            Category.SELF_HARM,
            Category.HATE,
            Category.WEAPONS,
            Category.DRUGS,
            Category.LIKENESS,
            Category.DECEPTIVE,
            Category.IP,
        )
    },
    Category.BRAND_RULES: Threshold(review=0.50, block=0.90),
    Category.PROFANITY: Threshold(review=0.60, block=0.90),
    Category.PEOPLE: Threshold(review=0.50, block=0.50),
}
# When minors are involved these categories' thresholds are multiplied by this factor.
MINORS_TIGHTENED = (Category.SEXUAL, Category.VIOLENCE, Category.SELF_HARM)
MINORS_FACTOR = 0.5


class PeoplePolicy(StrEnum):
    """What to do when frames show realistic people (a likeness risk in generated video)."""

    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


class ClaimRule(Frozen):
    """A claim that may only be made with its disclaimer in the same brief."""

    claim: NonEmpty = Field(description="Words that make the claim, e.g. 'clinically proven'.")
    disclaimer: NonEmpty = Field(description="Text that must appear with it.")


class ModerationRules(Frozen):
    """A brand kit's moderation section. Thresholds can only be made stricter."""

    thresholds: dict[Category, Threshold] = Field(default_factory=dict)
    people: PeoplePolicy = PeoplePolicy.REVIEW
    competitors: list[NonEmpty] = Field(default_factory=list)
    claims: list[ClaimRule] = Field(default_factory=list)
    legal_line: str = Field(
        default="", description="Must appear in every brief's copy (message, CTA or voice-over)."
    )
    reviewers: list[Email] = Field(
        default_factory=list, description="Who may clear a 'review' verdict; approvers if empty."
    )

    @field_validator("thresholds")
    @classmethod
    def _only_stricter(cls, value: dict[Category, Threshold]) -> dict[Category, Threshold]:
        problems = []
        for category, mine in value.items():
            base = DEFAULT_THRESHOLDS[category]
            for level in ("review", "block"):
                if getattr(mine, level) > getattr(base, level):
                    problems.append(
                        f"{category.value}.{level} {getattr(mine, level)} is looser than the "
                        f"default {getattr(base, level)}"
                    )
        if problems:
            raise ValueError("brand kits can only make thresholds stricter: " + "; ".join(problems))
        return value


class ModerationFinding(Frozen):
    """One reason for a verdict: which layer, which category, how sure, where."""

    layer: str = Field(description="Which check found it, e.g. 'blocklist:brand'.")
    category: str
    verdict: Verdict
    field: str = Field(description="Where: 'brief.message', 'shot[2].prompt', 'cut 16x9'...")
    score: float = Field(default=1.0, ge=0, le=1)
    threshold: float | None = Field(default=None, description="The threshold the score met.")
    term: str = Field(default="", description="Evidence: a matched term, a label, an error.")
    span: tuple[int, int] | None = Field(default=None, description="Characters in the text.")
    time_s: float | None = Field(default=None, description="Frame time in the video.")
    excerpt: str = ""
    note: str = Field(default="", description="e.g. 'minors involved: threshold tightened'.")

    def describe(self) -> str:
        where = self.field
        if self.span is not None:
            where += f" at {self.span[0]}-{self.span[1]}"
        if self.time_s is not None:
            where += f" at {self.time_s:.2f} s"
        if self.category == LAYER_FAILURE:
            return f"{where}: layer {self.layer} failed ({self.term}); fail closed, {self.verdict}"
        score = f"score {self.score:.2f}"
        if self.threshold is not None:
            score += f" >= {self.threshold:.2f}"
        evidence = f" {self.term!r}" if self.term else ""
        excerpt = f": {self.excerpt!r}" if self.excerpt else ""
        note = f" [{self.note}]" if self.note else ""
        return (
            f"{where}: {self.verdict} {self.category}{evidence} "
            f"({self.layer}, {score}){note}{excerpt}"
        )


LAYER_FAILURE = "layer-failure"


class ModerationReport(Frozen):
    subject: str
    findings: list[ModerationFinding] = Field(default_factory=list)
    layers: list[str] = Field(default_factory=list, description="The layers that ran.")

    @property
    def verdict(self) -> Verdict:
        verdicts = {f.verdict for f in self.findings}
        for v in (Verdict.BLOCK, Verdict.REVIEW):
            if v in verdicts:
                return v
        return Verdict.ALLOW

    def merged(self, other: ModerationReport, subject: str | None = None) -> ModerationReport:
        return ModerationReport(
            subject=subject or self.subject,
            findings=[*self.findings, *other.findings],
            layers=list(dict.fromkeys([*self.layers, *other.layers])),
        )

    def by_field(self) -> dict[str, list[ModerationFinding]]:
        out: dict[str, list[ModerationFinding]] = {}
        for f in self.findings:
            out.setdefault(f.field, []).append(f)
        return out


# --------------------------------------------------------------------------- brand kit


class ApprovalRules(Frozen):
    """How a brand signs off: how many approvers, how long to wait, whom to tell."""

    required_approvals: int = Field(
        default=1, ge=1, description="Distinct listed approvers who must approve."
    )
    timeout_s: int | None = Field(
        default=None, ge=1, description="How long a run waits; REEL_APPROVAL_TIMEOUT_S if unset."
    )
    webhook_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Posted a small JSON body whenever a run starts waiting; never logged.",
    )
    wait: Literal["pause", "suspend"] | None = Field(
        default=None,
        description="pause: the run's process waits; suspend: it exits and the run resumes on "
        "any worker (survives restarts). REEL_APPROVAL_WAIT if unset.",
    )


# --------------------------------------------------------------------------- editing rules


class TransitionKind(StrEnum):
    CUT = "cut"
    CROSSFADE = "crossfade"  # the incoming segment overlaps the outgoing one
    DIP = "dip"  # fade to the brand's background colour and back; no overlap


class Corner(StrEnum):
    TOP_LEFT = "top-left"
    TOP_RIGHT = "top-right"
    BOTTOM_LEFT = "bottom-left"
    BOTTOM_RIGHT = "bottom-right"


class CardRules(Frozen):
    """A full-frame brand card: the brand's background, logo and one line of text."""

    duration_s: float = Field(default=0.0, ge=0, le=5, description="0 means no card.")


class LogoRules(Frozen):
    """The logo bug: the brand logo in a corner of every shot (never over the cards)."""

    position: Corner = Corner.TOP_RIGHT
    opacity: float = Field(default=0.85, gt=0, le=1)
    width: float = Field(default=0.12, gt=0, le=0.4, description="Logo width / frame width.")


class MusicRules(Frozen):
    file: Path = Field(description="Resolved path of the music bed (any format ffmpeg reads).")
    gain_db: float = Field(default=0.0, ge=-40, le=12, description="Before loudness levelling.")
    fade_in_s: float = Field(default=1.0, ge=0, le=10)
    fade_out_s: float = Field(default=2.0, ge=0, le=10)
    duck_db: float = Field(
        default=-12.0, ge=-40, le=0, description="Music gain while a voice-over speaks."
    )


class LabelRules(Frozen):
    """The visible "AI-generated" label (Sora system card: visible provenance)."""

    text: NonEmpty = "AI-generated"
    position: Corner = Corner.TOP_LEFT
    mode: Literal["always", "edges"] = Field(
        default="always", description="'edges': only the first and last edge_s seconds."
    )
    edge_s: float = Field(default=2.0, ge=2.0, le=10)
    size: float = Field(default=0.035, gt=0, le=0.1, description="Font size / short edge.")


X264Preset = Literal[
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
]


class EditRules(Frozen):
    """How a brand's cuts are finished: transitions, cards, logo, music, loudness, encoding."""

    transition: TransitionKind = TransitionKind.CUT
    transition_s: float = Field(default=0.5, gt=0, le=2)
    intro: CardRules = Field(default_factory=CardRules)
    end_card: CardRules = Field(
        default_factory=CardRules, description="The closing card carrying the call to action."
    )
    logo: LogoRules | None = Field(default_factory=LogoRules, description="null: no logo bug.")
    lower_thirds: bool = True
    music: MusicRules | None = None
    loudness_lufs: float = Field(default=-16.0, ge=-31, le=-5, description="Integrated, BS.1770.")
    true_peak_db: float = Field(default=-1.0, ge=-9, le=0)
    crf: int = Field(default=20, ge=0, le=51)
    preset: X264Preset = "veryfast"
    reframe: Literal["crop", "pad"] = Field(
        default="crop", description="A clip of another shape is cropped to fill, or padded."
    )
    label: LabelRules = Field(default_factory=LabelRules)
    soft_subtitles: bool = Field(
        default=False, description="Also embed the captions as a mov_text subtitle track."
    )
    cover_role: str | None = Field(
        default=None, description="Thumbnail from the middle of this role's shot; else longest."
    )


class BrandKit(Frozen):
    id: Slug
    name: NonEmpty
    palette: Palette
    font: Path = Field(description="Resolved path of the brand's TrueType/OpenType font.")
    logo: Path = Field(description="Resolved path of the brand logo (PNG with alpha).")
    tone_words: list[NonEmpty] = Field(min_length=1)
    visual_style: list[NonEmpty] = Field(default_factory=list)
    banned_terms: list[NonEmpty] = Field(default_factory=list)
    never_show: list[NonEmpty] = Field(
        default_factory=list, description="Goes into every shot's negative prompt."
    )
    rewrites: RewriteRules = Field(default_factory=RewriteRules)
    moderation: ModerationRules = Field(default_factory=lambda: ModerationRules())
    approvers: list[Email] = Field(min_length=1)
    approval: ApprovalRules = Field(default_factory=lambda: ApprovalRules())
    edit: EditRules = Field(default_factory=EditRules)
    root: Path = Field(description="Folder the kit was loaded from.")

    @model_validator(mode="after")
    def _enough_approvers(self) -> BrandKit:
        if self.approval.required_approvals > len(self.approvers):
            raise ValueError(
                f"approval.required_approvals: {self.approval.required_approvals} approvals "
                f"required but only {len(self.approvers)} approvers listed"
            )
        return self


# --------------------------------------------------------------------------- expansion


class ShotDirection(Frozen):
    """The anatomy of one shot, in the video model's language (English)."""

    subject: NonEmpty
    action: NonEmpty
    setting: NonEmpty
    framing: NonEmpty = Field(description="Shot size and composition, e.g. 'medium close-up'.")
    movement: NonEmpty = Field(description="Camera movement, e.g. 'slow push-in'.")
    lighting: NonEmpty
    lens: NonEmpty = Field(description="Lens and look, e.g. '50 mm, shallow depth of field'.")

    FIELDS: ClassVar[tuple[str, ...]] = (
        "subject",
        "action",
        "setting",
        "framing",
        "movement",
        "lighting",
        "lens",
    )


class ShotCopy(Frozen):
    caption: str = ""
    voice_over: str = ""
    lower_third: str = ""


class Shot(Frozen):
    index: int = Field(ge=0)
    role: NonEmpty
    name: NonEmpty = Field(description="The role, or role-N for a repeated role (step-2).")
    direction: ShotDirection
    prompt: str = Field(description="Detailed shot description for the video model.")
    negative_prompt: str = ""
    framing_hints: dict[AspectRatio, str] = Field(
        default_factory=dict, description="Composition advice per aspect ratio."
    )
    caption: str = Field(default="", description="Caption in the brief's first language.")
    voice_over: str = ""
    lower_third: str = Field(default="", description="Name strap over the shot, if any.")
    localized: dict[str, ShotCopy] = Field(
        default_factory=dict, description="Caption and voice-over per caption language."
    )
    frames: int = Field(gt=0)
    fps: int = Field(gt=0)
    seed: int = Field(ge=0)

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps

    def prompt_for(self, ratio: AspectRatio) -> str:
        """The prompt to render this shot at ``ratio``: the shot plus its framing hint."""
        hint = self.framing_hints.get(ratio)
        return f"{self.prompt} Framing for {ratio.value}: {hint}" if hint else self.prompt


class SafeArea(Frozen):
    """Margins kept free of captions, as fractions of the frame (platform UI lives there)."""

    top: float = Field(ge=0, lt=0.5)
    bottom: float = Field(ge=0, lt=0.5)
    left: float = Field(ge=0, lt=0.5)
    right: float = Field(ge=0, lt=0.5)


class CaptionStyle(Frozen):
    position: Literal["bottom", "top", "middle"] = "bottom"
    max_lines: int = Field(default=2, ge=1, le=4)
    size: float = Field(default=0.07, gt=0, le=0.2, description="Font size / short edge.")
    safe_area: dict[AspectRatio, SafeArea]

    def area(self, ratio: AspectRatio) -> SafeArea:
        return self.safe_area[ratio]


class Rewrite(Frozen):
    """One Sora-style rewrite: something that must not be generated, replaced before render."""

    shot_index: int
    field: str
    kind: Literal["person", "artist", "brand"]
    original: str
    replacement: str
    reason: str


class ShotList(Frozen):
    brief_id: str
    brand: str
    format: str
    fps: int = Field(gt=0)
    language: str = "en"
    languages: list[str] = Field(default_factory=lambda: ["en"])
    caption_style: CaptionStyle
    expander: str = Field(default="template", description="What wrote the shot directions.")
    call_to_action: str = Field(default="", description="For the end card, first language.")
    edit_frames: int = Field(
        default=0, description="Frames the edit adds to the shots: cards less crossfades."
    )
    shots: list[Shot] = Field(min_length=1)
    rewrites: list[Rewrite] = Field(default_factory=list)

    @property
    def total_frames(self) -> int:
        """Frames of rendered picture; the cut adds cards and overlaps transitions."""
        return sum(s.frames for s in self.shots)

    @property
    def duration_s(self) -> float:
        """The cut's duration: the brief's."""
        return (self.total_frames + self.edit_frames) / self.fps


# --------------------------------------------------------------------------- media


class AssetRef(Frozen):
    """A pointer to bytes in an asset store. Media never travels through Prefect."""

    uri: str
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    size: int = Field(ge=0)
    media_type: str
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None


class Segment(Frozen):
    """One picture on the track: a rendered shot or a brand card. Times are in frames."""

    kind: Literal["shot", "intro", "end-card"]
    start: int = Field(ge=0, description="First timeline frame.")
    frames: int = Field(gt=0)
    shot_index: int | None = None
    asset: AssetRef | None = Field(default=None, description="The rendered clip (shots).")
    source_in: int = Field(default=0, ge=0, description="First source frame used.")
    text: str = Field(default="", description="A card's line: brand name or call to action.")

    @property
    def end(self) -> int:
        return self.start + self.frames


class Transition(Frozen):
    """Between segment ``after`` and the next; ``start``/``frames`` say when it plays."""

    kind: TransitionKind
    after: int = Field(ge=0)
    start: int = Field(ge=0)
    frames: int = Field(gt=0)

    @property
    def end(self) -> int:
        return self.start + self.frames


class Span(Frozen):
    """A half-open frame range ``[start, end)`` with optional text."""

    start: int = Field(ge=0)
    end: int = Field(gt=0)
    text: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end <= self.start:
            raise ValueError(f"span ends at {self.end}, not after its start {self.start}")
        return self


class MusicBed(Frozen):
    file: Path
    gain_db: float
    fade_in_s: float
    fade_out_s: float
    duck_db: float
    ducks: list[Span] = Field(default_factory=list, description="Voice-over lines.")


class Timeline(Frozen):
    """Edit decision list for one cut: everything the writer needs, and nothing it decides."""

    brief_id: str
    aspect_ratio: AspectRatio
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    fps: int = Field(gt=0)
    font: Path
    logo_file: Path
    background: Colour
    text_colour: Colour
    accent: Colour
    caption_style: CaptionStyle
    safe_area: SafeArea
    language: str = "en"
    segments: list[Segment] = Field(min_length=1)
    transitions: list[Transition] = Field(default_factory=list)
    captions: list[Span] = Field(default_factory=list, description="Burned-in caption cues.")
    sidecar_captions: dict[str, list[Span]] = Field(
        default_factory=dict, description="Caption cues per language, for sidecars."
    )
    lower_thirds: list[Span] = Field(default_factory=list)
    logo: LogoRules | None = None
    logo_spans: list[Span] = Field(default_factory=list)
    label: LabelRules
    label_spans: list[Span] = Field(min_length=1)
    music: MusicBed | None = None
    loudness_lufs: float
    true_peak_db: float
    crf: int
    preset: X264Preset
    reframe: Literal["crop", "pad"]
    soft_subtitles: bool = False
    cover_frame: int = Field(ge=0)

    @property
    def total_frames(self) -> int:
        return max(s.end for s in self.segments)

    @property
    def duration_s(self) -> float:
        return self.total_frames / self.fps

    def seconds(self, frame: int) -> float:
        return frame / self.fps


class Cut(Frozen):
    aspect_ratio: AspectRatio
    video: AssetRef
    captions: AssetRef = Field(description="WebVTT sidecar.")
    subtitles: AssetRef = Field(description="SRT sidecar.")
    cover: AssetRef | None = Field(default=None, description="JPEG thumbnail.")
    edit: AssetRef | None = Field(default=None, description="OpenTimelineIO file of the edit.")
    loudness_lufs: float | None = Field(default=None, description="Measured on the file.")
    preview: str = Field(default="", description="Link an approver can open to watch the draft.")
    captions_preview: str = ""


# --------------------------------------------------------------------------- approval


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "changes"


class ReviewChoice(StrEnum):
    """A moderation reviewer's answer to a 'review' verdict."""

    ALLOW = "allow"
    BLOCK = "block"


class ApprovalDecision(Frozen):
    """One sign-off attempt: a brand approval, or a moderation review (``step``)."""

    brief_id: str
    flow_run_id: str
    step: str = Field(
        default="approval", description="'approval', 'review:input' or 'review:output'."
    )
    approver: str
    decision: Decision | ReviewChoice | None = Field(
        description="None when the attempt was refused."
    )
    changes: dict[int, str] = Field(
        default_factory=dict, description="Shot number (1-based) -> the requested direction."
    )
    version: int = Field(default=1, ge=1, description="The version of the cuts decided on.")
    notes: str = ""
    accepted: bool = Field(description="False when the attempt was refused (not allowed, ...).")
    reason: str = ""
    decided_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    approved_by: list[str] = Field(
        default_factory=list,
        description="Every distinct approver of this version, in order (N required approvals).",
    )

    @property
    def approvers(self) -> list[str]:
        return self.approved_by or [self.approver]


# --------------------------------------------------------------------------- publishing


class ManifestFile(Frozen):
    """One deliverable of a published version, as the manifest lists it."""

    key: str
    role: Literal["video", "captions", "subtitles", "cover", "edit"]
    aspect_ratio: AspectRatio
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    size: int = Field(ge=0)
    content_type: str
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None


class ApprovalRef(Frozen):
    flow_run_id: str
    approver: str = Field(description="Who gave the approval that completed the sign-off.")
    approvers: list[str] = Field(default_factory=list, description="Every distinct approver.")
    decided_at: datetime
    notes: str = ""


class Manifest(Frozen):
    """Written last: a consumer that sees a manifest can trust every file it lists."""

    schema_: Literal["reelfactory.publication/1"] = Field(
        default="reelfactory.publication/1", alias="schema"
    )
    brand: str
    campaign: str
    brief_id: str
    version: int = Field(ge=1)
    approval: ApprovalRef
    c2pa: Literal["unsigned", "signed"] = Field(
        default="unsigned", description="C2PA manifest status of the videos."
    )
    files: list[ManifestFile] = Field(min_length=1)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def same_files(self, other: Manifest) -> bool:
        key = [(f.key, f.sha256) for f in self.files]
        return sorted(key) == sorted((f.key, f.sha256) for f in other.files)


class Publication(Frozen):
    brief_id: str
    brand: str = ""
    campaign: str = ""
    flow_run_id: str
    version: int = Field(default=1, ge=1)
    aspect_ratio: AspectRatio
    bucket: str
    key: str
    uri: str
    captions_key: str
    captions_uri: str
    subtitles_key: str = ""
    manifest_key: str = ""
    sha256: str
    size: int
    duration_s: float
    width: int
    height: int
    link: str = Field(description="Shareable link: presigned URL on S3, file:// locally.")
    already_published: bool = Field(
        default=False, description="True when an identical version was already there."
    )


class CostRecord(Frozen):
    """Device seconds a video's renders took, and what the shot cache saved it."""

    renders: int = Field(default=0, ge=0, description="Shots rendered.")
    reused: int = Field(default=0, ge=0, description="Shots taken from the shot cache.")
    gpu_s: float = Field(default=0.0, ge=0, description="Model loads and generation on GPUs.")
    cpu_s: float = Field(default=0.0, ge=0, description="Renders on CPUs (the animatic).")
    saved_gpu_s: float = Field(default=0.0, ge=0, description="What reused shots once cost.")
    saved_cpu_s: float = Field(default=0.0, ge=0)
    peak_vram_bytes: int | None = None
    assembly_s: float = Field(default=0.0, ge=0, description="Assembly and signing tasks, CPU.")
    moderation_s: float = Field(default=0.0, ge=0, description="Planning and moderation, CPU.")

    @property
    def cpu_total_s(self) -> float:
        """Every CPU second: renders on CPU, assembly and moderation."""
        return round(self.cpu_s + self.assembly_s + self.moderation_s, 3)

    def __add__(self, other: CostRecord) -> CostRecord:
        peaks = [p for p in (self.peak_vram_bytes, other.peak_vram_bytes) if p is not None]
        return CostRecord(
            renders=self.renders + other.renders,
            reused=self.reused + other.reused,
            gpu_s=round(self.gpu_s + other.gpu_s, 3),
            cpu_s=round(self.cpu_s + other.cpu_s, 3),
            saved_gpu_s=round(self.saved_gpu_s + other.saved_gpu_s, 3),
            saved_cpu_s=round(self.saved_cpu_s + other.saved_cpu_s, 3),
            peak_vram_bytes=max(peaks) if peaks else None,
            assembly_s=round(self.assembly_s + other.assembly_s, 3),
            moderation_s=round(self.moderation_s + other.moderation_s, 3),
        )


class VideoRecord(Frozen):
    """One produce-video run, as cost and ROI reports read it."""

    flow_run_id: str
    brief_id: str
    brand: str
    campaign: str
    status: Literal["published", "rejected", "blocked"]
    versions: int = Field(default=1, ge=1)
    submitted_at: datetime = Field(description="When the run started.")
    decided_at: datetime | None = Field(default=None, description="The final sign-off.")
    finished_at: datetime
    cost: CostRecord = Field(default_factory=CostRecord)
    priced: float | None = Field(default=None, description="cost at the prices then set")
    currency: str = "USD"


class RunOutcome(Frozen):
    """What a produce-video run ended with."""

    status: Literal["published", "rejected", "blocked"]
    brief_id: str
    publications: list[Publication] = Field(default_factory=list)
    cost: CostRecord | None = Field(default=None, description="Renders of every version.")
