"""What qbslack keeps of QuickBooks' values: numbers as qbXML types them, bounded texts and
payloads. One table each, read by the parser (soap.qbxml.responses) and by soap.ingest.

Numbers: qbxmltypes130.xsd types every amount AMTTYPE (`[+-]?[0-9]{1,13}(\\.[0-9]{2})?`),
quantities QUANTYPE and prices PRICETYPE (`[+-]?[0-9]{1,10}(\\.[0-9]{1,5})?`): plain decimal
notation, at most 15 significant digits, never an exponent, NaN or Infinity. A value that
does not fit its type is not QuickBooks': the field is dropped (and counted).

Texts: Slack's limits are the ceiling (3000 characters for a section, 2000 for a field, 150
for a header); QuickBooks' own are lower for names (41 for a vendor's Name, 159 for a
FullName, 4095 for a Memo). A text over its limit is clipped with an ellipsis.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "NUMBER_ELEMENTS",
    "TEXT_DEFAULT",
    "TEXT_LIMITS",
    "TRIMMED_LISTS",
    "NumberType",
    "cap_payload",
    "clip_text",
    "payload_size",
    "shown",
    "text_limit",
]


@dataclass(frozen=True)
class NumberType:
    """A qbXML numeric type: its pattern (fullmatch) and the significant digits allowed."""

    name: str
    pattern: re.Pattern[str]
    max_length: int  # of the text, sign and point included
    max_digits: int = 15  # significant digits

    def check(self, text: str) -> bool:
        """True when the text is a value of this type (finite, plain notation, bounded)."""
        if len(text) > self.max_length or not self.pattern.fullmatch(text):
            return False
        digits = "".join(c for c in text if c.isdigit()).lstrip("0")
        return len(digits) <= self.max_digits


# AMTTYPE: the XSD wants exactly two decimals; one is taken too ("12.5"), never more.
AMTTYPE = NumberType("AMTTYPE", re.compile(r"[+-]?[0-9]{1,13}(\.[0-9]{1,2})?", re.ASCII), 17)
QUANTYPE = NumberType("QUANTYPE", re.compile(r"[+-]?[0-9]{1,10}(\.[0-9]{1,5})?", re.ASCII), 17)
PRICETYPE = NumberType("PRICETYPE", QUANTYPE.pattern, 17)
PERCENTTYPE = NumberType("PERCENTTYPE", QUANTYPE.pattern, 17)
# FLOATTYPE is xsd:decimal (no bound in the schema): 15 significant digits, 24 characters.
FLOATTYPE = NumberType("FLOATTYPE", re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", re.ASCII), 24)
# INTTYPE is xsd:integer; QuickBooks' are 32-bit (TxnNumber).
INTTYPE = NumberType("INTTYPE", re.compile(r"[+-]?[0-9]{1,10}", re.ASCII), 11, 10)

# Every numeric element qbslack reads, by tag, with its type in qbxml130.xsd.
NUMBER_ELEMENTS: dict[str, NumberType] = {
    "Amount": AMTTYPE,
    "AmountDue": AMTTYPE,
    "AppliedAmount": AMTTYPE,
    "Balance": AMTTYPE,
    "BalanceRemaining": AMTTYPE,
    "DiscountAmount": AMTTYPE,
    "OpenAmount": AMTTYPE,
    "SalesTaxTotal": AMTTYPE,
    "Subtotal": AMTTYPE,
    "TotalAmount": AMTTYPE,
    "UnusedCredits": AMTTYPE,
    "UnusedPayment": AMTTYPE,
    "Quantity": QUANTYPE,
    "Rate": PRICETYPE,
    "Cost": PRICETYPE,
    "SalesTaxPercentage": PERCENTTYPE,
    "ExchangeRate": FLOATTYPE,
    "TxnNumber": INTTYPE,
}

# Characters kept of a text element, by tag; any other element: TEXT_DEFAULT (a name, a
# reference number, an id: a Slack field shows it whole). Free text a person typed gets a
# section's worth.
TEXT_DEFAULT = 255
TEXT_LIMITS: dict[str, int] = {
    "Memo": 3000,
    "Desc": 3000,
    "VendorMsg": 3000,
    "CustomerMsg": 3000,
}

# An event's payload, serialized (UTF-8 JSON): lists are cut first, then long texts.
MAX_PAYLOAD_BYTES = 16_384
# The lists a payload may lose items of, the least needed first; each cut is counted in
# "more_<list>" (e.g. more_line_items), which the message shows as "+N more".
TRIMMED_LISTS = ("linked_txns", "line_items", "applied_to")
_MORE_RESERVE = 64  # bytes kept free for each "more_<list>": <count> pair
_MIN_CLIP = 32  # texts are not cut shorter than this while cutting a payload


def text_limit(tag: str) -> int:
    """How many characters of an element's text are kept."""
    return TEXT_LIMITS.get(tag, TEXT_DEFAULT)


def clip_text(text: str, limit: int) -> str:
    """The text, or its first limit - 1 characters and an ellipsis."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def shown(text: str, limit: int = 12) -> str:
    """A short, quoted form of outside text for a log line (never the whole of it)."""
    return repr(clip_text(text, limit))


def payload_size(payload: Any) -> int:
    """Bytes of the payload as stored (UTF-8 JSON)."""
    return len(json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8"))


def cap_payload(
    payload: dict[str, Any], limit: int = MAX_PAYLOAD_BYTES
) -> tuple[dict[str, Any], bool]:
    """The payload within limit bytes, and whether anything was cut.

    List items (TRIMMED_LISTS) are kept from the start while they fit, the most needed list
    first; what is left out is counted in "more_<list>". If the rest is still too big, the
    longest texts are cut in half until it fits.
    """
    if payload_size(payload) <= limit:
        return payload, False
    out = dict(payload)
    lists = {k: out.pop(k) for k in TRIMMED_LISTS if isinstance(out.get(k), list)}
    budget = limit - payload_size(out) - _MORE_RESERVE * len(lists)
    for key in reversed(TRIMMED_LISTS):  # the most needed first
        items = lists.get(key)
        if items is None:
            continue
        kept = []
        for item in items:
            cost = payload_size(item) + 2  # ", " between items
            if cost > budget:
                break
            kept.append(item)
            budget -= cost
        if kept:
            out[key] = kept
        if len(kept) < len(items):
            out[f"more_{key}"] = int(out.get(f"more_{key}") or 0) + len(items) - len(kept)
    while payload_size(out) > limit:
        texts = [(len(v), k) for k, v in out.items() if isinstance(v, str) and len(v) > _MIN_CLIP]
        if not texts:
            break  # nothing long is left: bounded by the number of keys
        _, key = max(texts)
        value = out[key]
        out[key] = clip_text(value, max(_MIN_CLIP, len(value) // 2))
    return out, True
