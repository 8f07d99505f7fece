"""Timeline (edit decision list) from a shot list and its rendered clips. Pure."""

from __future__ import annotations

from reelfactory.models import AspectRatio, AssetRef, ShotList, Timeline, TimelineClip


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
        clips=clips,
    )
