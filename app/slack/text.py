"""Text for Slack surfaces: clipped to Slack's limits without breaking a link, and the words
for QuickBooks types, counts and amounts that App Home and the commands share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from jobs.messages import LABELS
from jobs.mrkdwn import escape
from tenants.enums import EventType

MAX_SECTION = 3000  # characters of a section's text
MAX_OPTION = 75  # characters of a select option's text

# Plurals of jobs.messages.LABELS' words that do not just take an "s".
_PLURALS = {
    "payment received": "payments received",
    "bill payment (credit card)": "bill payments (credit card)",
}


def clip(text: str, limit: int = MAX_SECTION) -> str:
    """Text cut to `limit` characters with an ellipsis, never inside a `<…>` link, mention
    or date, nor inside an `&entity;`."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    opened = cut.rfind("<")
    if opened != -1 and ">" not in cut[opened:]:
        cut = cut[:opened]  # half a <#C…|name> would show as garbage, or not at all
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def fit_lines(
    lines: Iterable[str], *, limit: int = MAX_SECTION, more: Callable[[int], str] | None = None
) -> str:
    """Whole lines, as many as fit in `limit` characters; then `more(n)` says how many were
    left out (it is given room). A line longer than the limit alone is clipped."""
    lines = list(lines)
    kept: list[str] = []
    size = 0
    for i, line in enumerate(lines):
        rest = len(lines) - i - 1
        tail = len(more(rest + 1)) + 1 if more and rest else 0
        if size + len(line) + 1 + tail > limit:
            if not kept:
                kept.append(clip(line, limit - (len(more(rest)) + 1 if more and rest else 0)))
                if more and rest:
                    kept.append(more(rest))
            elif more:
                kept.append(more(len(lines) - i))
            return "\n".join(kept)
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def section(text: str, *, accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    """A mrkdwn section, within Slack's limit."""
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def context(text: str) -> dict[str, Any]:
    """A context block of one mrkdwn text, within Slack's limit."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text)}]}


def plain(text: str, limit: int = 150) -> dict[str, Any]:
    """A plain_text object, clipped (buttons take 75, titles 24, most others 150)."""
    return {"type": "plain_text", "text": clip(text, limit) if text else " "}


def option(text: str, value: str) -> dict[str, Any]:
    """A select option (Slack takes 75 characters of text)."""
    return {"text": plain(text, MAX_OPTION), "value": value}


def button(
    action_id: str, text: str, value: str | None = None, *, style: str | None = None
) -> dict[str, Any]:
    """A button (its listener checks who clicked it)."""
    element: dict[str, Any] = {"type": "button", "action_id": action_id, "text": plain(text, 75)}
    if value is not None:
        element["value"] = value
    if style:
        element["style"] = style
    return element


def type_word(event_type: str, object_type: str) -> str:
    """A QuickBooks type as a bookkeeper says it: "bill payment", "payment received"."""
    if event_type == EventType.NOTICE:
        return '"connected" notice'
    if event_type == EventType.ALERT:
        return "health alert"
    word = LABELS.get(object_type)
    if word:
        return word
    return object_type or event_type.replace("_", " ") or "QuickBooks change"


def plural(word: str, count: int) -> str:
    """ "1 bill", "12 bills", "3 payments received"."""
    if count == 1:
        return f"1 {word}"
    many = _PLURALS.get(word)
    if many is None:
        many = word if word.endswith("s") else f"{word}s"
        if word.endswith('" notice'):
            many = f"{word}s"
    return f"{count:,} {many}"


def amount_text(value: str | None) -> str | None:
    """An event's amount with thousands separators and two decimals ("1,250.00")."""
    if not value:
        return None
    try:
        return f"{Decimal(value):,.2f}"
    except (InvalidOperation, ValueError):
        return escape(value[:40])


def first_upper(text: str) -> str:
    """A sentence from a phrase: "the channel is archived" -> "The channel is archived"."""
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Reply:
    """A command's ephemeral answer: text (the fallback), and blocks when it has buttons."""

    text: str
    blocks: list[dict[str, Any]] | None = None
