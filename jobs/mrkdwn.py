"""Slack mrkdwn pieces every message shares: escaping, clipping to Slack's limits, sections."""

from __future__ import annotations

import datetime as dt
from typing import Any

MAX_BLOCKS = 50
MAX_SECTION = 3000  # characters of a section's text
MAX_FIELD = 2000  # characters of one section field
MAX_HEADER = 150
MAX_TEXT = 3900  # the top-level fallback (Slack truncates past 40,000; keep it readable)


def escape(text: Any) -> str:
    """Escape Slack's control characters in QuickBooks text."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Cut text to Slack's limit with an ellipsis, never inside an &entity;."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]  # a half entity would show as garbage
    return cut + "…"


def text_object(text: str, limit: int = MAX_SECTION) -> dict[str, Any]:
    """A mrkdwn text object, clipped, that Slack shows as written.

    verbatim: QuickBooks text (a vendor named like a URL or a #channel) is never turned into
    a link or a mention; the links and dates we write ourselves (<#C…>, <!date…>) still work.
    """
    return {"type": "mrkdwn", "text": clip(text, limit), "verbatim": True}


def section(text: str) -> dict[str, Any]:
    """A mrkdwn section block, clipped to Slack's limit."""
    return {"type": "section", "text": text_object(text)}


def header(text: str) -> dict[str, Any]:
    """A header block (plain text), clipped to Slack's limit."""
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, MAX_HEADER)}}


def local_time(when: dt.datetime) -> str:
    """A moment each reader sees in their own time zone (Slack's date formatting)."""
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def short_date(day: dt.date) -> str:
    """A calendar date each reader sees in their own format ("Nov 1, 2026"), with the ISO
    date as the fallback. The moment is noon UTC: the same day from UTC-12 to UTC+11, so a
    date QuickBooks wrote is never shown as the day before in the Americas."""
    noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
    return f"<!date^{int(noon.timestamp())}^{{date_short}}|{day.isoformat()}>"
