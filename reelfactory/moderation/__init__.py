"""Moderation in layers, after the Sora system card's mitigation stack.

Text (the brief, every shot prompt, caption and voice-over) goes through blocklists, brand
rules, a profanity model, a semantic classifier and, optionally, a hosted endpoint. Frames
sampled from every rendered shot and every cut go through nudity, face and, optionally,
image-classifier layers (``reelfactory.moderation.frames``). ``policy`` turns all of their
scores into one verdict per subject: allow, review (a human decides) or block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from reelfactory.models import BrandKit, Brief, ModerationReport, ShotList
from reelfactory.moderation.policy import LayerFailure, Policy, Signal, decide
from reelfactory.moderation.text import (
    BrandRules,
    Profanity,
    RemoteModeration,
    TextItem,
    TextLayer,
    builtin_blocklist,
    run_layers,
    truncation_failures,
)
from reelfactory.settings import Settings

__all__ = [
    "LayerFailure",
    "Policy",
    "Signal",
    "TextItem",
    "TextModerator",
    "brief_fields",
    "shot_fields",
    "text_moderator",
]

BRIEF_TEXT_FIELDS = ("title", "message", "audience", "call_to_action")


def brief_fields(brief: Brief) -> list[TextItem]:
    """Every piece of copy in a brief, named by its field, with its language."""
    lang, g = brief.language, "brief"
    items = [TextItem(f"brief.{n}", str(getattr(brief, n)), lang, g) for n in BRIEF_TEXT_FIELDS]
    items += [TextItem(f"brief.steps[{i}]", s, lang, g) for i, s in enumerate(brief.steps)]
    items += [TextItem(f"brief.voice_over.{k}", v, lang, g) for k, v in brief.voice_over.items()]
    if brief.tone:
        items.append(TextItem("brief.tone", brief.tone, lang, g))
    items += [
        TextItem(f"brief.mandatory_elements[{i}]", e, lang, g)
        for i, e in enumerate(brief.mandatory_elements)
    ]
    for tl, copy in brief.translations.items():
        where = f"brief.translations.{tl}"
        items += [
            TextItem(f"{where}.{name}", str(getattr(copy, name)), tl, where)
            for name in ("title", "message", "call_to_action")
        ]
        items += [TextItem(f"{where}.steps[{i}]", s, tl, where) for i, s in enumerate(copy.steps)]
        items += [
            TextItem(f"{where}.voice_over.{k}", v, tl, where) for k, v in copy.voice_over.items()
        ]
    return items


def shot_fields(shot_list: ShotList) -> list[TextItem]:
    """Every prompt (English, for the video model), caption and voice-over, named by shot."""
    items = []
    for shot in shot_list.shots:
        at = f"shot[{shot.index}]"
        items.append(TextItem(f"{at}.prompt", shot.prompt, "en", at))
        for lang, copy in shot.localized.items():
            group = at if lang.startswith("en") else f"{at}.{lang}"
            items.append(TextItem(f"{at}.caption.{lang}", copy.caption, lang, group))
            items.append(TextItem(f"{at}.voice_over.{lang}", copy.voice_over, lang, group))
    return [i for i in items if i.text]


@dataclass(frozen=True)
class TextModerator:
    """The text layers and the policy for one brand (or none)."""

    layers: Sequence[TextLayer]
    policy: Policy = field(default_factory=Policy)
    timeout_s: float = 120.0
    kit: BrandKit | None = None

    def texts(self, subject: str, items: Sequence[TextItem]) -> ModerationReport:
        signals, failures = run_layers(
            self.layers, lambda layer: layer.scan(items), timeout_s=self.timeout_s
        )
        failures += truncation_failures(items)
        return decide(subject, signals, failures, self.policy, [x.name for x in self.layers])

    def text(self, text: str, field: str = "text") -> ModerationReport:
        return self.texts(field, [TextItem(field, text)])

    def brief(self, brief: Brief) -> ModerationReport:
        """The brief's copy, with the brand's mandatory legal line required."""
        moderator = self
        if self.kit is not None and self.kit.moderation.legal_line:
            moderator = self.with_layers(
                [
                    BrandRules(self.kit, require_legal_line=True)
                    if isinstance(x, BrandRules)
                    else x
                    for x in self.layers
                ]
            )
        return moderator.texts(f"brief {brief.brief_id}", brief_fields(brief))

    def shots(self, shot_list: ShotList) -> ModerationReport:
        return self.texts(f"shot list {shot_list.brief_id}", shot_fields(shot_list))

    def with_layers(self, layers: Sequence[TextLayer]) -> TextModerator:
        return TextModerator(layers, self.policy, self.timeout_s, self.kit)


def own_names(kit: BrandKit) -> tuple[str, ...]:
    """How copy names the brand itself ('Aurora Coffee', 'aurora-coffee', 'Aurora')."""
    return tuple(dict.fromkeys([kit.name, kit.id.replace("-", " "), kit.name.split()[0]]))


def text_layers(settings: Settings, kit: BrandKit | None) -> list[TextLayer]:
    from reelfactory.moderation.semantic import SemanticClassifier

    layers: list[TextLayer] = [builtin_blocklist()]
    if kit is not None:
        layers.append(BrandRules(kit))
    own = own_names(kit) if kit is not None else ()
    layers += [Profanity(), SemanticClassifier(own_names=own)]
    if settings.moderation_remote_url:
        key = settings.moderation_remote_api_key
        layers.append(
            RemoteModeration(
                base_url=settings.moderation_remote_url,
                model=settings.moderation_remote_model,
                api_key=key.get_secret_value() if key else None,
                timeout_s=settings.moderation_remote_timeout_s,
            )
        )
    return layers


def text_moderator(settings: Settings, kit: BrandKit | None) -> TextModerator:
    return TextModerator(
        text_layers(settings, kit),
        Policy.for_kit(kit),
        settings.moderation_timeout_s,
        kit,
    )
