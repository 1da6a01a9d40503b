"""The Web Connector version a caller reported in clientVersion, kept for its authenticate.

clientVersion carries no ticket or user name, so its version is remembered by caller
(address and User-Agent) for the authenticate that follows, which records it for App Home.
QBWC makes a session's calls over one keep-alive connection, so that authenticate nearly
always reaches the same web process: this process's memory answers first, and Redis (when
there is one) covers a call that lands elsewhere. Informational only: never fails a poll.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time

from redis import Redis

log = logging.getLogger(__name__)

TTL_SECONDS = 120  # from clientVersion to its authenticate
LOCAL_SECONDS = 30  # a value this process heard is trusted this long without Redis
LOCAL_MAX = 10_000
KEY_PREFIX = "qbslack:qbwc-version:"
_VERSION = re.compile(r"\d{1,5}(\.\d{1,5}){0,4}", re.ASCII)
# The Programmer's Guide we implement is the one for QBWC 2.0 (May 2009), the release that
# added serverVersion, getLastError's "NoOp" and clientVersion's "O:" answer. A 1.x Web
# Connector predates that protocol: warn ("W:" lets the user go on) rather than refuse.
MIN_QBWC = (2, 0)


def client_version_answer(version: str | None) -> str:
    """ "" for a supported QBWC, or "W:..." asking an older one to upgrade."""
    try:
        parts = tuple(int(p) for p in (version or "").strip().split("."))
    except ValueError:
        return ""  # unreadable: let it try rather than block a working connector
    if parts < MIN_QBWC:
        return (
            f"W:This QuickBooks Web Connector ({version}) is older than 2.0, the version "
            "qbslack is built for. Please install the current Web Connector from Intuit."
        )
    return ""


def caller_key(caller: str) -> str:
    """A fixed-size key for a caller: whatever the client sends, keys stay 32 characters."""
    return hashlib.sha256(caller.encode("utf-8", "replace")).hexdigest()[:32]


class ClientVersions:
    """Versions by caller: in this process, and in Redis when there is one."""

    def __init__(self, redis: Redis | None = None) -> None:
        self._redis = redis
        self._local: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def remember(self, caller: str, version: str) -> None:
        """Note the version a caller reported (only what a version number looks like)."""
        caller = caller_key(caller)
        version = version.strip()
        if not _VERSION.fullmatch(version):
            return  # shown in App Home: nothing else gets in
        now = time.monotonic()
        with self._lock:
            known = self._local.get(caller)
            if known is not None and known[0] == version and known[1] > now:
                return  # Redis was told less than LOCAL_SECONDS ago: it still holds this
            if len(self._local) >= LOCAL_MAX:
                self._local.clear()
            self._local[caller] = (version, now + LOCAL_SECONDS)
        if self._redis is None:
            return
        try:
            self._redis.set(KEY_PREFIX + caller, version, ex=TTL_SECONDS)
        except Exception:
            log.warning("could not remember the QBWC version", exc_info=True)

    def recall(self, caller: str) -> str | None:
        """The version this caller reported a moment ago, or None."""
        caller = caller_key(caller)
        with self._lock:
            found = self._local.get(caller)
        if found is not None and found[1] > time.monotonic():
            return found[0]
        if self._redis is None:
            return None
        try:
            value = self._redis.get(KEY_PREFIX + caller)
        except Exception:
            log.warning("could not read the QBWC version", exc_info=True)
            return None
        return value.decode() if isinstance(value, bytes) else value
