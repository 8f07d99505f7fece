"""Caption sidecars (WebVTT and SRT) from a timeline. Pure: returns text."""

from __future__ import annotations

from reelfactory.models import Timeline


def _stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cues(timeline: Timeline) -> list[tuple[float, float, str]]:
    return [
        (c.start_s, c.start_s + c.duration_s, " ".join(c.caption.split()))
        for c in timeline.clips
        if c.caption.strip()
    ]


def to_webvtt(timeline: Timeline) -> str:
    blocks = ["WEBVTT"]
    for n, (start, end, text) in enumerate(_cues(timeline), start=1):
        # "-->" inside cue text would end the cue early; WebVTT has no escape for it.
        blocks.append(
            f"{n}\n{_stamp(start, '.')} --> {_stamp(end, '.')}\n{text.replace('-->', '→')}"
        )
    return "\n\n".join(blocks) + "\n"


def to_srt(timeline: Timeline) -> str:
    blocks = [
        f"{n}\n{_stamp(start, ',')} --> {_stamp(end, ',')}\n{text}"
        for n, (start, end, text) in enumerate(_cues(timeline), start=1)
    ]
    return "\n\n".join(blocks) + "\n"
