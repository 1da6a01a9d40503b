"""gunicorn's access log without secrets: no .qwc download tokens, no query strings."""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

# Paths whose last segment is a credential (a signed .qwc download link).
_SECRET_PATH = re.compile(r"^(/qwc/)[^/?\s]+")


def redact_path(path: str) -> str:
    """A request path fit for a log: its query string dropped, a download token hidden."""
    return _SECRET_PATH.sub(r"\1[redacted]", path.split("?", 1)[0])


class RedactingLogger(Logger):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's logger whose access lines never show a token, OAuth code or state."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """The access-log fields, with the request line, path, query and referer cleaned."""
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        path = redact_path(str(atoms.get("U") or ""))
        atoms["U"] = path
        atoms["q"] = ""
        atoms["f"] = "-"  # a referer may carry the same secrets
        atoms["r"] = f"{atoms.get('m', '-')} {path} {atoms.get('H', '-')}"
        return atoms
