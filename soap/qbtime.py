"""QuickBooks' own clock text: parsing, ordering and overlap windows."""

from __future__ import annotations

import datetime as dt
import re

WALL = "%Y-%m-%dT%H:%M:%S"
# FromModifiedDate is inclusive and QuickBooks reports the wrong UTC offset during daylight
# saving (and repeats an hour at fall-back): re-asking for the last hour costs a few
# duplicates, which the (object, EditSequence) key drops.
OVERLAP = dt.timedelta(hours=1)
# What QuickBooks writes: wall clock, then an offset (or, rarely, none or Z).
_QB_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?", re.ASCII)


def valid(text: str | None) -> str | None:
    """The text when it is a QuickBooks date-time we can order by, else None."""
    if not text or not _QB_TIME.fullmatch(text):
        return None
    try:
        wall_clock(text)
    except ValueError:  # e.g. month 13
        return None
    return text


def wall_clock(text: str) -> dt.datetime:
    """The local wall-clock part of a QuickBooks time, without its offset."""
    return dt.datetime.strptime(text[:19], WALL)


def later(a: str | None, b: str | None) -> str | None:
    """The later of two QuickBooks times, compared on the wall clock; bad text is ignored."""
    a, b = valid(a), valid(b)
    if a is None:
        return b
    if b is None:
        return a
    return b if wall_clock(b) > wall_clock(a) else a


def window_start(watermark: str | None, *, overlap: dt.timedelta = OVERLAP) -> str | None:
    """FromModifiedDate for a watermark: its wall clock minus the overlap, no offset.

    Without an offset QuickBooks reads the time as its own local clock, which is what the
    watermark's wall-clock part is, whatever offset QuickBooks printed next to it.
    """
    if not valid(watermark):
        return None
    assert watermark is not None
    return (wall_clock(watermark) - overlap).strftime(WALL)


def to_utc(text: str | None) -> dt.datetime | None:
    """A QuickBooks time as aware UTC (for ordering); None when unreadable."""
    if not valid(text):
        return None
    assert text is not None
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def server_window(days: float, now: dt.datetime | None = None) -> str:
    """A FromModifiedDate some days back by the server clock (first sync, backfill)."""
    now = now or dt.datetime.now(dt.UTC)
    return (now - dt.timedelta(days=days)).strftime(WALL)
