"""Reference images: checked by content, moderated, then stored under their own hash.

The name a browser sends is never used for storage (``references/<sha256>.<ext>``), so
``../../etc/passwd.png`` is only ever shown back, escaped, as what the user picked.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np

from reelfactory.errors import ReelError
from reelfactory.models import AssetRef, BrandKit, ModerationReport, Verdict
from reelfactory.settings import Settings
from reelfactory.storage import asset_store_for

ALLOWED = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
}
MAX_PIXELS = 40_000_000  # PIL's decompression-bomb guard, made an error rather than a warning
MAX_SIDE = 8192


class UploadRejected(ReelError):
    """An upload we will not keep: wrong kind, too big, unreadable, or moderated out."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@dataclass(frozen=True)
class CheckedImage:
    name: str  # what the user picked, for messages only
    data: bytes
    ext: str
    media_type: str
    width: int
    height: int
    bgr: np.ndarray  # for the frame layers

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def display_name(filename: str | None) -> str:
    """What the user picked, for messages only (never a path)."""
    name = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    return name[:80] or "upload"


def check_image(data: bytes, filename: str | None, max_bytes: int) -> CheckedImage:
    """Accept PNG, JPEG or WebP by what the bytes are, not what the name says."""
    from PIL import Image, UnidentifiedImageError

    name = display_name(filename)
    if len(data) > max_bytes:
        raise UploadRejected(
            f"{name}: {len(data) / 2**20:.1f} MiB is over the {max_bytes / 2**20:g} MiB limit",
            too_large=True,
        )
    if not data:
        raise UploadRejected(f"{name}: the file is empty")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format or ""
            width, height = probe.size
            if kind not in ALLOWED:
                raise UploadRejected(f"{name}: {kind or 'unknown'} is not a PNG, JPEG or WebP")
            if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                raise UploadRejected(
                    f"{name}: {width}x{height} pixels is larger than {MAX_SIDE} px a side"
                )
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except UploadRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UploadRejected(f"{name}: not a readable image ({type(exc).__name__})") from None
    ext, media_type = ALLOWED[kind]
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    return CheckedImage(name, data, ext, media_type, width, height, bgr)


def moderate_image(
    image: CheckedImage, name: str, kit: BrandKit, settings: Settings
) -> ModerationReport:
    from reelfactory.moderation.frames import frame_moderator

    return frame_moderator(settings, kit).image(image.bgr, f"references[{name}]")


def store_image(image: CheckedImage, settings: Settings) -> AssetRef:
    """Store under the content hash, atomically: a reader never sees half a file."""
    store = asset_store_for(settings)
    key = f"references/{image.sha256}.{image.ext}"
    facts: dict[str, float | int | None] = {"width": image.width, "height": image.height}
    found = store.find(key, image.media_type)
    if found is not None:
        return found.model_copy(update=facts)
    with store.scratch() as tmp:
        path = tmp / f"upload.{image.ext}"
        path.write_bytes(image.data)
        return store.put(key, path, image.media_type, **facts)


def accept_reference(image: CheckedImage, kit: BrandKit, settings: Settings) -> AssetRef:
    """Moderate and store one checked reference image. Only an 'allow' is kept: there is no
    human review queue for uploads, so 'review' is refused with the reason too."""
    report = moderate_image(image, image.name, kit, settings)
    if report.verdict is not Verdict.ALLOW:
        reasons = "; ".join(f.describe() for f in report.findings) or report.verdict.value
        raise UploadRejected(f"{image.name}: not accepted by moderation ({reasons})")
    return store_image(image, settings)
