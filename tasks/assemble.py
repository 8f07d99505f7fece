"""Assemble one cut (per aspect ratio), its caption sidecars, cover and edit file."""

from __future__ import annotations

import time

from prefect import get_run_logger, task

from reelfactory.edit.assemble import assemble
from reelfactory.edit.captions import to_srt, to_webvtt
from reelfactory.edit.otio import to_otio_json
from reelfactory.edit.timeline import build_timeline
from reelfactory.media import atomic_path, probe
from reelfactory.models import AspectRatio, AssetRef, BrandKit, Cut, ShotList
from reelfactory.settings import Settings
from reelfactory.storage import LocalAssetStore


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
    store = LocalAssetStore(settings.assets_dir)
    width, height = ratio.size(settings.render_short_edge)
    timeline = build_timeline(shot_list, rendered, kit, ratio=ratio, width=width, height=height)
    run = flow_run_id if version == 1 else f"{flow_run_id}/v{version}"  # earlier ones stay
    base = f"drafts/{shot_list.brief_id}/{run}/{shot_list.brief_id}-{ratio.slug}"

    refs = {}
    srt = to_srt(timeline)
    for suffix, text, media_type in (
        (".vtt", to_webvtt(timeline), "text/vtt"),
        (".srt", srt, "application/x-subrip"),
        (".otio", to_otio_json(timeline), "application/vnd.opentimelineio+json"),
    ):
        with atomic_path(store.path_for(base + suffix)) as tmp:
            tmp.write_text(text, encoding="utf-8")
        refs[suffix] = store.ref(base + suffix, media_type)

    def progress(done: int, total: int) -> None:
        logger.info("cut %s: frame %d of %d", ratio.value, done, total)

    started = time.perf_counter()
    video_path = store.path_for(base + ".mp4")
    written = assemble(
        timeline,
        {s.index: store.local_path(r) for s, r in zip(shot_list.shots, rendered, strict=True)},
        video_path,
        cover_path=store.path_for(base + ".jpg"),
        subtitles_srt=srt,
        progress=progress,
    )
    video = store.ref(base + ".mp4", "video/mp4", **probe(video_path))
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
        cover=store.ref(base + ".jpg", "image/jpeg"),
        edit=refs[".otio"],
        loudness_lufs=round(written.loudness_lufs, 2),
    )
