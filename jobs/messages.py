"""Block Kit messages a bookkeeper reads at a glance, with a plain-text fallback."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
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
}
COUNTERPARTY_WORD = {"ReceivePayment": "from", "Invoice": "to", "Vendor": "", "Account": "",
                     "Employee": ""}


def escape(text: Any) -> str:
    """Escape Slack's control characters in QuickBooks text."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def money(amount: Any, currency: str | None = None) -> str | None:
    """1250 -> "1,250.00" (with the currency when QuickBooks gave one)."""
    if amount in (None, ""):
        return None
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return escape(amount)
    text = f"{value:,.2f}"
    return f"{text} {currency}" if currency else text


def action_title(action: str, object_type: str, company: str | None = None) -> str:
    """"New bill", "Bill updated", "Bill deleted", "Payment received", "Connected to X"."""
    if action == "connected":
        return f"Connected to {company or 'QuickBooks'}"
    label = LABELS.get(object_type, object_type)
    if object_type == "ReceivePayment":
        return {"created": "Payment received", "updated": "Received payment updated",
                "deleted": "Received payment deleted"}.get(action, "Payment received")
    if object_type.startswith("BillPayment"):
        return {"created": "Bill paid", "updated": "Bill payment updated",
                "deleted": "Bill payment deleted"}.get(action, "Bill paid")
    if action == "created":
        return f"New {label}"
    return f"{label[0].upper()}{label[1:]} {action}"


def fallback_text(p: dict[str, Any], action: str, object_type: str, *, company: str | None
                  ) -> str:
    """Top-level text: action, counterparty, ref number, amount (and the company)."""
    if action == "connected":
        return f"qbslack is connected to {p.get('company') or 'QuickBooks'}"
    parts = [action_title(action, object_type)]
    name = p.get("name")
    if name:
        word = COUNTERPARTY_WORD.get(object_type, "from" if object_type != "Invoice" else "to")
        parts[0] += f" {word} {name}".replace("  ", " ") if word else f": {name}"
    if p.get("ref_number"):
        parts.append(f"#{p['ref_number']}")
    amount = money(p.get("amount"), p.get("currency"))
    if amount:
        parts.append(amount)
    if company:
        parts.append(f"({company})")
    return escape(" · ".join(parts))


def build_message(
    payload: dict[str, Any], *, action: str, object_type: str, multi_company: bool,
    state: str | None = None, replay: bool = False,
) -> dict[str, Any]:
    """The chat.postMessage/chat.update body (text + blocks) for one event."""
    p = payload
    company = p.get("company") if multi_company else None
    title = action_title(action, object_type, p.get("company"))
    if state:
        title += f" · {state}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:MAX_HEADER],
                                    "emoji": False}}
    ]
    if action == "connected":
        blocks.append(_section(
            f"qbslack now posts changes from *{escape(p.get('company') or '')}* here."
            + (f"\nCompany file: `{escape(p['company_file'])}`" if p.get("company_file") else "")
        ))
        return {"text": fallback_text(p, action, object_type, company=None), "blocks": blocks}
    fields = []
    if p.get("name"):
        who = "Customer" if object_type in ("Invoice", "ReceivePayment") else (
            "Vendor" if object_type not in ("Account", "Employee") else "Name")
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
    status = _status_line(p, object_type)
    if status:
        fields.append(f"*Status*\n{status}")
    if company:
        fields.append(f"*Company*\n{escape(company)}")
    if fields:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": f[:2000]} for f in fields[:10]
        ]})
    if p.get("memo"):
        blocks.append(_section(f"*Memo:* {escape(p['memo'])}"))
    lines = p.get("line_items") or []
    if lines:
        shown = [_line(item) for item in lines[:MAX_LINES]]
        more = len(lines) - MAX_LINES
        if more > 0:
            shown.append(f"+{more} more")
        blocks.append(_section("*Lines*\n" + "\n".join(shown)))
    applied = p.get("applied_to") or []
    if applied:
        blocks.append(_section("*Applied to*\n" + "\n".join(
            _applied(a) for a in applied[:MAX_LINES]
        )))
    context = [f"QuickBooks {escape(LABELS.get(object_type, object_type))}"]
    if company:
        context.append(escape(company))
    if replay:
        context.append("re-posted")
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": " · ".join(context)}
    ]})
    return {"text": fallback_text(p, action, object_type, company=company),
            "blocks": blocks[:MAX_BLOCKS]}


def _status_line(p: dict[str, Any], object_type: str) -> str | None:
    if p.get("is_paid") is True:
        return "Paid"
    open_amount = p.get("open_amount")
    if open_amount not in (None, "") and object_type in ("Bill", "Invoice"):
        return f"Open balance {money(open_amount, p.get('currency'))}"
    if p.get("is_active") is False:
        return "Inactive"
    return None


def _line(item: dict[str, Any]) -> str:
    what = item.get("description") or item.get("item") or item.get("account") or "Line"
    qty = f" × {escape(item['quantity'])}" if item.get("quantity") not in (None, "", "1") else ""
    amount = money(item.get("amount"))
    return f"• {escape(what)}{qty}" + (f" — {amount}" if amount else "")


def _applied(a: dict[str, Any]) -> str:
    ref = escape(a.get("ref_number") or a.get("txn_id") or "")
    amount = money(a.get("amount"))
    return f"• {escape(a.get('txn_type', 'Txn'))} #{ref}" + (f" — {amount}" if amount else "")


def _section(text: str) -> dict[str, Any]:
    if len(text) > MAX_SECTION:
        text = text[: MAX_SECTION - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
