"""Cross-process coordination for delivery: per-channel rate slots, locks and queued marks.

Redis holds them in production, so any number of web and worker processes share one
limit per channel; the embedded mode (one process) keeps the same interface in memory.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Protocol

from redis import Redis

# Due times come from the clocks of different machines: a run noted as due within this many
# seconds counts as the one that is starting.
CLOCK_SLACK = 1.0

# Reserve the next post slot of a channel atomically. KEYS[1] = slot key; ARGV[1] = interval
# in ms. Returns 0 when the caller may post now (the slot is taken), else ms to wait.
_SLOT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt > now then return nxt - now end
redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', tonumber(ARGV[1]) + 60000)
return 0
"""
# Push the next allowed time later (after a 429). KEYS[1] slot key; ARGV[1] delay ms.
_DEFER_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local want = now + tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if want > nxt then redis.call('SET', KEYS[1], want, 'PX', tonumber(ARGV[1]) + 60000) end
return 0
"""
# Note that a run of a channel's drain is due at ARGV[1] (epoch ms) unless one is already due
# no later. KEYS[1] mark key; ARGV[2] ttl ms. Returns 1 if the caller should enqueue.
_WANT_SCRIPT = """
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) <= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
return 1
"""
# Forget a noted run that is due by ARGV[1] (epoch ms); a later one stays noted.
_STARTED_SCRIPT = """
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) <= tonumber(ARGV[1]) then return redis.call('DEL', KEYS[1]) end
return 0
"""
_UNLOCK_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Coordinator(Protocol):
    """What delivery needs to share between processes."""

    def take_slot(self, key: str, interval: float) -> float:
        """0 if a post may go now (slot taken), else seconds to wait."""

    def defer(self, key: str, seconds: float) -> None:
        """No post on this key for the next `seconds` (Slack said Retry-After)."""

    def lock(self, key: str, ttl: float) -> str | None:
        """A lock token, or None when someone else holds the lock."""

    def unlock(self, key: str, token: str) -> None:
        """Release a lock we hold."""

    def want_run(self, key: str, due: float, ttl: float) -> bool:
        """Note a run due at `due` (epoch s); False if one is already due no later.

        Dedupes enqueues: N kicks make one job, yet an earlier need is never held up by a
        run scheduled later (the mark expires after `ttl` in case its job was lost).
        """

    def started(self, key: str) -> None:
        """A noted run has started: forget it unless a later one is noted."""


class RedisCoordinator:
    """Coordination in Redis: shared by every process."""

    def __init__(self, connection: Redis, prefix: str = "qbslack:") -> None:
        self.r = connection
        self.prefix = prefix
        self._slot = connection.register_script(_SLOT_SCRIPT)
        self._defer = connection.register_script(_DEFER_SCRIPT)
        self._unlock = connection.register_script(_UNLOCK_SCRIPT)
        self._want = connection.register_script(_WANT_SCRIPT)
        self._started = connection.register_script(_STARTED_SCRIPT)

    def take_slot(self, key: str, interval: float) -> float:
        wait_ms = int(self._slot(keys=[self.prefix + "slot:" + key], args=[int(interval * 1000)]))
        return wait_ms / 1000.0

    def defer(self, key: str, seconds: float) -> None:
        self._defer(keys=[self.prefix + "slot:" + key], args=[int(seconds * 1000)])

    def lock(self, key: str, ttl: float) -> str | None:
        token = secrets.token_hex(8)
        ok = self.r.set(self.prefix + "lock:" + key, token, nx=True, px=int(ttl * 1000))
        return token if ok else None

    def unlock(self, key: str, token: str) -> None:
        self._unlock(keys=[self.prefix + "lock:" + key], args=[token])

    def want_run(self, key: str, due: float, ttl: float) -> bool:
        return bool(
            self._want(
                keys=[self.prefix + "mark:" + key], args=[int(due * 1000), max(1, int(ttl * 1000))]
            )
        )

    def started(self, key: str) -> None:
        due_by = time.time() + CLOCK_SLACK
        self._started(keys=[self.prefix + "mark:" + key], args=[int(due_by * 1000)])


class LocalCoordinator:
    """The same in one process (embedded mode)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, float] = {}
        self._locks: dict[str, tuple[str, float]] = {}
        self._marks: dict[str, tuple[float, float]] = {}  # key -> (due, expires)

    def take_slot(self, key: str, interval: float) -> float:
        with self._lock:
            now = time.monotonic()
            nxt = self._slots.get(key, 0.0)
            if nxt > now:
                return nxt - now
            self._slots[key] = now + interval
            return 0.0

    def defer(self, key: str, seconds: float) -> None:
        with self._lock:
            want = time.monotonic() + seconds
            self._slots[key] = max(self._slots.get(key, 0.0), want)

    def lock(self, key: str, ttl: float) -> str | None:
        with self._lock:
            now = time.monotonic()
            held = self._locks.get(key)
            if held and held[1] > now:
                return None
            token = secrets.token_hex(8)
            self._locks[key] = (token, now + ttl)
            return token

    def unlock(self, key: str, token: str) -> None:
        with self._lock:
            if self._locks.get(key, ("", 0))[0] == token:
                del self._locks[key]

    def want_run(self, key: str, due: float, ttl: float) -> bool:
        with self._lock:
            current = self._marks.get(key)
            if current and current[1] > time.monotonic() and current[0] <= due:
                return False
            self._marks[key] = (due, time.monotonic() + ttl)
            return True

    def started(self, key: str) -> None:
        with self._lock:
            current = self._marks.get(key)
            if current and current[0] <= time.time() + CLOCK_SLACK:
                del self._marks[key]
