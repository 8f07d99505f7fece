"""The cut's sound: the music bed's gain envelope (pure) and loudness levelling (measured).

Loudness is ITU-R BS.1770 integrated loudness (pyloudnorm), measured on the mix before it is
encoded and again on the written file, never assumed from a gain setting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyloudnorm
from numpy.typing import NDArray

from reelfactory.models import MusicBed

AUDIO_RATE = 48_000
DUCK_RAMP_S = 0.25  # how long the music takes to dip under a voice-over line, and to come back
SILENCE_LUFS = -70.0  # BS.1770's absolute gate: below it there is nothing to measure

Samples = NDArray[np.float64]


def db_to_gain(db: float | Samples) -> float | Samples:
    return np.power(10.0, np.asarray(db) / 20.0) if np.ndim(db) else 10.0 ** (float(db) / 20.0)


def music_envelope(music: MusicBed, duration_s: float, fps: int, rate: int = AUDIO_RATE) -> Samples:
    """Per-sample gain (linear) of the music bed: gain, fade in/out, ducks under voice-over.

    Ramps are linear in dB for the ducks (so they sound even) and linear in amplitude for the
    fades (so the music starts and ends at true silence).
    """
    n = round(duration_s * rate)
    t = np.arange(n) / rate
    duck_db = np.zeros(n)
    for span in music.ducks:
        a, b = span.start / fps, span.end / fps
        ramp_in = np.clip((t - (a - DUCK_RAMP_S)) / DUCK_RAMP_S, 0, 1)
        ramp_out = np.clip(((b + DUCK_RAMP_S) - t) / DUCK_RAMP_S, 0, 1)
        duck_db = np.minimum(duck_db, music.duck_db * np.minimum(ramp_in, ramp_out))
    gain = np.asarray(db_to_gain(duck_db + music.gain_db), dtype=np.float64)
    if music.fade_in_s > 0:
        gain *= np.clip(t / music.fade_in_s, 0, 1)
    if music.fade_out_s > 0:
        gain *= np.clip((duration_s - t) / music.fade_out_s, 0, 1)
    return gain


def fit_length(samples: Samples, n: int) -> Samples:
    """Loop (or trim) a ``(frames, channels)`` buffer to exactly ``n`` frames."""
    if len(samples) == 0:
        raise ValueError("the music file has no audio")
    reps = -(-n // len(samples))
    return np.tile(samples, (reps, 1))[:n]


def loudness(samples: Samples, rate: int = AUDIO_RATE) -> float:
    """Integrated loudness in LUFS; ``SILENCE_LUFS`` for silence or clips under 0.4 s."""
    if len(samples) < 0.4 * rate or not np.any(samples):
        return SILENCE_LUFS
    value = float(pyloudnorm.Meter(rate).integrated_loudness(samples))
    return max(value, SILENCE_LUFS)


@dataclass(frozen=True)
class Levelled:
    samples: Samples
    measured_lufs: float  # the mix before levelling
    gain_db: float
    peak_limited: bool  # the gain was lowered to respect the peak ceiling


def level(samples: Samples, target_lufs: float, peak_db: float, rate: int = AUDIO_RATE) -> Levelled:
    """Apply one gain so the mix measures ``target_lufs``, never pushing its sample peak
    above ``peak_db`` dBFS (then the mix ends quieter than the target, and says so)."""
    measured = loudness(samples, rate)
    if measured <= SILENCE_LUFS:
        return Levelled(samples, measured, 0.0, False)
    gain_db = target_lufs - measured
    peak = float(np.max(np.abs(samples)))
    headroom_db = peak_db - 20 * np.log10(peak)
    limited = gain_db > headroom_db
    gain_db = min(gain_db, headroom_db)
    return Levelled(samples * float(db_to_gain(gain_db)), measured, gain_db, limited)
