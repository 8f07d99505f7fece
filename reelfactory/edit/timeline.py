"""Timeline (edit decision list) from a shot list and its rendered clips. Pure."""

from __future__ import annotations

from reelfactory.models import (
    AspectRatio,
    AssetRef,
    CaptionStyle,
    SafeArea,
    ShotList,
    Timeline,
    TimelineClip,
)


def build_timeline(
    shot_list: ShotList, rendered: list[AssetRef], *, ratio: AspectRatio, width: int, height: int
) -> Timeline:
    """Butt-join the shots in order. Times come from frame counts, so they never drift."""
    if len(rendered) != len(shot_list.shots):
        raise ValueError(f"{len(rendered)} rendered clips for {len(shot_list.shots)} shots")
    clips = []
    frame = 0
    for shot, asset in zip(shot_list.shots, rendered, strict=True):
        clips.append(
            TimelineClip(
                shot_index=shot.index,
                asset=asset,
                start_s=frame / shot_list.fps,
                duration_s=shot.frames / shot_list.fps,
                caption=shot.caption,
            )
        )
        frame += shot.frames
    return Timeline(
        brief_id=shot_list.brief_id,
        aspect_ratio=ratio,
        width=width,
        height=height,
        fps=shot_list.fps,
        caption_style=shot_list.caption_style,
        clips=clips,
    )


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
