"""Block Kit messages a bookkeeper reads at a glance, with a plain-text fallback."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from jobs.alert_messages import alert_message
from jobs.enums import EventAction
from jobs.models import Event
from jobs.mrkdwn import MAX_BLOCKS as MAX_BLOCKS  # tests check the limit
from jobs.mrkdwn import (
    MAX_FIELD,
    MAX_HEADER,
    MAX_SECTION,
    MAX_TEXT,
    clip,
    escape,
    section,
    text_object,
)

MAX_FIELDS = 10
MAX_LINES = 5
MAX_LINE = 500  # characters of one listed line: five of them and "+N more" fit a section
# Payload values are shown with care: events written before input was checked (or by any
# bug) may hold anything. A number is used only when it is one QuickBooks could send
# (finite, under 10**15: qbXML amounts have 15 significant digits); text is cut before it
# is escaped, so no big string is ever built from a payload.
LARGEST = Decimal(10) ** 15
MAX_NUMBER_TEXT = 40

LABELS = {
    "Vendor": "vendor",
    "Bill": "bill",
    "PurchaseOrder": "purchase order",
    "BillPaymentCheck": "bill payment",
    "BillPaymentCreditCard": "bill payment (credit card)",
    "ReceivePayment": "payment received",
    "Invoice": "invoice",
    "Account": "account",
    "Employee": "employee",
    "Customer": "customer",
}
# How the fallback names the other party: "New bill from Acme", "New invoice to Jane".
COUNTERPARTY_WORD = {
    "Bill": "from",
    "ReceivePayment": "from",
    "Invoice": "to",
    "PurchaseOrder": "to",
    "BillPaymentCheck": "to",
    "BillPaymentCreditCard": "to",
}
CUSTOMER_SIDE = {"Invoice", "ReceivePayment", "Customer"}
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


def currency_code(currency: Any) -> str | None:
    """ "US Dollar" -> "USD"; unknown names stay as QuickBooks wrote them."""
    name = plain(currency, 64).strip()
    if not name:
        return None
    return CURRENCY_CODES.get(name.lower(), name)


def money(amount: Any, currency: str | None = None) -> str | None:
    """1250 -> "1,250.00" (with the currency when QuickBooks gave one); None when the amount
    is missing or not a number QuickBooks could have sent."""
    value = amount_value(amount)
    if value is None:
        return None
    text = f"{value:,.2f}"
    code = currency_code(currency)
    return f"{text} {escape(code)}" if code else text


def _count(value: Any) -> int:
    """A count kept in a payload (e.g. more_line_items), 0 unless it is a sane one."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**9:
        return value
    return 0


def action_title(action: str, object_type: str, company: str | None = None) -> str:
    """ "New bill", "Bill updated", "Bill deleted", "Payment received", "Connected to X"."""
    if action == "connected":
        return f"Connected to {plain(company, MAX_HEADER) or 'QuickBooks'}"
    label = LABELS.get(object_type) or object_type or "QuickBooks change"
    if object_type == "ReceivePayment":
        return {
            "created": "Payment received",
            "updated": "Received payment updated",
            "deleted": "Received payment deleted",
        }.get(action, "Payment received")
    if object_type.startswith("BillPayment"):
        return {
            "created": "Bill paid",
            "updated": "Bill payment updated",
            "deleted": "Bill payment deleted",
        }.get(action, "Bill paid")
    if action == "created":
        return f"New {label}"
    return f"{label[0].upper()}{label[1:]} {action}"


def fallback_text(
    p: Mapping[str, Any], action: str, object_type: str, *, company: str | None
) -> str:
    """Top-level text: action, counterparty, ref number, amount (and the company)."""
    if action == "connected":
        text = f"Connected to {plain(p.get('company'), MAX_TEXT) or 'QuickBooks'}"
        if p.get("company_file"):
            text += f" · {plain(p['company_file'], MAX_TEXT)}"
        return clip(escape(text), MAX_TEXT)
    head = action_title(action, object_type)
    name = plain(p.get("name"), MAX_TEXT)
    if name:
        word = COUNTERPARTY_WORD.get(object_type)
        head += f" {word} {name}" if word else f": {name}"
    parts = [head]
    ref = plain(p.get("ref_number"), MAX_TEXT)
    if ref:
        parts.append(f"#{ref}")
    parts = [escape(x) for x in parts]
    amount = money(p.get("amount"), p.get("currency"))  # already escaped
    if amount:
        parts.append(amount)
    if company:
        parts.append(f"({shown(company, MAX_TEXT)})")
    return clip(" · ".join(parts), MAX_TEXT)


def _inputs(
    event: Event | Mapping[str, Any],
    action: str | None,
    object_type: str | None,
    replay: bool | None,
) -> tuple[dict[str, Any], str, str, bool]:
    """Payload, action, object type and replay flag from an Event row or a payload dict."""
    if isinstance(event, Mapping):
        p = dict(event)
        return (
            p,
            action or _word(p.get("action")) or "created",
            object_type or _word(p.get("object_type")),
            bool(replay),
        )
    p = dict(event.payload) if isinstance(event.payload, Mapping) else {}
    # The row's columns fill what an older or thinner payload lacks.
    for key, value in (
        ("name", event.counterparty),
        ("ref_number", event.ref_number),
        ("amount", event.amount),
    ):
        if p.get(key) in (None, "") and value:
            p[key] = value
    return (
        p,
        action or event.action,
        object_type or event.object_type,
        event.replay_count > 0 if replay is None else replay,
    )


def _word(value: Any) -> str:
    """An action or object type from a payload: short text, or ""."""
    return value[:48] if isinstance(value, str) else ""


def build_message(
    event: Event | Mapping[str, Any],
    *,
    multi_company: bool,
    action: str | None = None,
    object_type: str | None = None,
    state: str | None = None,
    replay: bool | None = None,
) -> dict[str, Any]:
    """The chat.postMessage/chat.update body (text + blocks) for an event or its payload.

    `state` ("Paid", "Deleted"...) is shown in the header of a thread parent that a later
    event changed; `replay` marks a re-post.
    """
    p, action, object_type, replay = _inputs(event, action, object_type, replay)
    if action == EventAction.ALERT:
        return alert_message(p, state=state)
    company = (plain(p.get("company"), MAX_FIELD) or None) if multi_company else None
    title = action_title(action, object_type, p.get("company"))
    if state:
        title += f" · {state}"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(escape(title), MAX_HEADER), "emoji": False},
        }
    ]
    if action == "connected":
        text = f"qbslack now posts changes from *{shown(p.get('company')) or 'QuickBooks'}* here."
        if p.get("company_file"):
            text += f"\nCompany file: `{shown(p['company_file'])}`"
        blocks.append(section(text))
        return {"text": fallback_text(p, action, object_type, company=None), "blocks": blocks}
    fields = _fields(p, object_type, company)
    if fields:
        blocks.append(
            {
                "type": "section",
                "fields": [text_object(f, MAX_FIELD) for f in fields[:MAX_FIELDS]],
            }
        )
    memo = shown(p.get("memo"), MAX_SECTION)
    if memo:
        blocks.append(section(f"*Memo:* {memo}"))
    for title, key, render in (
        ("Lines", "line_items", _line),
        ("Applied to", "applied_to", _applied),
    ):
        listed = p.get(key)
        items = [x for x in listed if isinstance(x, Mapping)] if isinstance(listed, list) else []
        # Items the payload's cap left out (soap.ingest) are counted in "more_<key>".
        more = max(0, len(items) - MAX_LINES) + _count(p.get(f"more_{key}"))
        if items or more:
            lines = [clip(render(x, p.get("currency")), MAX_LINE) for x in items[:MAX_LINES]]
            if more:
                lines.append(f"+{more} more")
            blocks.append(section(f"*{title}*\n" + "\n".join(lines)))
    context = [f"QuickBooks {escape(LABELS.get(object_type) or object_type or 'change')}"]
    if company:
        context.append(escape(company))
    if replay:
        context.append("re-posted")
    blocks.append(
        {
            "type": "context",
            "elements": [text_object(" · ".join(context))],
        }
    )
    return {
        "text": fallback_text(p, action, object_type, company=company),
        "blocks": blocks[:MAX_BLOCKS],
    }


def _fields(p: Mapping[str, Any], object_type: str, company: str | None) -> list[str]:
    fields = []
    name = shown(p.get("name"))
    if name:
        who = (
            "Customer"
            if object_type in CUSTOMER_SIDE
            else ("Name" if object_type in ("Account", "Employee") else "Vendor")
        )
        fields.append(f"*{who}*\n{name}")
    amount = money(p.get("amount"), p.get("currency"))
    if amount:
        fields.append(f"*Amount*\n{amount}")
    for label, key in (
        ("Ref no.", "ref_number"),
        ("Date", "txn_date"),
        ("Due", "due_date"),
        ("Terms", "terms"),
    ):
        value = shown(p.get(key))
        if value:
            fields.append(f"*{label}*\n{value}")
    status = status_line(p, object_type)
    if status:
        fields.append(f"*Status*\n{status}")
    if company:
        fields.append(f"*Company*\n{escape(company)}")
    return fields


def status_line(p: Mapping[str, Any], object_type: str) -> str | None:
    """ "Paid", "Open balance 1,250.00" or "Inactive", from what QuickBooks said."""
    if p.get("is_paid") is True:
        return "Paid"
    open_amount = amount_value(p.get("open_amount", p.get("balance_remaining")))
    if open_amount is not None and object_type in ("Bill", "Invoice"):
        if open_amount == 0:
            return "Paid"
        return f"Open balance {money(open_amount, p.get('currency'))}"
    if p.get("is_active") is False:
        return "Inactive"
    return None


def _line(item: Mapping[str, Any], currency: str | None) -> str:
    what = next(
        (t for t in (plain(item.get(k)) for k in ("description", "item", "account")) if t),
        "Line",
    )
    quantity = item.get("quantity")
    qty = plain(quantity, MAX_NUMBER_TEXT) if amount_value(quantity) is not None else ""
    qty_text = f" × {escape(qty)}" if qty not in ("", "1", "1.0", "1.00") else ""
    amount = money(item.get("amount"), currency)
    return f"• {escape(what)}{qty_text}" + (f" — {amount}" if amount else "")


def _applied(a: Mapping[str, Any], currency: str | None) -> str:
    ref = plain(a.get("ref_number")) or plain(a.get("txn_id"))
    text = f"• {shown(a.get('txn_type')) or 'Transaction'} #{escape(ref)}"
    amount = money(a.get("amount"), currency)
    if amount:
        text += f" — {amount}"
    remaining = money(a.get("balance_remaining"), currency)
    if remaining:
        text += f" (balance {remaining})"
    return text
