"""QBWC usernames and passwords: generated, scrypt-hashed, compared in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt cost n=2**12, r=8, p=1 (4 MB, ~5 ms here). QBWC passwords are generated with
# ~190 bits of entropy, so the KDF cost guards a leaked hash table only marginally, while
# every QBWC poll pays it: a busy shared endpoint authenticates ~100 times a second.
# Online guessing is stopped by the lockout, not by this cost. Each stored hash records
# its own parameters, so raising them later keeps old hashes valid.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**12, 8, 1
_DUMMY_HASH: str | None = None


def generate_password() -> str:
    """A random password a person can type into QBWC (about 120 bits)."""
    return "-".join(secrets.token_urlsafe(6).replace("-", "x").replace("_", "y") for _ in range(4))


def generate_username(prefix: str = "qbs") -> str:
    """A unique-enough QBWC username (uniqueness is enforced by the database)."""
    return f"{prefix}-{secrets.token_hex(6)}"


def hash_password(password: str) -> str:
    """Hash a password with scrypt; the result records its own parameters and salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    salt_b64, digest_b64 = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt_b64}${digest_b64}"


def verify_password(password: str, stored: str | None) -> bool:
    """Check a password against a stored hash in constant time."""
    if not stored:
        # Still spend the time of a real check, so a missing user is not faster.
        global _DUMMY_HASH
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(secrets.token_hex(8))
        stored, result_if_match = _DUMMY_HASH, False
    else:
        result_if_match = True
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest_b64)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt_b64),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected) and result_if_match
