"""Assemble one cut (per aspect ratio), its caption sidecars, cover and edit file."""

from __future__ import annotations

import time

from prefect import get_run_logger, task

from reelfactory.edit.assemble import assemble
from reelfactory.edit.captions import to_srt, to_webvtt
from reelfactory.edit.otio import to_otio_json
from reelfactory.edit.timeline import build_timeline
from reelfactory.media import probe
from reelfactory.models import AspectRatio, AssetRef, BrandKit, Cut, ShotList
from reelfactory.settings import Settings
from reelfactory.storage import asset_store_for, put_text


@task(name="assemble-cut", retries=1, retry_delay_seconds=5)
def assemble_cut(
    shot_list: ShotList,
    rendered: list[AssetRef],
    kit: BrandKit,
    ratio: AspectRatio,
    flow_run_id: str,
    settings: Settings,
    version: int = 1,
) -> Cut:
    """Cut the rendered shots into the brand's edit and write the draft with its sidecars."""
    logger = get_run_logger()
    store = asset_store_for(settings)
    width, height = ratio.size(settings.render_short_edge)
    timeline = build_timeline(shot_list, rendered, kit, ratio=ratio, width=width, height=height)
    run = flow_run_id if version == 1 else f"{flow_run_id}/v{version}"  # earlier ones stay
    name = f"{shot_list.brief_id}-{ratio.slug}"
    base = f"drafts/{shot_list.brief_id}/{run}/{name}"

    def progress(done: int, total: int) -> None:
        logger.info("cut %s: frame %d of %d", ratio.value, done, total)

    sources = {s.index: store.fetch(r) for s, r in zip(shot_list.shots, rendered, strict=True)}
    srt = to_srt(timeline)
    started = time.perf_counter()
    with store.scratch() as tmp:
        video_path, cover_path = tmp / f"{name}.mp4", tmp / f"{name}.jpg"
        written = assemble(
            timeline,
            sources,
            video_path,
            cover_path=cover_path,
            subtitles_srt=srt,
            progress=progress,
        )
        # The sidecars first: a draft video in the store always has its captions.
        refs = {
            suffix: put_text(store, base + suffix, text, media_type)
            for suffix, text, media_type in (
                (".vtt", to_webvtt(timeline), "text/vtt"),
                (".srt", srt, "application/x-subrip"),
                (".otio", to_otio_json(timeline), "application/vnd.opentimelineio+json"),
            )
        }
        cover = store.put(base + ".jpg", cover_path, "image/jpeg")
        video = store.put(base + ".mp4", video_path, "video/mp4", **probe(video_path))
    logger.info(
        "cut %s: %dx%d, %.2f s, %.1f LUFS, assembled in %.1f s",
        ratio.value,
        width,
        height,
        video.duration_s or 0,
        written.loudness_lufs,
        time.perf_counter() - started,
    )
    return Cut(
        aspect_ratio=ratio,
        video=video,
        captions=refs[".vtt"],
        subtitles=refs[".srt"],
        cover=cover,
        edit=refs[".otio"],
        loudness_lufs=round(written.loudness_lufs, 2),
    )
