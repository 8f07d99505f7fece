"""The Timeline as an OpenTimelineIO file, so an editor can open the edit in their NLE.

Shots reference their rendered clips by URI; brand cards are solid-colour generators; a
crossfade is an ``SMPTE_Dissolve`` centred on the cut (OTIO takes its frames from the clips'
handles); a dip to colour is a custom transition; captions are markers on the video track.
"""

from __future__ import annotations

import opentimelineio as otio

from reelfactory.models import Timeline, TransitionKind

METADATA = "reelfactory"


def cut_points(tl: Timeline) -> list[int]:
    """Frame at which each segment takes over from the previous one (the first is 0)."""
    points = [0]
    for seg, nxt in zip(tl.segments, tl.segments[1:], strict=False):
        crossfade = next(
            (
                t
                for t in tl.transitions
                if t.start == nxt.start and t.kind is TransitionKind.CROSSFADE
            ),
            None,
        )
        points.append(crossfade.start + crossfade.frames // 2 if crossfade else seg.end)
    return points


def to_otio(tl: Timeline) -> otio.schema.Timeline:
    rate = float(tl.fps)

    def frames(n: int) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(n, rate)

    def span(start: int, length: int) -> otio.opentime.TimeRange:
        return otio.opentime.TimeRange(frames(start), frames(length))

    timeline = otio.schema.Timeline(
        name=f"{tl.brief_id} {tl.aspect_ratio.value}", global_start_time=frames(0)
    )
    timeline.metadata[METADATA] = {
        "brief_id": tl.brief_id,
        "aspect_ratio": tl.aspect_ratio.value,
        "width": tl.width,
        "height": tl.height,
    }
    track = otio.schema.Track(name="Picture", kind=otio.schema.TrackKind.Video)
    points = [*cut_points(tl), tl.total_frames]
    by_after = {t.after: t for t in tl.transitions}
    for i, seg in enumerate(tl.segments):
        cut_in, cut_out = points[i], points[i + 1]
        source_start = seg.source_in + (cut_in - seg.start)
        if seg.kind == "shot" and seg.asset is not None:
            ref: otio.core.MediaReference = otio.schema.ExternalReference(
                target_url=seg.asset.uri, available_range=span(0, seg.source_in + seg.frames)
            )
            name = f"shot {(seg.shot_index or 0) + 1}"
        else:
            ref = otio.schema.GeneratorReference(
                generator_kind="SolidColor",
                available_range=span(0, seg.frames),
                parameters={"color": tl.background, "text": seg.text},
            )
            name = seg.kind
        clip = otio.schema.Clip(
            name=name, media_reference=ref, source_range=span(source_start, cut_out - cut_in)
        )
        clip.metadata[METADATA] = {"kind": seg.kind, "shot_index": seg.shot_index}
        track.append(clip)
        tr = by_after.get(i)
        if tr is not None:
            before = points[i + 1] - tr.start
            track.append(
                otio.schema.Transition(
                    name=tr.kind.value,
                    transition_type=(
                        otio.schema.TransitionTypes.SMPTE_Dissolve
                        if tr.kind is TransitionKind.CROSSFADE
                        else otio.schema.TransitionTypes.Custom
                    ),
                    in_offset=frames(before),
                    out_offset=frames(tr.frames - before),
                    metadata={METADATA: {"kind": tr.kind.value, "colour": tl.background}},
                )
            )
    for cue in tl.captions:
        track.markers.append(
            otio.schema.Marker(
                name=cue.text,
                marked_range=span(cue.start, cue.end - cue.start),
                metadata={METADATA: {"kind": "caption", "language": tl.language}},
            )
        )
    timeline.tracks.append(track)
    return timeline


def to_otio_json(tl: Timeline) -> str:
    return str(otio.adapters.write_to_string(to_otio(tl), "otio_json"))
