"""Frame layers: frames sampled from a video (2 per second by default) go through

- nudity: ``nudenet``'s ONNX detector (ships in its wheel);
- faces: OpenCV's Haar cascade, for the brand's realistic-people policy;
- an optional image classifier: any transformers image-classification model (an age or a
  violence classifier on GPU workers), with its labels mapped onto our categories.

The layers see frames in batches, so a long video never sits in memory whole. Findings
are collapsed to the strongest frame per layer and category, naming how many frames hit.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from reelfactory.errors import ReelError
from reelfactory.models import BrandKit, Category, ModerationReport
from reelfactory.moderation.policy import LayerFailure, Policy, Signal, decide
from reelfactory.moderation.text import Layer, run_layers
from reelfactory.settings import Settings

# Frames are scaled so their short edge is at most this before the layers see them: the
# detectors work at 224-320 px, and a 60 s cut at 2 fps stays small.
FRAME_SHORT_EDGE = 480
BATCH = 16

# nudenet labels: exposed ones score sexual at the detector's confidence; covered ones are
# suggestive and count half (enough for review, never a block under default thresholds).
# Detections under MIN_CONFIDENCE are dropped: on flat animatic frames the detector reports
# 'BUTTOCKS_EXPOSED' at 0.45 for an orange disc (measured), never above 0.5 on our renders.
MIN_CONFIDENCE = 0.5
EXPOSED = frozenset(
    {
        "FEMALE_BREAST_EXPOSED",
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    }
)
COVERED = frozenset({"FEMALE_BREAST_COVERED", "FEMALE_GENITALIA_COVERED", "BUTTOCKS_COVERED"})
COVERED_WEIGHT = 0.5


class UnreadableVideo(ReelError, ValueError):
    """A file the sampler cannot decode."""


@dataclass(frozen=True)
class Frame:
    time_s: float
    bgr: NDArray[np.uint8]  # OpenCV's channel order


def _scaled(frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
    import cv2

    h, w = frame.shape[:2]
    scale = FRAME_SHORT_EDGE / min(h, w)
    if scale >= 1:
        return frame
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def sample_frames(path: Path, fps: float = 2.0) -> Iterator[Frame]:
    """Frames at the middle of every 1/fps interval (0.25 s, 0.75 s, ... at 2 fps)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise UnreadableVideo(f"{path}: cannot read video")
    try:
        src_fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        if src_fps <= 0:
            raise UnreadableVideo(f"{path}: video has no frame rate")
        k = 0
        index = 0
        target = round((k + 0.5) / fps * src_fps)
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if index >= target:
                bgr = np.asarray(frame, dtype=np.uint8)
                yield Frame(time_s=round(index / src_fps, 3), bgr=_scaled(bgr))
                k += 1
                target = round((k + 0.5) / fps * src_fps)
            index += 1
    finally:
        cap.release()


class FrameLayer(Layer, Protocol):
    def scan(self, field: str, frames: Sequence[Frame]) -> list[Signal]: ...


def nudity_signals(
    detections: Sequence[Mapping[str, Any]], field: str, time_s: float, layer: str
) -> list[Signal]:
    """nudenet detections of one frame -> at most one sexual signal (the strongest). Pure."""
    best: tuple[float, str] | None = None
    for d in detections:
        label, score = str(d["class"]), float(d["score"])
        if score < MIN_CONFIDENCE:
            continue
        weighted = score if label in EXPOSED else score * COVERED_WEIGHT if label in COVERED else 0
        if weighted > 0 and (best is None or weighted > best[0]):
            best = (weighted, label)
    if best is None:
        return []
    return [Signal(layer, Category.SEXUAL, best[0], field, evidence=best[1].lower(), time_s=time_s)]


@cache
def _nude_detector() -> Any:
    from nudenet import NudeDetector

    return NudeDetector()


class Nudity:
    name = "nudity:nudenet"

    def load(self) -> None:
        _nude_detector()

    def scan(self, field: str, frames: Sequence[Frame]) -> list[Signal]:
        detector = _nude_detector()
        out = []
        for frame in frames:
            out += nudity_signals(detector.detect(frame.bgr), field, frame.time_s, self.name)
        return out


@cache
def _face_cascade() -> Any:
    import cv2

    haar = cv2.data.haarcascades  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(haar + "haarcascade_frontalface_default.xml")
    if cascade.empty():
        raise RuntimeError("OpenCV's frontal-face Haar cascade is missing (opencv 5.x?)")
    return cascade


class Faces:
    """Realistic people: a frontal face at least ``min_fraction`` of the short edge.

    ``min_neighbors`` 10 (OpenCV's example uses 3-5): at 6, text over a disc on an animatic
    frame passed for a face (measured); photographic and drawn frontal faces still pass at 15.
    """

    name = "faces:opencv"
    min_fraction = 0.08
    min_neighbors = 10

    def load(self) -> None:
        _face_cascade()

    def scan(self, field: str, frames: Sequence[Frame]) -> list[Signal]:
        import cv2

        cascade = _face_cascade()
        out = []
        for frame in frames:
            gray = cv2.cvtColor(frame.bgr, cv2.COLOR_BGR2GRAY)
            side = max(24, round(min(gray.shape) * self.min_fraction))
            faces = cascade.detectMultiScale(gray, 1.1, self.min_neighbors, minSize=(side, side))
            if len(faces):
                x, y, w, h = (int(v) for v in faces[0])
                out.append(
                    Signal(
                        self.name,
                        Category.PEOPLE,
                        1.0,
                        field,
                        evidence=f"{len(faces)} face(s), first at x={x} y={y} {w}x{h}",
                        time_s=frame.time_s,
                    )
                )
        return out


@cache
def _image_pipeline(model: str) -> Any:
    """A transformers image-classification pipeline, loaded once per worker process."""
    import torch
    from transformers import pipeline

    device = 0 if torch.cuda.is_available() else -1
    return pipeline("image-classification", model=model, device=device)


@dataclass(frozen=True)
class ImageClassifier:
    """Any image-classification model; only the labels in ``labels`` count."""

    model: str
    labels: Mapping[str, Category]

    @property
    def name(self) -> str:
        return f"image-classifier:{Path(self.model).name or self.model}"

    def load(self) -> None:
        _image_pipeline(self.model)

    def scan(self, field: str, frames: Sequence[Frame]) -> list[Signal]:
        from PIL import Image

        classify = _image_pipeline(self.model)
        images = [Image.fromarray(np.ascontiguousarray(f.bgr[:, :, ::-1])) for f in frames]
        out = []
        # Every label, not the pipeline's default top 5: a brand may lower a threshold below
        # what a sixth-ranked label scores.
        every = int(classify.model.config.num_labels)
        for frame, results in zip(frames, classify(images, top_k=every), strict=True):
            for r in results:
                category = self.labels.get(str(r["label"]))
                if category is not None:
                    out.append(
                        Signal(
                            self.name,
                            category,
                            float(r["score"]),
                            field,
                            evidence=str(r["label"]),
                            time_s=frame.time_s,
                        )
                    )
        return out


def frame_layers(settings: Settings) -> list[FrameLayer]:
    layers: list[FrameLayer] = [Nudity(), Faces()]
    if settings.frame_classifier_model:
        layers.append(
            ImageClassifier(settings.frame_classifier_model, settings.frame_classifier_labels)
        )
    return layers


def strongest(signals: Sequence[Signal], frames_seen: int) -> list[Signal]:
    """One signal per (layer, category, presence): the strongest, naming how many frames hit."""
    groups: dict[tuple[str, Category, bool], list[Signal]] = {}
    for s in signals:
        groups.setdefault((s.layer, s.category, s.presence), []).append(s)
    out = []
    for group in groups.values():
        top = max(group, key=lambda s: s.score)
        times = sorted({s.time_s for s in group if s.time_s is not None})
        shown = ", ".join(f"{t:.2f}" for t in times[:5]) + (", ..." if len(times) > 5 else "")
        evidence = f"{top.evidence}; in {len(times)} of {frames_seen} frames ({shown} s)"
        out.append(
            Signal(
                top.layer,
                top.category,
                top.score,
                top.field,
                evidence=evidence,
                time_s=top.time_s,
                presence=top.presence,
            )
        )
    return out


@dataclass(frozen=True)
class FrameModerator:
    layers: Sequence[FrameLayer]
    policy: Policy
    fps: float = 2.0
    timeout_s: float = 120.0

    def video(self, path: Path, field: str) -> ModerationReport:
        """Every layer on frames sampled from ``path``; findings are named ``field``.

        ``timeout_s`` bounds the whole video; a layer that failed on one batch is not asked
        about the next ones (its failure already makes the verdict a review).
        """
        return self.frames(sample_frames(path, self.fps), field, path.name)

    def image(self, bgr: NDArray[np.uint8], field: str) -> ModerationReport:
        """Every layer on one still image (a reference image), in OpenCV's BGR order."""
        return self.frames(iter([Frame(0.0, _scaled(bgr))]), field, field)

    def frames(self, frames: Iterator[Frame], field: str, source: str) -> ModerationReport:
        signals: list[Signal] = []
        failures: dict[str, LayerFailure] = {}
        seen = 0
        deadline = time.monotonic() + self.timeout_s
        while batch := list(islice(frames, BATCH)):
            seen += len(batch)
            layers = [x for x in self.layers if x.name not in failures]
            found, failed = run_layers(
                layers,
                lambda layer: layer.scan(field, batch),
                timeout_s=max(0.0, deadline - time.monotonic()),
            )
            signals += found
            for f in failed:
                failures.setdefault(f.layer, LayerFailure(f.layer, f.error, field))
        if seen == 0:
            failures["sampler"] = LayerFailure("sampler", f"no frames in {source}", field)
        return decide(
            field,
            strongest(signals, seen),
            list(failures.values()),
            self.policy,
            [x.name for x in self.layers],
        )


def frame_moderator(settings: Settings, kit: BrandKit | None) -> FrameModerator:
    return FrameModerator(
        frame_layers(settings),
        Policy.for_kit(kit),
        settings.frame_sample_fps,
        settings.moderation_timeout_s,
    )
