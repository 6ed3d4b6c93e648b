"""Tiny audio generator, so the demo and tests use real WAV files without shipping binaries."""

from __future__ import annotations

import io
import math
import struct
import wave


def tone_wav(seconds: float = 1.0, frequency: float = 440.0, rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = int(seconds * rate)
        out.writeframes(b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * frequency * i / rate))) for i in range(frames)))
    return buf.getvalue()
