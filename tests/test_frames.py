"""Frame moderation: sampling, each frame layer on real frames (OpenCV's Haar cascade,
nudenet's ONNX detector, a transformers image classifier), the collapse to one finding per
layer and category, fail-closed behaviour, and animatic renders passing clean.

Videos are written here with OpenCV; the face is a drawn one the frontal-face cascade finds
robustly. The image classifier is a tiny randomly initialised ViT saved to a temporary
folder (no hub), biased so that its 'unsafe' label dominates.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

from reelfactory.models import (
    LAYER_FAILURE,
    AspectRatio,
    BrandKit,
    Brief,
    Category,
    PeoplePolicy,
    Threshold,
    Verdict,
)
from reelfactory.moderation.frames import (
    BATCH,
    COVERED_WEIGHT,
    FRAME_SHORT_EDGE,
    MIN_CONFIDENCE,
    Faces,
    Frame,
    FrameLayer,
    FrameModerator,
    ImageClassifier,
    Nudity,
    frame_layers,
    frame_moderator,
    nudity_signals,
    sample_frames,
    strongest,
)
from reelfactory.moderation.policy import Policy, Signal, decide
from reelfactory.render import get_renderer, requests_for
from reelfactory.settings import Settings
from tests.conftest import shot_list_for
from tests.tiny_models import tiny_vit

Bgr = NDArray[np.uint8]
FPS = 24

# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test here may reach the Hugging Face hub."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def drawn_face() -> Image.Image:
    """A 400x400 frontal face that the Haar cascade finds up to minNeighbors 15."""
    image = Image.new("RGB", (400, 400), (90, 90, 100))
    draw = ImageDraw.Draw(image)
    draw.ellipse([110, 50, 290, 330], fill=(224, 180, 150))
    for x in (160, 240):
        draw.ellipse([x - 30, 140, x + 30, 185], fill=(40, 40, 40))
        draw.rectangle([x - 35, 118, x + 35, 130], fill=(50, 40, 30))
    draw.rectangle([192, 185, 208, 245], fill=(249, 205, 175))
    draw.ellipse([175, 250, 225, 265], fill=(120, 60, 60))
    draw.ellipse([160, 268, 240, 292], fill=(90, 40, 40))
    return image.filter(ImageFilter.GaussianBlur(5))


def to_bgr(image: Image.Image) -> Bgr:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8)[:, :, ::-1])


def face_frame(width: int, height: int) -> Bgr:
    """The drawn face, 90% of the short edge, centred on a canvas of its background."""
    side = round(min(width, height) * 0.9)
    canvas = Image.new("RGB", (width, height), (90, 90, 100))
    canvas.paste(drawn_face().resize((side, side)), ((width - side) // 2, (height - side) // 2))
    return to_bgr(canvas)


def disc_frame(width: int, height: int) -> Bgr:
    """A flat colour and an orange disc: what an animatic background looks like."""
    frame = np.full((height, width, 3), (90, 60, 40), dtype=np.uint8)
    cv2.circle(frame, (width // 2, height // 2), min(width, height) // 3, (0, 140, 255), -1)
    return frame


def write_video(path: Path, frames: Sequence[Bgr], fps: int = FPS) -> Path:
    height, width = frames[0].shape[:2]
    fourcc = cv2.VideoWriter.fourcc(*"mp4v")
    writer = cv2.VideoWriter(str(path), fourcc, fps, (width, height))
    assert writer.isOpened(), f"OpenCV cannot write {path}"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def still_video(path: Path, frame: Bgr, seconds: float) -> Path:
    return write_video(path, [frame] * round(seconds * FPS))


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="module")
def face_video(videos: Path) -> Path:
    """2 s of the drawn face at 640x360: 4 frames at 2 fps."""
    return still_video(videos / "face.mp4", face_frame(640, 360), 2.0)


@pytest.fixture(scope="module")
def disc_video(videos: Path) -> Path:
    """2 s of a flat colour with a disc: nothing any layer should flag."""
    return still_video(videos / "disc.mp4", disc_frame(640, 360), 2.0)


@pytest.fixture(scope="module")
def unsafe_vit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Labels 'unsafe' (softmax ~0.9997 on any image) and 'safe'."""
    return tiny_vit(tmp_path_factory.mktemp("models") / "tiny-vit", [4.0, -4.0], ["unsafe", "safe"])


def frames_of(path: Path) -> list[Frame]:
    return list(sample_frames(path))


class Broken:
    """A layer whose model is missing: every scan raises."""

    name = "broken"

    def load(self) -> None:
        pass

    def scan(self, field: str, frames: Sequence[Frame]) -> list[Signal]:
        raise RuntimeError("model file missing")


class Slow:
    """A layer that hangs far longer than the moderator's time limit."""

    name = "slow"

    def load(self) -> None:
        pass

    def scan(self, field: str, frames: Sequence[Frame]) -> list[Signal]:
        time.sleep(2.0)
        return []


class Recording:
    """A layer that remembers the batches it saw and scores every frame 0.6 brand-rules."""

    name = "recording"

    def __init__(self) -> None:
        self.batches: list[list[float]] = []

    def load(self) -> None:
        pass

    def scan(self, field: str, frames: Sequence[Frame]) -> list[Signal]:
        self.batches.append([f.time_s for f in frames])
        return [
            Signal(self.name, Category.BRAND_RULES, 0.6, field, evidence="logo", time_s=f.time_s)
            for f in frames
        ]


# --------------------------------------------------------------------------- sampling


@pytest.mark.parametrize(
    ("fps", "times"),
    [
        (2.0, [0.25, 0.75, 1.25, 1.75, 2.25, 2.75]),
        (1.0, [0.5, 1.5, 2.5]),
    ],
)
def test_sample_frames_takes_the_middle_of_each_interval(
    tmp_path: Path, fps: float, times: list[float]
) -> None:
    """Frames come at (k + 0.5) / fps s, and each is the source frame shown at that time."""
    # Frame i of the source is a flat grey of 3 * i, so neighbouring frames differ.
    source = [np.full((120, 160, 3), 3 * i, dtype=np.uint8) for i in range(3 * FPS)]
    video = write_video(tmp_path / "ramp.mp4", source)
    cap = cv2.VideoCapture(str(video))
    decoded: list[Bgr] = []
    while (read := cap.read())[0]:
        decoded.append(np.asarray(read[1], dtype=np.uint8))
    cap.release()
    assert len(decoded) == 3 * FPS
    frames = list(sample_frames(video, fps=fps))
    assert [f.time_s for f in frames] == times
    for f in frames:
        index = round(f.time_s * FPS)
        assert np.array_equal(f.bgr, decoded[index]), f.time_s
        assert not np.array_equal(f.bgr, decoded[index - 1]), "neighbours must differ"


@pytest.mark.parametrize(
    ("size", "shape"),
    [
        ((1280, 720), (FRAME_SHORT_EDGE, 853, 3)),
        ((720, 1280), (853, FRAME_SHORT_EDGE, 3)),
        ((640, 360), (360, 640, 3)),  # already small: untouched
    ],
)
def test_sample_frames_scales_the_short_edge_down_to_480(
    tmp_path: Path, size: tuple[int, int], shape: tuple[int, int, int]
) -> None:
    """Large frames are shrunk keeping their aspect ratio; small ones are never enlarged."""
    video = still_video(tmp_path / "big.mp4", disc_frame(*size), 0.5)
    [frame] = frames_of(video)
    assert frame.bgr.shape == shape


def test_a_large_face_is_still_found_after_scaling(tmp_path: Path) -> None:
    """Scaling a 1280x720 frame to 853x480 keeps the face detectable."""
    video = still_video(tmp_path / "hd-face.mp4", face_frame(1280, 720), 0.5)
    [signal] = Faces().scan("cut", frames_of(video))
    assert signal.category is Category.PEOPLE


@pytest.mark.parametrize("content", [b"", b"not a video at all\n", bytes(range(256)) * 20])
def test_sample_frames_refuses_an_unreadable_file(tmp_path: Path, content: bytes) -> None:
    """Empty, text or garbage .mp4 files raise ValueError instead of yielding nothing."""
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="cannot read video"):
        list(sample_frames(path))
    with pytest.raises(ValueError, match="cannot read video"):
        FrameModerator([Faces()], Policy()).video(path, "cut")


def test_sample_frames_refuses_a_missing_file(tmp_path: Path) -> None:
    """A path that does not exist is a ValueError too."""
    with pytest.raises(ValueError, match="cannot read video"):
        list(sample_frames(tmp_path / "missing.mp4"))


def test_a_clip_too_short_to_sample_fails_closed(tmp_path: Path) -> None:
    """4 frames (0.17 s) hold no sample at 2 fps: the report is a review, never an allow."""
    video = write_video(tmp_path / "blip.mp4", [face_frame(640, 360)] * 4)
    assert frames_of(video) == []
    report = FrameModerator([Faces()], Policy(people=PeoplePolicy.ALLOW)).video(video, "cut")
    assert report.verdict is Verdict.REVIEW
    [finding] = report.findings
    assert (finding.layer, finding.category, finding.field) == ("sampler", LAYER_FAILURE, "cut")
    assert finding.term == "no frames in blip.mp4"


# --------------------------------------------------------------------------- faces


@pytest.mark.parametrize(("width", "height"), [(640, 360), (360, 640)])
def test_faces_layer_finds_a_frontal_face_in_every_frame(
    tmp_path: Path, width: int, height: int
) -> None:
    """One people signal at score 1.0 per frame showing a face, landscape or portrait."""
    video = still_video(tmp_path / "face.mp4", face_frame(width, height), 2.0)
    signals = Faces().scan("cut", frames_of(video))
    assert [s.time_s for s in signals] == [0.25, 0.75, 1.25, 1.75]
    for s in signals:
        assert (s.layer, s.category, s.score, s.field) == (
            "faces:opencv",
            Category.PEOPLE,
            1.0,
            "cut",
        )
        assert s.evidence.startswith("1 face(s), first at x=")


def test_faces_layer_ignores_frames_without_a_face(disc_video: Path) -> None:
    """A flat colour and a disc is no person."""
    assert Faces().scan("cut", frames_of(disc_video)) == []


@pytest.mark.parametrize(
    ("people", "verdict"),
    [
        (PeoplePolicy.ALLOW, Verdict.ALLOW),
        (PeoplePolicy.REVIEW, Verdict.REVIEW),
        (PeoplePolicy.BLOCK, Verdict.BLOCK),
    ],
)
def test_the_brand_people_policy_decides_a_face(
    face_video: Path, people: PeoplePolicy, verdict: Verdict
) -> None:
    """allow -> no finding; review/block -> one finding naming field, time, layer, score."""
    report = FrameModerator([Faces()], Policy(people=people)).video(face_video, "cut 16x9")
    assert report.subject == "cut 16x9"
    assert report.layers == ["faces:opencv"]
    assert report.verdict is verdict
    if verdict is Verdict.ALLOW:
        assert report.findings == []
        return
    [finding] = report.findings
    assert finding.verdict is verdict
    assert (finding.layer, finding.category, finding.field) == (
        "faces:opencv",
        "people",
        "cut 16x9",
    )
    assert (finding.score, finding.threshold, finding.time_s) == (1.0, 0.5, 0.25)
    assert finding.term.endswith("; in 4 of 4 frames (0.25, 0.75, 1.25, 1.75 s)")


def test_a_finding_names_only_the_frames_that_hit(tmp_path: Path) -> None:
    """1 s without a face then 1 s with one: 'in 2 of 4 frames', at the first hit."""
    frames = [disc_frame(640, 360)] * FPS + [face_frame(640, 360)] * FPS
    video = write_video(tmp_path / "enters.mp4", frames)
    report = FrameModerator([Faces()], Policy()).video(video, "cut")
    [finding] = report.findings
    assert finding.verdict is Verdict.REVIEW
    assert finding.time_s == 1.25
    assert finding.term.endswith("; in 2 of 4 frames (1.25, 1.75 s)")


# --------------------------------------------------------------------------- nudity


def det(label: str, score: float) -> dict[str, object]:
    return {"class": label, "score": score, "box": [10, 20, 30, 40]}


@pytest.mark.parametrize(
    ("detections", "score", "evidence"),
    [
        ([det("FEMALE_BREAST_EXPOSED", 0.9)], 0.9, "female_breast_exposed"),
        ([det("BUTTOCKS_COVERED", 0.8)], 0.8 * COVERED_WEIGHT, "buttocks_covered"),
        ([det("MALE_GENITALIA_EXPOSED", MIN_CONFIDENCE)], MIN_CONFIDENCE, "male_genitalia_exposed"),
        # the strongest weighted detection wins; a covered one counts half
        (
            [
                det("FEMALE_BREAST_COVERED", 0.95),
                det("BUTTOCKS_EXPOSED", 0.7),
                det("ANUS_EXPOSED", 0.6),
            ],
            0.7,
            "buttocks_exposed",
        ),
        (
            [det("FEMALE_GENITALIA_COVERED", 0.6), det("FEMALE_BREAST_COVERED", 0.9)],
            0.9 * COVERED_WEIGHT,
            "female_breast_covered",
        ),
    ],
)
def test_nudity_signals_score_the_strongest_detection(
    detections: list[dict[str, object]], score: float, evidence: str
) -> None:
    """Exposed labels score their confidence, covered ones half; one signal per frame."""
    signals = nudity_signals(detections, "cut", 1.25, "nudity:nudenet")
    assert signals == [
        Signal("nudity:nudenet", Category.SEXUAL, score, "cut", evidence=evidence, time_s=1.25)
    ]


@pytest.mark.parametrize(
    "detections",
    [
        [],
        [det("FEMALE_BREAST_EXPOSED", MIN_CONFIDENCE - 0.01)],  # the orange-disc false hit
        [det("FACE_FEMALE", 0.99), det("FACE_MALE", 0.97)],
        [det("FEET_EXPOSED", 0.95), det("ARMPITS_EXPOSED", 0.9), det("BELLY_COVERED", 0.9)],
    ],
)
def test_nudity_signals_ignore_weak_and_irrelevant_detections(
    detections: list[dict[str, object]],
) -> None:
    """Detections under MIN_CONFIDENCE, faces and other body parts give no signal."""
    assert nudity_signals(detections, "cut", 0.25, "nudity:nudenet") == []


def test_covered_nudity_reviews_but_never_blocks_by_default() -> None:
    """Even at confidence 1.0 a covered label stays under the default block threshold."""
    signals = nudity_signals([det("FEMALE_BREAST_COVERED", 1.0)], "cut", 0.25, "nudity")
    assert decide("cut", signals, [], Policy(), []).verdict is Verdict.REVIEW
    exposed = nudity_signals([det("FEMALE_BREAST_EXPOSED", 0.95)], "cut", 0.25, "nudity")
    assert decide("cut", exposed, [], Policy(), []).verdict is Verdict.BLOCK


def test_nudity_layer_passes_benign_frames(disc_video: Path, face_video: Path) -> None:
    """nudenet's real detector finds nothing sexual in a disc or a face."""
    nudity = Nudity()
    assert nudity.scan("cut", frames_of(disc_video)) == []
    signals = nudity.scan("cut", frames_of(face_video))
    assert [s for s in signals if s.category is Category.SEXUAL] == []


def test_default_layers_allow_a_face_when_the_brand_allows_people(face_video: Path) -> None:
    """Default layers (nudity, faces) on a face under PeoplePolicy.ALLOW: a clean allow."""
    moderator = FrameModerator(frame_layers(Settings()), Policy(people=PeoplePolicy.ALLOW))
    report = moderator.video(face_video, "cut")
    assert report.layers == ["nudity:nudenet", "faces:opencv"]
    assert report.findings == []
    assert report.verdict is Verdict.ALLOW


# --------------------------------------------------------------------------- image classifier


def test_image_classifier_maps_model_labels_onto_categories(
    unsafe_vit: Path, disc_video: Path
) -> None:
    """Every frame gives the mapped label's score under our category, named by the model."""
    layer = ImageClassifier(model=str(unsafe_vit), labels={"unsafe": Category.VIOLENCE})
    assert layer.name == "image-classifier:tiny-vit"
    signals = layer.scan("cut", frames_of(disc_video))
    assert [s.time_s for s in signals] == [0.25, 0.75, 1.25, 1.75]
    for s in signals:
        assert (s.layer, s.category, s.evidence) == (layer.name, Category.VIOLENCE, "unsafe")
        assert s.score > 0.9


def test_image_classifier_reports_only_mapped_labels(unsafe_vit: Path, disc_video: Path) -> None:
    """Labels the model lacks give nothing; an unlikely mapped label scores low and passes."""
    frames = frames_of(disc_video)
    none = ImageClassifier(model=str(unsafe_vit), labels={"gore": Category.VIOLENCE})
    assert none.scan("cut", frames) == []
    safe = ImageClassifier(model=str(unsafe_vit), labels={"safe": Category.WEAPONS})
    signals = safe.scan("cut", frames)
    assert len(signals) == 4
    assert all(s.category is Category.WEAPONS and s.score < 0.01 for s in signals)
    assert FrameModerator([safe], Policy()).video(disc_video, "cut").verdict is Verdict.ALLOW


def test_image_classifier_handles_a_single_frame_batch(unsafe_vit: Path, tmp_path: Path) -> None:
    """A batch of one frame (0.5 s of video) still gives one signal per label."""
    video = still_video(tmp_path / "short.mp4", disc_frame(320, 180), 0.5)
    layer = ImageClassifier(model=str(unsafe_vit), labels={"unsafe": Category.VIOLENCE})
    [signal] = layer.scan("cut", frames_of(video))
    assert (signal.time_s, signal.evidence) == (0.25, "unsafe")


def test_an_image_classifier_finding_blocks_under_the_default_policy(
    unsafe_vit: Path, disc_video: Path
) -> None:
    """Score ~1.0 on violence crosses the 0.9 block threshold; the finding names the label."""
    layer = ImageClassifier(model=str(unsafe_vit), labels={"unsafe": Category.VIOLENCE})
    report = FrameModerator([layer], Policy()).video(disc_video, "cut 9x16")
    assert report.verdict is Verdict.BLOCK
    [finding] = report.findings
    assert (finding.layer, finding.category, finding.field) == (layer.name, "violence", "cut 9x16")
    assert finding.threshold == 0.9 and finding.score > 0.9
    assert finding.term.startswith("unsafe; in 4 of 4 frames")


def test_image_classifier_scores_mapped_labels_outside_the_top_five(
    tmp_path: Path, disc_video: Path
) -> None:
    """A 6-label model whose mapped label ranks last (0.14) must still be scored, so a kit
    that lowered violence review to 0.10 sends the video to review."""
    labels = ["a", "b", "c", "d", "e", "unsafe"]
    model = tiny_vit(tmp_path / "six-labels", [0.2] * 5 + [0.0], labels)
    layer = ImageClassifier(model=str(model), labels={"unsafe": Category.VIOLENCE})
    strict = Policy(
        thresholds={**Policy().thresholds, Category.VIOLENCE: Threshold(review=0.1, block=0.9)}
    )
    signals = layer.scan("cut", frames_of(disc_video))
    assert len(signals) == 4
    assert all(0.13 < s.score < 0.15 for s in signals)
    assert FrameModerator([layer], strict).video(disc_video, "cut").verdict is Verdict.REVIEW


def test_frame_layers_add_the_configured_classifier(unsafe_vit: Path) -> None:
    """Default settings run nudity and faces; a configured model adds an ImageClassifier."""
    assert [type(x) for x in frame_layers(Settings())] == [Nudity, Faces]
    settings = Settings(
        frame_classifier_model=str(unsafe_vit),
        frame_classifier_labels={"unsafe": Category.VIOLENCE},
    )
    layers = frame_layers(settings)
    assert [type(x) for x in layers] == [Nudity, Faces, ImageClassifier]
    classifier = layers[2]
    assert isinstance(classifier, ImageClassifier)
    assert classifier.model == str(unsafe_vit)
    assert dict(classifier.labels) == {"unsafe": Category.VIOLENCE}


def test_frame_moderator_reads_the_classifier_from_the_environment(
    unsafe_vit: Path, disc_video: Path, aurora: BrandKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """REEL_FRAME_CLASSIFIER_* (labels as JSON) configure a moderator that blocks with it."""
    monkeypatch.setenv("REEL_FRAME_CLASSIFIER_MODEL", str(unsafe_vit))
    monkeypatch.setenv("REEL_FRAME_CLASSIFIER_LABELS", '{"unsafe": "violence"}')
    monkeypatch.setenv("REEL_MODERATION_TIMEOUT_S", "60")
    moderator = frame_moderator(Settings(), aurora)
    assert moderator.policy.people is aurora.moderation.people
    assert (moderator.fps, moderator.timeout_s) == (2.0, 60.0)
    report = moderator.video(disc_video, "cut")
    assert report.layers == ["nudity:nudenet", "faces:opencv", "image-classifier:tiny-vit"]
    assert [(f.layer, f.category, f.verdict) for f in report.findings] == [
        ("image-classifier:tiny-vit", "violence", Verdict.BLOCK)
    ]


# --------------------------------------------------------------------------- collapse


def test_strongest_keeps_one_signal_per_layer_category_and_presence() -> None:
    """The top score of each group survives, counting the distinct frames that hit."""
    signals = [
        Signal("a", Category.SEXUAL, 0.3, "cut", evidence="x", time_s=0.25),
        Signal("a", Category.SEXUAL, 0.8, "cut", evidence="y", time_s=0.75),
        Signal("a", Category.VIOLENCE, 0.4, "cut", evidence="z", time_s=0.75),
        Signal("b", Category.SEXUAL, 0.5, "cut", evidence="w", time_s=1.25),
        Signal("a", Category.MINORS, 0.9, "cut", evidence="kid", time_s=0.25, presence=True),
        Signal("a", Category.MINORS, 0.1, "cut", evidence="kid?", time_s=0.25),
    ]
    got = {(s.layer, s.category, s.presence): s for s in strongest(signals, 8)}
    assert len(got) == 5
    top = got[("a", Category.SEXUAL, False)]
    assert (top.score, top.time_s) == (0.8, 0.75)
    assert top.evidence == "y; in 2 of 8 frames (0.25, 0.75 s)"
    assert got[("b", Category.SEXUAL, False)].evidence == "w; in 1 of 8 frames (1.25 s)"
    assert got[("a", Category.MINORS, True)].presence
    assert got[("a", Category.MINORS, False)].score == 0.1


def test_strongest_shows_the_first_five_times() -> None:
    """More than five hits are elided after the fifth time."""
    signals = [Signal("a", Category.HATE, 0.5, "cut", time_s=t / 2) for t in range(7)]
    [one] = strongest(signals, 10)
    assert one.evidence == "; in 7 of 10 frames (0.00, 0.50, 1.00, 1.50, 2.00, ... s)"


# --------------------------------------------------------------------------- fail closed


def test_a_layer_that_raises_sends_the_video_to_review(face_video: Path) -> None:
    """An exception is a layer-failure finding (review), even when all else allows."""
    layers: list[FrameLayer] = [Broken(), Faces()]
    report = FrameModerator(layers, Policy(people=PeoplePolicy.ALLOW)).video(face_video, "cut")
    assert report.verdict is Verdict.REVIEW
    assert report.layers == ["broken", "faces:opencv"]
    [finding] = report.findings
    assert (finding.layer, finding.category, finding.field) == ("broken", LAYER_FAILURE, "cut")
    assert finding.verdict is Verdict.REVIEW
    assert finding.term == "RuntimeError: model file missing"


def test_a_failed_layer_does_not_hide_a_block(face_video: Path) -> None:
    """Another layer's block still stands, listed before the failure."""
    layers: list[FrameLayer] = [Broken(), Faces()]
    report = FrameModerator(layers, Policy(people=PeoplePolicy.BLOCK)).video(face_video, "cut")
    assert report.verdict is Verdict.BLOCK
    assert [(f.layer, f.verdict) for f in report.findings] == [
        ("faces:opencv", Verdict.BLOCK),
        ("broken", Verdict.REVIEW),
    ]


def test_a_layer_that_times_out_sends_the_video_to_review(face_video: Path) -> None:
    """A layer slower than timeout_s is a review, and the moderator does not wait for it."""
    moderator = FrameModerator([Slow()], Policy(), timeout_s=0.5)
    started = time.monotonic()
    report = moderator.video(face_video, "cut")
    assert time.monotonic() - started < 1.9
    assert report.verdict is Verdict.REVIEW
    [finding] = report.findings
    assert (finding.layer, finding.category, finding.field) == ("slow", LAYER_FAILURE, "cut")
    assert "timed out" in finding.term


def test_frames_reach_layers_in_batches_and_a_failure_is_reported_once(
    tmp_path: Path,
) -> None:
    """24 frames go out as batches of 16 and 8; a layer failing on both is one finding."""
    video = still_video(tmp_path / "three-s.mp4", disc_frame(160, 90), 3.0)
    recording = Recording()
    report = FrameModerator([recording, Broken()], Policy(), fps=8.0).video(video, "cut")
    assert [len(b) for b in recording.batches] == [BATCH, 24 - BATCH]
    assert [t for b in recording.batches for t in b] == [
        round(round((k + 0.5) * FPS / 8) / FPS, 3) for k in range(24)
    ]
    # both are reviews; the failure (score 1.0) sorts before the 0.6 brand-rules finding
    assert [(f.layer, f.category) for f in report.findings] == [
        ("broken", LAYER_FAILURE),
        ("recording", "brand-rules"),
    ]
    assert "; in 24 of 24 frames (0.08, 0.17, 0.33, 0.42, 0.58, ... s)" in report.findings[1].term


# --------------------------------------------------------------------------- animatics


def shot_videos(
    brief: Brief, kit: BrandKit, out: Path, ratio: AspectRatio, shots: int
) -> Iterator[Path]:
    """The first ``shots`` shots of ``brief`` rendered by the animatic renderer."""
    requests = requests_for(shot_list_for(brief, kit), kit, ratio, short_edge=360)
    renderer = get_renderer("animatic")
    for i, request in enumerate(requests[:shots]):
        path = out / f"shot-{i}-{ratio.name.lower()}.mp4"
        renderer.render(request, path)
        yield path


@pytest.mark.parametrize(
    ("ratio", "shots"), [(AspectRatio.PORTRAIT, 2), (AspectRatio.LANDSCAPE, 1)]
)
def test_animatic_frames_are_not_flagged(
    brief: Brief, aurora: BrandKit, tmp_path: Path, ratio: AspectRatio, shots: int
) -> None:
    """Flat shapes, text and the logo of animatic renders pass every default frame layer."""
    moderator = FrameModerator(frame_layers(Settings()), Policy())
    for video in shot_videos(brief, aurora, tmp_path, ratio, shots):
        assert frames_of(video), video
        report = moderator.video(video, video.name)
        assert report.findings == [], [f.describe() for f in report.findings]
        assert report.verdict is Verdict.ALLOW


def test_cli_moderate_frames_reports_people_per_the_brand(face_video: Path) -> None:
    """`reel moderate --frames` runs the frame layers on a file: aurora-coffee reviews
    realistic people, and the reason names the frame times."""
    from typer.testing import CliRunner

    from reelfactory.cli import app

    runner = CliRunner()
    result = runner.invoke(
        app, ["moderate", "--frames", str(face_video), "--brand", "aurora-coffee", "--json"]
    )
    assert result.exit_code == 1, result.output
    verdict = json.loads(result.stdout)
    assert verdict["verdict"] == "review"
    [finding] = verdict["findings"]
    assert (finding["layer"], finding["category"]) == ("faces:opencv", "people")
    assert finding["time_s"] is not None and "frames (" in finding["term"]


def test_cli_moderate_frames_refuses_an_unreadable_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from reelfactory.cli import app

    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    result = CliRunner().invoke(app, ["moderate", "--frames", str(bad)])
    assert result.exit_code == 2
    assert "cannot read video" in result.output
