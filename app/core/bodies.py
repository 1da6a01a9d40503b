"""Reading request bodies under a size limit, whether or not they announce a length."""

from __future__ import annotations

from typing import Any


def read_at_most(stream: Any, size: int) -> bytes:
    """Read until EOF or `size` bytes (a socket or a chunked read may return less than asked)."""
    chunks, total = [], 0
    while total < size:
        chunk = stream.read(min(65536, size - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)
