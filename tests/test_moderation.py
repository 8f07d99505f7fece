"""Text moderation: each layer alone, the policy engine, brand rules, fail-closed behaviour,
and the stop before expansion. Layers run for real (the profanity SVM, the MiniLM encoder
with the shipped weights); the hosted endpoint is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from reelfactory.brand import load_brand_kit
from reelfactory.errors import InputError, ModerationBlocked
from reelfactory.intake import plan
from reelfactory.models import (
    DEFAULT_THRESHOLDS,
    LAYER_FAILURE,
    BrandKit,
    Brief,
    Category,
    PeoplePolicy,
    Threshold,
    Verdict,
)
from reelfactory.moderation import (
    Policy,
    Signal,
    TextItem,
    TextModerator,
    text_layers,
    text_moderator,
)
from reelfactory.moderation.policy import LayerFailure, decide
from reelfactory.moderation.semantic import LinearModel, SemanticClassifier, windows
from reelfactory.moderation.text import (
    REVIEW_SCORE,
    BrandRules,
    Profanity,
    RemoteModeration,
    builtin_blocklist,
)
from reelfactory.settings import Settings
from tests.conftest import brief_data
from tests.http_fake import serve_json

# --------------------------------------------------------------------------- blocklist


def scan_builtin(text: str) -> list[Signal]:
    return [s for s in builtin_blocklist().scan([TextItem("f", text)]) if not s.presence]


@pytest.mark.parametrize(
    ("text", "category", "score"),
    [
        ("a nude model", Category.SEXUAL, 1.0),
        ("fans of gore", Category.VIOLENCE, 1.0),
        ("two assault rifles on the table", Category.WEAPONS, 1.0),  # plural
        ("a pistol on the desk", Category.WEAPONS, REVIEW_SCORE),  # a review term
        ("c0ca1ne on a mirror", Category.DRUGS, 1.0),  # leetspeak view
        ("a deepfake of a CEO", Category.LIKENESS, 1.0),
        ("elonmusk rides our bike", Category.LIKENESS, 1.0),  # words run together
    ],
)
def test_builtin_blocklist_scores_terms(text: str, category: Category, score: float) -> None:
    signal = max(scan_builtin(text), key=lambda s: s.score)
    assert (signal.category, signal.score, signal.field) == (category, score, "f")
    assert signal.layer == "blocklist:builtin"


@pytest.mark.parametrize(
    "text",
    [
        "our nude lipstick shade",  # allow phrases
        "blood orange sorbet",
        "a hot glue gun for crafts",
        "nudeness",  # word boundaries
        "Scunthorpe United",
        "a gorgeous view",
    ],
)
def test_builtin_blocklist_respects_allow_phrases_and_word_boundaries(text: str) -> None:
    assert scan_builtin(text) == []


def test_minors_terms_are_presence_signals_not_findings() -> None:
    signals = builtin_blocklist().scan([TextItem("f", "kids riding bikes in the park")])
    assert [(s.category, s.presence) for s in signals] == [(Category.MINORS, True)]
    report = decide("s", signals, [], Policy(), ["blocklist:builtin"])
    assert report.verdict is Verdict.ALLOW


# --------------------------------------------------------------------------- policy


def sig(category: Category, score: float, **kw: Any) -> Signal:
    return Signal(layer=kw.pop("layer", "test"), category=category, score=score, field="f", **kw)


@pytest.mark.parametrize(
    ("score", "verdict", "threshold"),
    [
        (0.1, None, None),
        (0.2, Verdict.REVIEW, 0.2),
        (0.5, Verdict.REVIEW, 0.2),
        (0.9, Verdict.BLOCK, 0.9),
    ],
)
def test_thresholds_decide_the_verdict(
    score: float, verdict: Verdict | None, threshold: float | None
) -> None:
    report = decide("s", [sig(Category.VIOLENCE, score)], [], Policy(), ["test"])
    if verdict is None:
        assert report.findings == [] and report.verdict is Verdict.ALLOW
        return
    [finding] = report.findings
    assert (finding.verdict, finding.threshold, finding.score) == (verdict, threshold, score)
    assert (finding.layer, finding.category, finding.field) == ("test", "violence", "f")


def test_minors_tighten_sexual_violence_and_self_harm_only() -> None:
    signals = [
        sig(Category.SEXUAL, 0.5),
        sig(Category.VIOLENCE, 0.5),
        sig(Category.SELF_HARM, 0.5),
        sig(Category.DRUGS, 0.5),
    ]
    without = decide("s", signals, [], Policy(), [])
    assert {f.verdict for f in without.findings} == {Verdict.REVIEW}
    minors = [*signals, sig(Category.MINORS, 1.0, presence=True)]
    tightened = {f.category: f for f in decide("s", minors, [], Policy(), []).findings}
    for category in ("sexual", "violence", "self-harm"):
        assert tightened[category].verdict is Verdict.BLOCK
        assert tightened[category].threshold == pytest.approx(0.45)
        assert "minors involved" in tightened[category].note
    assert tightened["drugs"].verdict is Verdict.REVIEW and tightened["drugs"].note == ""


def test_minors_category_score_also_counts_as_involvement() -> None:
    signals = [sig(Category.SEXUAL, 0.5), sig(Category.MINORS, 0.3)]
    verdicts = {f.category: f.verdict for f in decide("s", signals, [], Policy(), []).findings}
    assert verdicts == {"sexual": Verdict.BLOCK, "minors": Verdict.REVIEW}


@pytest.mark.parametrize(
    ("people", "verdict"),
    [
        (PeoplePolicy.ALLOW, Verdict.ALLOW),
        (PeoplePolicy.REVIEW, Verdict.REVIEW),
        (PeoplePolicy.BLOCK, Verdict.BLOCK),
    ],
)
def test_people_follow_the_brand_policy(people: PeoplePolicy, verdict: Verdict) -> None:
    report = decide("s", [sig(Category.PEOPLE, 1.0, time_s=1.25)], [], Policy(people=people), [])
    assert report.verdict is verdict
    if verdict is not Verdict.ALLOW:
        assert report.findings[0].time_s == 1.25
        assert "at 1.25 s" in report.findings[0].describe()


def test_a_failed_layer_is_a_review_never_an_allow() -> None:
    report = decide("s", [], [LayerFailure("semantic", "OSError: weights missing")], Policy(), [])
    [finding] = report.findings
    assert report.verdict is Verdict.REVIEW
    assert (finding.category, finding.layer) == (LAYER_FAILURE, "semantic")
    assert "layer semantic failed (OSError: weights missing); fail closed" in finding.describe()


def test_findings_are_sorted_strongest_first() -> None:
    signals = [sig(Category.DRUGS, 0.3), sig(Category.HATE, 0.95), sig(Category.IP, 0.5)]
    report = decide("s", signals, [], Policy(), [])
    assert [f.category for f in report.findings] == ["hate", "ip", "drugs"]


# --------------------------------------------------------------------------- kit thresholds


def write_kit(kits_copy: Path, moderation: dict[str, Any]) -> Path:
    kit_file = kits_copy / "aurora-coffee" / "kit.yaml"
    data = yaml.safe_load(kit_file.read_text())
    data["moderation"] = {**data.get("moderation", {}), **moderation}
    kit_file.write_text(yaml.safe_dump(data))
    return kit_file.parent


def test_brand_kits_may_tighten_thresholds(kits_copy: Path) -> None:
    kit = load_brand_kit(
        write_kit(kits_copy, {"thresholds": {"drugs": {"review": 0.1, "block": 0.5}}})
    )
    policy = Policy.for_kit(kit)
    assert policy.thresholds[Category.DRUGS] == Threshold(review=0.1, block=0.5)
    assert policy.thresholds[Category.HATE] == DEFAULT_THRESHOLDS[Category.HATE]
    report = decide("s", [sig(Category.DRUGS, 0.6)], [], policy, [])
    assert report.verdict is Verdict.BLOCK


def test_brand_kits_may_not_loosen_thresholds(kits_copy: Path) -> None:
    folder = write_kit(kits_copy, {"thresholds": {"violence": {"review": 0.5, "block": 0.99}}})
    with pytest.raises(InputError) as info:
        load_brand_kit(folder)
    message = str(info.value)
    assert "moderation.thresholds" in message
    assert "violence.review 0.5 is looser than the default 0.2" in message
    assert "violence.block 0.99 is looser than the default 0.9" in message


def test_kit_thresholds_must_be_ordered(kits_copy: Path) -> None:
    folder = write_kit(kits_copy, {"thresholds": {"ip": {"review": 0.15, "block": 0.1}}})
    with pytest.raises(InputError, match=r"review \(0.15\) must not be above block \(0.1\)"):
        load_brand_kit(folder)


# --------------------------------------------------------------------------- brand rules


def brand_signals(kit: BrandKit, *texts: str, legal: bool = False) -> list[Signal]:
    items = [TextItem(f"t{i}", t) for i, t in enumerate(texts)]
    return BrandRules(kit, require_legal_line=legal).scan(items)


def test_competitors_and_banned_terms_block(aurora: BrandKit) -> None:
    found = brand_signals(aurora, "Richer than Cоsta, and never cheap")  # Cyrillic о
    assert {(s.evidence.split(" ")[0], s.score) for s in found} == {("costa", 1.0), ("cheap", 1.0)}
    assert all(s.category is Category.BRAND_RULES for s in found)


def test_a_claim_needs_its_disclaimer_in_the_same_document(aurora: BrandKit) -> None:
    [claim] = brand_signals(aurora, "Our roast boosts metabolism before your run")
    assert claim.score == REVIEW_SCORE
    assert "claim 'boosts metabolism' without disclaimer" in claim.evidence
    disclaimer = aurora.moderation.claims[0].disclaimer
    assert brand_signals(aurora, "Our roast boosts metabolism", disclaimer) == []


def test_a_missing_legal_line_sends_a_brief_to_review(kits_copy: Path) -> None:
    kit = load_brand_kit(write_kit(kits_copy, {"legal_line": "Roasted in Leeds. T&Cs apply."}))
    moderator = text_moderator(Settings(), kit)
    brief = Brief.model_validate(brief_data())
    report = moderator.brief(brief)
    assert report.verdict is Verdict.REVIEW
    assert any("mandatory legal line missing" in f.term for f in report.findings)
    with_line = Brief.model_validate(
        brief_data(call_to_action="Order at aurora.example. Roasted in Leeds. T&Cs apply.")
    )
    assert moderator.brief(with_line).verdict is Verdict.ALLOW
    # Single texts (reel moderate) are not briefs: the legal line is not asked of them.
    assert moderator.text("Slow mornings, better coffee").verdict is Verdict.ALLOW


# --------------------------------------------------------------------------- profanity


def test_profanity_layer_scores_swearing_high_and_copy_low() -> None:
    items = [TextItem("rude", "what the fuck is this shit"), TextItem("copy", "Slow mornings")]
    scores = {s.field: s.score for s in Profanity().scan(items)}
    assert scores["rude"] > 0.9
    assert scores["copy"] < 0.3


# --------------------------------------------------------------------------- semantic


def test_semantic_layer_scores_disallowed_text_and_passes_copy() -> None:
    layer = SemanticClassifier()
    items = [
        TextItem("bad", "a man stabs his neighbour and blood covers the kitchen floor"),
        TextItem("good", "a barista pours latte art in warm morning light"),
    ]
    top: dict[str, tuple[Category, float]] = {}
    for s in layer.scan(items):
        if s.score > top.get(s.field, (None, 0.0))[1]:
            top[s.field] = (s.category, s.score)
    assert top["bad"][0] is Category.VIOLENCE and top["bad"][1] >= 0.9
    assert (
        top.get("good", (Category.VIOLENCE, 0.0))[1] < DEFAULT_THRESHOLDS[Category.VIOLENCE].review
    )


def test_semantic_layer_reads_long_prompts_in_windows() -> None:
    filler = "A sunny kitchen, a kettle, a mug of coffee on a wooden table. " * 12
    buried = filler + "Then a man stabs his neighbour and blood covers the floor. " + filler
    assert len(windows(buried)) > 3
    scores = [s.score for s in SemanticClassifier().scan([TextItem("f", buried)])]
    assert max(scores) >= 0.9


def test_semantic_weights_round_trip(tmp_path: Path) -> None:
    model = SemanticClassifier().model
    assert model.classes[0] == "benign" and len(model.trained_on) == 64
    model.save(tmp_path / "w.npz")
    again = LinearModel.load(tmp_path / "w.npz")
    assert again.classes == model.classes
    np.testing.assert_array_equal(again.coef, model.coef)


def test_missing_weights_fail_closed(tmp_path: Path) -> None:
    moderator = TextModerator([SemanticClassifier(weights=tmp_path / "missing.npz")], Policy())
    report = moderator.text("Slow mornings, better coffee")
    [finding] = report.findings
    assert report.verdict is Verdict.REVIEW
    assert finding.category == LAYER_FAILURE and "FileNotFoundError" in finding.term


# --------------------------------------------------------------------------- fail closed


@dataclass
class Raising:
    name: str = "broken"

    def load(self) -> None:
        pass

    def scan(self, items: Sequence[TextItem]) -> list[Signal]:
        raise RuntimeError("classifier crashed")


@dataclass
class Slow:
    name: str = "slow"

    def load(self) -> None:
        pass

    def scan(self, items: Sequence[TextItem]) -> list[Signal]:
        time.sleep(2)
        return []


def test_a_raising_layer_sends_text_to_review() -> None:
    moderator = TextModerator([builtin_blocklist(), Raising()], Policy())
    report = moderator.text("Slow mornings, better coffee")
    assert report.verdict is Verdict.REVIEW
    [finding] = report.findings
    assert (finding.layer, finding.term) == ("broken", "RuntimeError: classifier crashed")
    # A block from another layer still blocks.
    assert moderator.text("a nude model").verdict is Verdict.BLOCK


def test_a_layer_that_times_out_sends_text_to_review() -> None:
    started = time.monotonic()
    report = TextModerator([Slow()], Policy(), timeout_s=0.3).text("Slow mornings")
    assert time.monotonic() - started < 1.5
    [finding] = report.findings
    assert report.verdict is Verdict.REVIEW and finding.term == "timed out after 0.3 s"


def test_an_over_long_text_is_reviewed_for_the_part_not_read() -> None:
    report = TextModerator([builtin_blocklist()], Policy()).text("coffee " * 4000)
    [finding] = report.findings
    assert finding.layer == "normalise" and "only the first 20000" in finding.term


# --------------------------------------------------------------------------- remote


@dataclass
class FakeModeration:
    """An OpenAI-style /v1/moderations endpoint answering every input with ``scores``."""

    port: int = 0
    status: int = 200
    scores: dict[str, float] = field(default_factory=dict)
    requests: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)

    def respond(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        self.requests.append((body, headers))
        if path != "/v1/moderations":
            return 404, {"error": {"message": f"no route {path}"}}
        if self.status != 200:
            return self.status, {"error": {"message": "unavailable"}}
        result = {"flagged": True, "categories": {}, "category_scores": self.scores}
        return 200, {"id": "modr-1", "results": [result] * len(body["input"])}


@pytest.fixture
def moderation_server() -> Iterator[FakeModeration]:
    fake = FakeModeration()
    with serve_json(fake) as port:
        fake.port = port
        yield fake


def test_remote_layer_is_off_by_default() -> None:
    assert not any(isinstance(x, RemoteModeration) for x in text_layers(Settings(), None))


def test_remote_layer_maps_categories_and_sends_the_key(
    moderation_server: FakeModeration,
) -> None:
    moderation_server.scores = {"sexual/minors": 0.97, "harassment": 0.4, "illicit": 0.01}
    settings = Settings(
        moderation_remote_url=f"http://127.0.0.1:{moderation_server.port}/v1",
        moderation_remote_api_key="sk-remote-secret",
    )
    [remote] = [x for x in text_layers(settings, None) if isinstance(x, RemoteModeration)]
    assert "sk-remote-secret" not in repr(remote)
    report = TextModerator([remote], Policy()).text("whatever the endpoint says")
    verdicts = {(f.category, f.term): f.verdict for f in report.findings}
    assert verdicts == {
        ("minors", "sexual/minors"): Verdict.BLOCK,
        ("hate", "harassment"): Verdict.REVIEW,
    }
    [(body, headers)] = moderation_server.requests
    assert body == {"model": "omni-moderation-latest", "input": ["whatever the endpoint says"]}
    assert headers["authorization"] == "Bearer sk-remote-secret"


def test_remote_layer_errors_fail_closed(moderation_server: FakeModeration) -> None:
    moderation_server.status = 503
    remote = RemoteModeration(f"http://127.0.0.1:{moderation_server.port}/v1", "m", "sk-x")
    report = TextModerator([remote], Policy()).text("Slow mornings")
    [finding] = report.findings
    assert report.verdict is Verdict.REVIEW and "503" in finding.term
    assert "sk-x" not in finding.describe()


# --------------------------------------------------------------------------- whole stack


def test_brief_report_names_field_span_and_excerpt(aurora: BrandKit) -> None:
    brief = Brief.model_validate(brief_data(call_to_action="Guaranteed cheap coffee, order now"))
    report = text_moderator(Settings(), aurora).brief(brief)
    assert report.verdict is Verdict.BLOCK
    blocks = {(f.field, f.term, f.span) for f in report.findings if f.layer.startswith("brand")}
    assert blocks == {
        ("brief.call_to_action", "guaranteed", (0, 10)),
        ("brief.call_to_action", "cheap", (11, 16)),
    }
    assert all("Guaranteed cheap coffee" in f.excerpt for f in report.findings if f.excerpt)
    assert report.layers == [
        "blocklist:builtin",
        "brand-rules:aurora-coffee",
        "profanity-check",
        "semantic:minilm",
    ]


def test_clean_brief_is_allowed(aurora: BrandKit, brief: Brief) -> None:
    assert text_moderator(Settings(), aurora).brief(brief).verdict is Verdict.ALLOW


def test_plan_stops_blocked_brief_before_expansion() -> None:
    brief = Brief.model_validate(brief_data(message="The cheap way to wake up"))
    with pytest.raises(ModerationBlocked) as info:
        plan(brief, Settings())
    message = str(info.value)
    assert "brief.message at 4-9: block brand-rules 'cheap'" in message
    assert "'The cheap way to wake up'" in message
    assert info.value.report is not None
    assert info.value.report.subject == "brief test-brief"


def test_plan_carries_a_review_verdict_instead_of_raising() -> None:
    brief = Brief.model_validate(
        brief_data(message="Sunrise Blend boosts metabolism, every morning")
    )
    result = plan(brief, Settings())
    assert result.report.verdict is Verdict.REVIEW
    assert any(
        f.field == "brief.message" and "boosts metabolism" in f.term for f in result.report.findings
    )
    assert result.shot_list.shots  # expansion went ahead: a human decides before rendering


@dataclass
class LoadFails:
    name: str = "needs-a-model"

    def load(self) -> None:
        raise OSError("model file missing")

    def scan(self, items: Sequence[TextItem]) -> list[Signal]:
        raise AssertionError("never scanned when it did not load")


def test_a_layer_that_cannot_load_fails_closed_and_is_not_scanned() -> None:
    report = TextModerator([LoadFails(), builtin_blocklist()], Policy()).text("fans of gore")
    terms = {(f.layer, f.term) for f in report.findings}
    assert ("needs-a-model", "OSError: model file missing") in terms
    assert report.verdict is Verdict.BLOCK  # the blocklist still ran


def test_layers_load_in_one_thread_before_any_scan() -> None:
    """torch breaks when two threads import it first at once (seen in the e2e lane:
    'partially initialized module torch'); loads are serial, scans parallel."""

    seen: list[tuple[str, str]] = []

    @dataclass
    class Probe:
        name: str

        def load(self) -> None:
            seen.append(("load", threading.current_thread().name))

        def scan(self, items: Sequence[TextItem]) -> list[Signal]:
            seen.append(("scan", self.name))
            return []

    TextModerator([Probe("a"), Probe("b"), Probe("c")], Policy()).text("x")
    loads = [thread for what, thread in seen if what == "load"]
    assert len(loads) == 3 and len(set(loads)) == 1
    assert [what for what, _ in seen][:3] == ["load"] * 3
