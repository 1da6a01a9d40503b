"""Structured JSON logging that never prints a secret."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# Slack tokens, Fernet tokens and password/ticket fields are scrubbed from every line.
_SECRET_PATTERNS = [
    re.compile(r"xox[abposr]-[A-Za-z0-9-]+"),
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"gAAAAA[A-Za-z0-9_\-=]{20,}"),
    re.compile(r"(?i)(<strPassword>)[^<]*(</strPassword>)"),
    re.compile(r"(?i)((?:password|secret|client_secret|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"),
]
_CONTEXT_FIELDS = ("tenant", "team_id", "connection", "ticket", "event_id", "channel", "job")
TICKET_PREFIX = 8  # characters of a QBWC ticket shown in logs: enough to follow, not to use
_context: ContextVar[dict[str, Any] | None] = ContextVar("qbslack_log_context", default=None)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add context fields (tenant, ticket...) to every record logged inside the block."""
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


def ticket_prefix(ticket: str | None) -> str | None:
    """The loggable beginning of a ticket (None for none)."""
    return ticket[:TICKET_PREFIX] + "…" if ticket else None


class ContextFilter(logging.Filter):
    """Fills a record's missing context fields from log_context()."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in (_context.get() or {}).items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


def redact(text: str) -> str:
    """Remove anything that looks like a secret from text."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(r"\1[redacted]\2", text)
        elif pattern.groups == 1:
            text = pattern.sub(r"\1[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and context fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name in _CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = redact(str(value))
        if record.exc_info:
            data["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


class RedactingFormatter(logging.Formatter):
    """Plain text logs, still without secrets."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(*, json_lines: bool = True, level: int = logging.INFO) -> None:
    """Install one stderr handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_qbslack", False):
            return
    handler = logging.StreamHandler(sys.stderr)
    handler._qbslack = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level)
