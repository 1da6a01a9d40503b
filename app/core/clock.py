"""The clock: one place that says what time it is, so tests can set it."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol


class Clock(Protocol):
    """Where scheduling code (stale checks, reminders, backoff, give-up) reads "now"."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""


class SystemClock:
    """The real time."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that moves only when told: tests advance it instead of sleeping."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime.now(dt.UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        """The time it was set to."""
        with self._lock:
            return self._now

    def set(self, when: dt.datetime) -> None:
        """Jump to a moment (timezone-aware)."""
        with self._lock:
            self._now = when

    def advance(self, **delta: float) -> dt.datetime:
        """Move forward by a timedelta's keywords (minutes=5, hours=25); returns the new now."""
        with self._lock:
            self._now += dt.timedelta(**delta)
            return self._now
