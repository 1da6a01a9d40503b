"""Encryption of Slack tokens at rest with MultiFernet (newest key first)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class TokenDecryptError(RuntimeError):
    """A stored token could not be decrypted with any configured key."""


class TokenCipher:
    """Encrypts with the first key and decrypts with any; never holds plaintext."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one Fernet key is needed")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def __repr__(self) -> str:
        return "TokenCipher(<keys hidden>)"

    def encrypt(self, plaintext: str | None) -> str | None:
        """Encrypt a token; None stays None."""
        if plaintext is None:
            return None
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str | None) -> str | None:
        """Decrypt a stored token; None stays None."""
        if ciphertext is None:
            return None
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise TokenDecryptError("stored token matches none of TOKEN_ENCRYPTION_KEYS") from exc

    def rotate(self, ciphertext: str | None) -> str | None:
        """Re-encrypt a stored token with the newest key."""
        if ciphertext is None:
            return None
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise TokenDecryptError("stored token matches none of TOKEN_ENCRYPTION_KEYS") from exc
