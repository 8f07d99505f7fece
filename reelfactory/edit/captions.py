"""Caption sidecars (WebVTT and SRT) from a timeline. Pure: returns text."""

from __future__ import annotations

from reelfactory.models import Span, Timeline


def _stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cues(timeline: Timeline, language: str | None) -> list[tuple[float, float, str]]:
    spans: list[Span] = (
        timeline.captions if language is None else timeline.sidecar_captions[language]
    )
    return [(timeline.seconds(s.start), timeline.seconds(s.end), s.text) for s in spans]


def to_webvtt(timeline: Timeline, language: str | None = None) -> str:
    """WebVTT of the burned-in captions, or of ``language``'s."""
    blocks = ["WEBVTT"]
    for n, (start, end, text) in enumerate(_cues(timeline, language), start=1):
        # "-->" inside cue text would end the cue early; WebVTT has no escape for it.
        blocks.append(
            f"{n}\n{_stamp(start, '.')} --> {_stamp(end, '.')}\n{text.replace('-->', '→')}"
        )
    return "\n\n".join(blocks) + "\n"


def to_srt(timeline: Timeline, language: str | None = None) -> str:
    """SRT of the burned-in captions, or of ``language``'s."""
    blocks = [
        f"{n}\n{_stamp(start, ',')} --> {_stamp(end, ',')}\n{text}"
        for n, (start, end, text) in enumerate(_cues(timeline, language), start=1)
    ]
    return "\n\n".join(blocks) + "\n"
