"""Block Kit messages a bookkeeper reads at a glance, with a plain-text fallback."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from jobs.alert_messages import alert_message
from jobs.enums import EventAction
from jobs.models import Event
from jobs.mrkdwn import MAX_BLOCKS as MAX_BLOCKS  # tests check the limit
from jobs.mrkdwn import MAX_FIELD, MAX_HEADER, MAX_SECTION, MAX_TEXT, clip, escape, section

MAX_FIELDS = 10
MAX_LINES = 5

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


def currency_code(currency: Any) -> str | None:
    """ "US Dollar" -> "USD"; unknown names stay as QuickBooks wrote them."""
    if not currency:
        return None
    name = str(currency).strip()
    return CURRENCY_CODES.get(name.lower(), name)


def money(amount: Any, currency: str | None = None) -> str | None:
    """1250 -> "1,250.00" (with the currency when QuickBooks gave one)."""
    if amount in (None, ""):
        return None
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return escape(amount)
    if not value.is_finite():
        return escape(amount)
    text = f"{value:,.2f}"
    code = currency_code(currency)
    return f"{text} {escape(code)}" if code else text


def action_title(action: str, object_type: str, company: str | None = None) -> str:
    """ "New bill", "Bill updated", "Bill deleted", "Payment received", "Connected to X"."""
    if action == "connected":
        return f"Connected to {company or 'QuickBooks'}"
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
        text = f"Connected to {p.get('company') or 'QuickBooks'}"
        if p.get("company_file"):
            text += f" · {p['company_file']}"
        return clip(escape(text), MAX_TEXT)
    head = action_title(action, object_type)
    name = p.get("name")
    if name:
        word = COUNTERPARTY_WORD.get(object_type)
        head += f" {word} {name}" if word else f": {name}"
    parts = [head]
    if p.get("ref_number"):
        parts.append(f"#{p['ref_number']}")
    parts = [escape(x) for x in parts]
    amount = money(p.get("amount"), p.get("currency"))  # already escaped
    if amount:
        parts.append(amount)
    if company:
        parts.append(f"({escape(company)})")
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
            action or p.get("action") or "created",
            object_type or p.get("object_type") or "",
            bool(replay),
        )
    p = dict(event.payload or {})
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
    company = p.get("company") if multi_company else None
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
        text = f"qbslack now posts changes from *{escape(p.get('company') or 'QuickBooks')}* here."
        if p.get("company_file"):
            text += f"\nCompany file: `{escape(p['company_file'])}`"
        blocks.append(section(text))
        return {"text": fallback_text(p, action, object_type, company=None), "blocks": blocks}
    fields = _fields(p, object_type, company)
    if fields:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": clip(f, MAX_FIELD)} for f in fields[:MAX_FIELDS]
                ],
            }
        )
    if p.get("memo"):
        blocks.append(section(f"*Memo:* {escape(p['memo'])}"))
    for title, key, render in (
        ("Lines", "line_items", _line),
        ("Applied to", "applied_to", _applied),
    ):
        items = [x for x in p.get(key) or [] if isinstance(x, Mapping)]
        if items:
            shown = [render(x, p.get("currency")) for x in items[:MAX_LINES]]
            if len(items) > MAX_LINES:
                shown.append(f"+{len(items) - MAX_LINES} more")
            blocks.append(section(f"*{title}*\n" + "\n".join(shown)))
    context = [f"QuickBooks {escape(LABELS.get(object_type) or object_type or 'change')}"]
    if company:
        context.append(escape(company))
    if replay:
        context.append("re-posted")
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": clip(" · ".join(context), MAX_SECTION)}],
        }
    )
    return {
        "text": fallback_text(p, action, object_type, company=company),
        "blocks": blocks[:MAX_BLOCKS],
    }


def _fields(p: Mapping[str, Any], object_type: str, company: str | None) -> list[str]:
    fields = []
    if p.get("name"):
        who = (
            "Customer"
            if object_type in CUSTOMER_SIDE
            else ("Name" if object_type in ("Account", "Employee") else "Vendor")
        )
        fields.append(f"*{who}*\n{escape(p['name'])}")
    amount = money(p.get("amount"), p.get("currency"))
    if amount:
        fields.append(f"*Amount*\n{amount}")
    if p.get("ref_number"):
        fields.append(f"*Ref no.*\n{escape(p['ref_number'])}")
    if p.get("txn_date"):
        fields.append(f"*Date*\n{escape(p['txn_date'])}")
    if p.get("due_date"):
        fields.append(f"*Due*\n{escape(p['due_date'])}")
    if p.get("terms"):
        fields.append(f"*Terms*\n{escape(p['terms'])}")
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
    open_amount = p.get("open_amount", p.get("balance_remaining"))
    if open_amount not in (None, "") and object_type in ("Bill", "Invoice"):
        try:
            if Decimal(str(open_amount)) == 0:
                return "Paid"
        except InvalidOperation:
            pass
        return f"Open balance {money(open_amount, p.get('currency'))}"
    if p.get("is_active") is False:
        return "Inactive"
    return None


def _line(item: Mapping[str, Any], currency: str | None) -> str:
    what = item.get("description") or item.get("item") or item.get("account") or "Line"
    qty = item.get("quantity")
    qty_text = f" × {escape(qty)}" if qty not in (None, "", "1", "1.0", "1.00") else ""
    amount = money(item.get("amount"), currency)
    return f"• {escape(what)}{qty_text}" + (f" — {amount}" if amount else "")


def _applied(a: Mapping[str, Any], currency: str | None) -> str:
    ref = a.get("ref_number") or a.get("txn_id") or ""
    text = f"• {escape(a.get('txn_type') or 'Transaction')} #{escape(ref)}"
    amount = money(a.get("amount"), currency)
    if amount:
        text += f" — {amount}"
    remaining = a.get("balance_remaining")
    if remaining not in (None, ""):
        text += f" (balance {money(remaining, currency)})"
    return text
