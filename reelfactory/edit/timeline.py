"""Timeline (edit decision list) from a shot list, its rendered clips and the brand kit. Pure.

Every time is a frame number at the shot list's fps, so nothing drifts. The brief's duration
is the cut's duration: expansion gives the shots ``duration - overhead_frames(...)`` frames,
where the overhead is what brand cards add and crossfades take back.
"""

from __future__ import annotations

import itertools

from reelfactory.errors import InputError
from reelfactory.models import (
    AspectRatio,
    AssetRef,
    BrandKit,
    CaptionStyle,
    Corner,
    EditRules,
    MusicBed,
    SafeArea,
    Segment,
    ShotList,
    Span,
    Timeline,
    Transition,
    TransitionKind,
)

LOWER_THIRD_MAX_S = 4.0
LOWER_THIRD_INSET_S = 0.25


def card_frames(seconds: float, fps: int) -> int:
    return round(seconds * fps)


def transition_frames(rules: EditRules, fps: int) -> int:
    """Frames a transition lasts: at least 2, so a dip has a frame on each side."""
    return 0 if rules.transition is TransitionKind.CUT else max(2, round(rules.transition_s * fps))


def overhead_frames(rules: EditRules, shots: int, fps: int) -> int:
    """Frames the cut has beyond its shots: cards, minus what crossfades overlap."""
    cards = card_frames(rules.intro.duration_s, fps) + card_frames(rules.end_card.duration_s, fps)
    segments = shots + (rules.intro.duration_s > 0) + (rules.end_card.duration_s > 0)
    overlap = (
        (segments - 1) * transition_frames(rules, fps)
        if rules.transition is TransitionKind.CROSSFADE
        else 0
    )
    return cards - overlap


def source_frames(asset: AssetRef, fps: int) -> int | None:
    """Frames a rendered clip holds at ``fps``, from its probed duration (None if unknown)."""
    if asset.duration_s is None:
        return None
    return round(asset.duration_s * fps)  # probed durations are rounded to 10 ms


def _segments(shot_list: ShotList, rendered: list[AssetRef], kit: BrandKit) -> list[Segment]:
    rules, fps = kit.edit, shot_list.fps
    pieces: list[Segment] = []
    if rules.intro.duration_s > 0:
        frames = card_frames(rules.intro.duration_s, fps)
        pieces.append(Segment(kind="intro", start=0, frames=frames, text=kit.name))
    short = []
    for shot, asset in zip(shot_list.shots, rendered, strict=True):
        have = source_frames(asset, fps)
        if have is not None and have < shot.frames:
            short.append(
                f"shot {shot.index + 1} ({shot.name}): clip has {have} frames, "
                f"its slot needs {shot.frames}"
            )
        pieces.append(
            Segment(kind="shot", start=0, frames=shot.frames, shot_index=shot.index, asset=asset)
        )
    if short:
        raise InputError(f"{shot_list.brief_id} assembly", short)
    if rules.end_card.duration_s > 0:
        frames = card_frames(rules.end_card.duration_s, fps)
        text = shot_list.call_to_action or kit.name
        pieces.append(Segment(kind="end-card", start=0, frames=frames, text=text))

    overlap = transition_frames(rules, fps) if rules.transition is TransitionKind.CROSSFADE else 0
    segments, start = [], 0
    for piece in pieces:
        segments.append(piece.model_copy(update={"start": start}))
        start += piece.frames - overlap
    return segments


def _transitions(segments: list[Segment], rules: EditRules, fps: int) -> list[Transition]:
    t = transition_frames(rules, fps)
    if not t:
        return []
    out = []
    for i, (a, b) in enumerate(itertools.pairwise(segments)):
        # A crossfade plays while the segments overlap; a dip is centred on the cut.
        start = b.start if rules.transition is TransitionKind.CROSSFADE else b.start - t // 2
        for seg in (a, b):
            if seg.frames < t:
                raise ValueError(f"{seg.kind} segment of {seg.frames} frames is shorter than {t}")
        out.append(Transition(kind=rules.transition, after=i, start=start, frames=t))
    return out


def _visible(segments: list[Segment], transitions: list[Transition]) -> list[tuple[int, int]]:
    """Each segment's own time: from the middle of its way in to the middle of its way out.

    Consecutive ranges touch and never overlap, so cues placed on them never collide.
    """
    ranges = []
    for i, seg in enumerate(segments):
        start, end = seg.start, seg.end
        for tr in transitions:
            middle = tr.start + tr.frames // 2
            if tr.after == i - 1:
                start = middle
            elif tr.after == i:
                end = middle
        ranges.append((start, end))
    return ranges


def _label_spans(total: int, kit: BrandKit, fps: int) -> list[Span]:
    label = kit.edit.label
    edge = round(label.edge_s * fps)
    if label.mode == "always" or 2 * edge >= total:
        return [Span(start=0, end=total)]
    return [Span(start=0, end=edge), Span(start=total - edge, end=total)]


def _lower_third(start: int, end: int, fps: int, text: str) -> Span | None:
    inset = round(LOWER_THIRD_INSET_S * fps)
    a, b = start + inset, min(end - inset, start + inset + round(LOWER_THIRD_MAX_S * fps))
    return Span(start=a, end=b, text=text) if b > a else None


def build_timeline(
    shot_list: ShotList,
    rendered: list[AssetRef],
    kit: BrandKit,
    *,
    ratio: AspectRatio,
    width: int,
    height: int,
) -> Timeline:
    """The cut of ``shot_list`` at ``ratio``: cards, shots, transitions and every overlay.

    Raises:
        InputError: a rendered clip is shorter than its shot's slot (the shot is named).
    """
    if len(rendered) != len(shot_list.shots):
        raise ValueError(f"{len(rendered)} rendered clips for {len(shot_list.shots)} shots")
    fps, rules = shot_list.fps, kit.edit
    segments = _segments(shot_list, rendered, kit)
    transitions = _transitions(segments, rules, fps)
    visible = _visible(segments, transitions)
    shots = {s.index: s for s in shot_list.shots}
    on_shot = [(seg, rng) for seg, rng in zip(segments, visible, strict=True) if seg.kind == "shot"]

    def cues(language: str | None) -> list[Span]:
        out = []
        for seg, (a, b) in on_shot:
            shot = shots[seg.shot_index or 0]
            text = shot.caption if language is None else shot.localized[language].caption
            if text.strip():
                out.append(Span(start=a, end=b, text=" ".join(text.split())))
        return out

    lower_thirds = []
    if rules.lower_thirds:
        for seg, (a, b) in on_shot:
            text = shots[seg.shot_index or 0].lower_third
            span = _lower_third(a, b, fps, text) if text.strip() else None
            if span:
                lower_thirds.append(span)

    total = max(s.end for s in segments)
    first, last = on_shot[0][1], on_shot[-1][1]
    music = None
    if rules.music is not None:
        m = rules.music
        ducks = [
            Span(start=a, end=b, text=shots[seg.shot_index or 0].voice_over)
            for seg, (a, b) in on_shot
            if shots[seg.shot_index or 0].voice_over.strip()
        ]
        music = MusicBed(
            file=m.file,
            gain_db=m.gain_db,
            fade_in_s=m.fade_in_s,
            fade_out_s=m.fade_out_s,
            duck_db=m.duck_db,
            ducks=ducks,
        )
    return Timeline(
        brief_id=shot_list.brief_id,
        aspect_ratio=ratio,
        width=width,
        height=height,
        fps=fps,
        font=kit.font,
        logo_file=kit.logo,
        background=kit.palette.background,
        text_colour=kit.palette.text,
        accent=kit.palette.accent,
        caption_style=shot_list.caption_style,
        safe_area=shot_list.caption_style.area(ratio),
        language=shot_list.language,
        segments=segments,
        transitions=transitions,
        captions=cues(None),
        sidecar_captions={lang: cues(lang) for lang in shot_list.languages},
        lower_thirds=lower_thirds,
        logo=rules.logo,
        logo_spans=[Span(start=first[0], end=last[1])] if rules.logo else [],
        label=rules.label,
        label_spans=_label_spans(total, kit, fps),
        music=music,
        loudness_lufs=rules.loudness_lufs,
        true_peak_db=rules.true_peak_db,
        crf=rules.crf,
        preset=rules.preset,
        reframe=rules.reframe,
        soft_subtitles=rules.soft_subtitles,
        cover_frame=_cover_frame(shot_list, on_shot, rules),
    )


def _cover_frame(
    shot_list: ShotList, on_shot: list[tuple[Segment, tuple[int, int]]], rules: EditRules
) -> int:
    """The middle of the kit's cover shot, or of the longest shot."""
    roles = {s.index: s.role for s in shot_list.shots}
    chosen = [r for seg, r in on_shot if roles[seg.shot_index or 0] == rules.cover_role]
    a, b = chosen[0] if chosen else max((r for _, r in on_shot), key=lambda r: r[1] - r[0])
    return (a + b) // 2


# --------------------------------------------------------------------------- placement


def caption_position(
    style: CaptionStyle, area: SafeArea, width: int, height: int, text_w: int, text_h: int
) -> tuple[int, int]:
    """Top-left corner of a caption: centred inside the safe area, at the style's position."""
    left, right = width * area.left, width * (1 - area.right)
    x = round(left + (right - left - text_w) / 2)
    top, bottom = height * area.top, height * (1 - area.bottom)
    if style.position == "top":
        y = top
    elif style.position == "middle":
        y = (top + bottom - text_h) / 2
    else:
        y = bottom - text_h
    return x, round(max(0, y))


def corner_position(
    corner: Corner, area: SafeArea, width: int, height: int, item_w: int, item_h: int
) -> tuple[int, int]:
    """Top-left corner of an overlay (logo, label) tucked into ``corner`` of the safe area."""
    left = round(width * area.left)
    right = round(width * (1 - area.right)) - item_w
    top = round(height * area.top)
    bottom = round(height * (1 - area.bottom)) - item_h
    x = left if corner in (Corner.TOP_LEFT, Corner.BOTTOM_LEFT) else right
    y = top if corner in (Corner.TOP_LEFT, Corner.TOP_RIGHT) else bottom
    return max(0, x), max(0, y)


def lower_third_position(area: SafeArea, width: int, height: int, item_h: int) -> tuple[int, int]:
    """Left-aligned in the safe area, its bottom at two thirds of the frame's height."""
    return round(width * area.left), max(round(height * area.top), round(height * 2 / 3) - item_h)


def reframe_box(
    src_w: int, src_h: int, dst_w: int, dst_h: int, mode: str
) -> tuple[int, int, int, int, int, int]:
    """How a ``src`` frame fills a ``dst`` frame without distortion.

    Returns ``(scaled_w, scaled_h, crop_x, crop_y, pad_x, pad_y)``: scale uniformly to
    ``scaled``, then crop ``crop`` pixels off the left/top ("crop": fill the frame) or place
    it ``pad`` pixels in from the left/top ("pad": letterbox in the brand background).
    """
    scale = (max if mode == "crop" else min)(dst_w / src_w, dst_h / src_h)
    sw, sh = max(1, round(src_w * scale)), max(1, round(src_h * scale))
    if mode == "crop":
        sw, sh = max(sw, dst_w), max(sh, dst_h)
        return sw, sh, (sw - dst_w) // 2, (sh - dst_h) // 2, 0, 0
    sw, sh = min(sw, dst_w), min(sh, dst_h)
    return sw, sh, 0, 0, (dst_w - sw) // 2, (dst_h - sh) // 2
