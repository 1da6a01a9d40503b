"""QuickBooks' own clock text: parsing, ordering and overlap windows."""

from __future__ import annotations

import datetime as dt

WALL = "%Y-%m-%dT%H:%M:%S"
# FromModifiedDate is inclusive and QuickBooks reports the wrong UTC offset during daylight
# saving (and repeats an hour at fall-back): re-asking for the last hour costs a few
# duplicates, which the (object, EditSequence) key drops.
OVERLAP = dt.timedelta(hours=1)


def wall_clock(text: str) -> dt.datetime:
    """The local wall-clock part of a QuickBooks time, without its offset."""
    return dt.datetime.strptime(text[:19], WALL)


def later(a: str | None, b: str | None) -> str | None:
    """The later of two QuickBooks times, compared on the wall clock."""
    if a is None:
        return b
    if b is None:
        return a
    return b if wall_clock(b) > wall_clock(a) else a


def window_start(watermark: str | None, *, overlap: dt.timedelta = OVERLAP) -> str | None:
    """FromModifiedDate for a watermark: its wall clock minus the overlap, no offset."""
    if not watermark:
        return None
    return (wall_clock(watermark) - overlap).strftime(WALL)


def to_utc(text: str | None) -> dt.datetime | None:
    """A QuickBooks time as aware UTC (for ordering); None when unreadable."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def server_window(days: float, now: dt.datetime | None = None) -> str:
    """A FromModifiedDate some days back by the server clock (first sync, backfill)."""
    now = now or dt.datetime.now(dt.UTC)
    return (now - dt.timedelta(days=days)).strftime(WALL)
