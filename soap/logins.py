"""Recently verified QBWC logins, so that a repeat poll skips scrypt in every web process."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time

from redis import Redis

log = logging.getLogger(__name__)

# A stored hash changes on every reset, which forgets its entry at once, so a long life
# costs nothing in safety and keeps scrypt off all but the first poll of the day.
TTL_SECONDS = 12 * 60 * 60
LOCAL_MAX = 50_000
KEY_PREFIX = "qbslack:login:"


class VerifiedLogins:
    """Successes remembered as keyed HMACs: in this process, and in Redis when there is one.

    QBWC sends the same credentials every few minutes, and a poll may land on any web
    process. Redis holds only HMAC-SHA256 values under a key derived from SECRET_KEY, of
    username, password and the stored scrypt hash: they reveal nothing and cannot be forged
    without the key, and a password reset (a new stored hash) forgets them all.
    """

    def __init__(self, *, secret: str, redis: Redis | None = None) -> None:
        # An empty secret (never in production, which requires SECRET_KEY) gets a random
        # per-process key: remembered logins then simply stay in this process.
        seed = secret.encode() if secret else secrets.token_bytes(32)
        self._key = hmac.new(seed, b"qbslack qbwc verified logins", hashlib.sha256).digest()
        self._redis = redis if secret else None
        self._local: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def _digests(self, username: str, password: str, stored: str) -> tuple[str, bytes]:
        """(Redis key, proof): the key names the login; the proof needs the password."""
        name = hmac.new(self._key, f"k\0{username}\0{stored}".encode(), hashlib.sha256)
        proof = hmac.new(self._key, f"p\0{username}\0{password}\0{stored}".encode(), hashlib.sha256)
        return KEY_PREFIX + name.hexdigest()[:40], proof.digest()

    def known(self, username: str, password: str, stored: str) -> bool:
        """True when this login was verified within the TTL (here or in another process)."""
        key, proof = self._digests(username, password, stored)
        now = time.monotonic()
        with self._lock:
            expires = self._local.get(proof)
        if expires is not None and expires > now:
            return True
        if self._redis is None:
            return False
        try:
            remembered = self._redis.get(key)
        except Exception:  # a cache: never fail a login over it
            log.warning("could not read remembered QBWC logins", exc_info=True)
            return False
        if not isinstance(remembered, bytes) or not hmac.compare_digest(remembered, proof):
            return False
        self._remember_locally(proof, now)
        return True

    def forget(self, username: str, stored: str) -> None:
        """Forget a login's verified password everywhere (its password was reset or revoked)."""
        key, _ = self._digests(username, "", stored)
        with self._lock:
            self._local.clear()  # proofs cannot be told apart without the password: all go
        if self._redis is None:
            return
        try:
            self._redis.delete(key)
        except Exception:
            log.warning("could not forget a QBWC login", exc_info=True)

    def remember(self, username: str, password: str, stored: str) -> None:
        """Note a login whose password was just checked against its scrypt hash."""
        key, proof = self._digests(username, password, stored)
        self._remember_locally(proof, time.monotonic())
        if self._redis is None:
            return
        try:
            self._redis.set(key, proof, ex=TTL_SECONDS)
        except Exception:
            log.warning("could not remember a QBWC login", exc_info=True)

    def _remember_locally(self, proof: bytes, now: float) -> None:
        with self._lock:
            if len(self._local) >= LOCAL_MAX:
                self._local.clear()
            self._local[proof] = now + TTL_SECONDS
