"""How the pages write quantities: durations as m:ss (h:mm:ss past an hour), never raw float seconds."""

from __future__ import annotations


def duration(seconds: float | None) -> str:
    """1.506035 → "0:02", 75 → "1:15", 3725 → "1:02:05"; None → "—" (not measured)."""
    if seconds is None:
        return "—"
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
