"""Payload values in a bookkeeper's words: amounts, currencies, dates and due dates.

Payload values are shown with care: events written before input was checked (or by any bug)
may hold anything. A number is used only when it is one QuickBooks could send (finite, under
10**15: qbXML amounts have 15 significant digits); text is cut before it is escaped, so no
big string is ever built from a payload.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from jobs.mrkdwn import MAX_FIELD, escape, short_date

LARGEST = Decimal(10) ** 15
MAX_NUMBER_TEXT = 40

# QuickBooks names currencies in full (CurrencyRef/FullName); show the ISO code when known.
CURRENCY_CODES = {
    "us dollar": "USD",
    "canadian dollar": "CAD",
    "euro": "EUR",
    "british pound sterling": "GBP",
    "pound sterling": "GBP",
    "australian dollar": "AUD",
    "new zealand dollar": "NZD",
    "mexican peso": "MXN",
    "japanese yen": "JPY",
    "swiss franc": "CHF",
    "indian rupee": "INR",
    "south african rand": "ZAR",
    "singapore dollar": "SGD",
    "hong kong dollar": "HKD",
}
# The symbol of a file's home currency. In a file that uses one currency every amount is in
# it, so "$" is not ambiguous there (a Canadian file's "$" is the Canadian dollar).
SYMBOLS = {
    "USD": "$",
    "CAD": "$",
    "AUD": "$",
    "NZD": "$",
    "SGD": "$",
    "HKD": "$",
    "MXN": "$",
    "GBP": "£",
    "EUR": "€",
    "JPY": "¥",
    "INR": "₹",
    "ZAR": "R",
}
# QBWC's qbXMLCountry (the QuickBooks edition) -> its home currency.
EDITION_CURRENCY = {"US": "USD", "CA": "CAD", "UK": "GBP", "AU": "AUD"}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
FIRST_YEAR, LAST_YEAR = 1970, 2200  # dates outside are shown as QuickBooks wrote them
CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def amount_value(value: Any) -> Decimal | None:
    """A payload's number as a Decimal; None unless it is finite and under 10**15."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int):
            if not -LARGEST < value < LARGEST:
                return None
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(value)  # inf and nan become Decimal's own, refused below
        elif isinstance(value, str):
            text = value.strip()
            if not text or len(text) > MAX_NUMBER_TEXT:
                return None
            number = Decimal(text)
        else:
            return None
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or not -LARGEST < number < LARGEST:
        return None
    if number and number.adjusted() < -MAX_NUMBER_TEXT:
        return None  # 1e-1000000000: no amount QuickBooks could write
    return number


def plain(value: Any, limit: int = MAX_FIELD) -> str:
    """Payload text as a string of at most limit + 1 characters (clip() then marks the cut);
    "" for what is not text or a number."""
    if isinstance(value, str):
        return value[: limit + 1]
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return ""
    try:
        return str(value)[: limit + 1]
    except ValueError:  # Python's limit on converting a huge int
        return ""


def shown(value: Any, limit: int = MAX_FIELD) -> str:
    """Payload text escaped for mrkdwn, cut first (see plain)."""
    return escape(plain(value, limit))


def count(value: Any) -> int:
    """A count kept in a payload (e.g. more_line_items), 0 unless it is a sane one."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**9:
        return value
    return 0


def currency_code(currency: Any) -> str | None:
    """ "US Dollar" -> "USD"; unknown names stay as QuickBooks wrote them."""
    name = plain(currency, 64).strip()
    if not name:
        return None
    return CURRENCY_CODES.get(name.lower(), name)


def home_currency(p: Mapping[str, Any]) -> str | None:
    """The ISO code of the file's home currency when the payload says it, else None.

    `home_currency` (a QuickBooks currency name or an ISO code) wins over `qb_country`
    (QBWC's qbXMLCountry: US, CA, UK, AU). Only a code we know a symbol for is kept.
    """
    code = currency_code(p.get("home_currency"))
    if code is None:
        code = EDITION_CURRENCY.get(plain(p.get("qb_country"), 8).strip().upper())
    code = code.upper() if code else None
    return code if code in SYMBOLS else None


def money(amount: Any, currency: Any = None, *, home: str | None = None) -> str | None:
    """1250 -> "1,250.00"; with the currency's code when QuickBooks named one
    ("1,250.00 CAD"), else with the home currency's symbol when known ("$1,250.00").
    None when the amount is missing or not a number QuickBooks could have sent."""
    value = amount_value(amount)
    if value is None:
        return None
    text = f"{value:,.2f}"
    code = currency_code(currency)
    if code:
        return f"{text} {escape(code)}"
    symbol = SYMBOLS.get(home or "")
    if symbol:
        return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"
    return text


def payload_date(value: Any) -> dt.date | None:
    """A QuickBooks date ("2026-11-01", DATETYPE) as a date; None for anything else."""
    text = plain(value, 16).strip()
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def date_text(value: Any) -> str:
    """A payload date for mrkdwn: Slack's localised date, or the escaped text as written."""
    day = payload_date(value)
    return short_date(day) if day else shown(value)


def today(now: dt.datetime) -> dt.date:
    """The UTC calendar day of a moment (a naive one is taken as UTC)."""
    return now.astimezone(dt.UTC).date() if now.tzinfo else now.date()


def due_words(due: dt.date, on: dt.date) -> str:
    """ "due today", "due tomorrow", "due in 3 days", "overdue by 1 day"... as of `on`."""
    days = (due - on).days
    if days == 0:
        return "due today"
    if days == 1:
        return "due tomorrow"
    if days > 1:
        return f"due in {days} days"
    return f"overdue by {-days} day{'s' if days < -1 else ''}"


def words(value: Any, limit: int = 64) -> str:
    """QuickBooks' enum words for people: "AccountsPayable" -> "Accounts payable"."""
    text = plain(value, limit)
    if not text.isascii() or not text.isalpha():
        return shown(text, limit)
    spaced = CAMEL.sub(" ", text)
    return escape(spaced[:1] + spaced[1:].lower())
