"""Block Kit messages a bookkeeper reads at a glance, with a plain-text fallback.

In the channel Slack shows the blocks; the top-level `text` is what notifications and
screen readers get. So the blocks name the company once (the context line, in a workspace
with several company files) and the fallback names it once too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from jobs.alert_messages import alert_message
from jobs.enums import EventAction
from jobs.message_parts import (
    MAX_NUMBER_TEXT,
    count,
    date_text,
    due_words,
    home_currency,
    payload_date,
    plain,
    shown,
    today,
    words,
)
from jobs.message_parts import amount_value as amount_value  # threads and tests use these
from jobs.message_parts import money as money
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

# The object in a bookkeeper's words: "New bill", "Bill updated", "Bill · Paid".
LABELS = {
    "Vendor": "vendor",
    "Bill": "bill",
    "PurchaseOrder": "purchase order",
    "BillPaymentCheck": "bill payment",
    "BillPaymentCreditCard": "bill payment",
    "ReceivePayment": "customer payment",
    "Invoice": "invoice",
    "Account": "account",
    "Employee": "employee",
    "Customer": "customer",
}
# A first post where "New <label>" is not what a bookkeeper says.
CREATED = {
    "BillPaymentCheck": "Bill paid",
    "BillPaymentCreditCard": "Bill paid",
    "ReceivePayment": "Payment received",
}
# The context line's "QuickBooks <kind>", where it says more than the label.
KINDS = {
    "BillPaymentCheck": "bill payment by check",
    "BillPaymentCreditCard": "bill payment by credit card",
    "Account": "chart of accounts",
    "Employee": "employee list",
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
# The label of the name field (default "Vendor") and of the reference number.
WHO = {
    "Invoice": "Customer",
    "ReceivePayment": "Customer",
    "Customer": "Customer",
    "Account": "Account",
    "Employee": "Employee",
}
REF_LABELS = {
    "BillPaymentCheck": "Check no.",
    "Invoice": "Invoice no.",
    "PurchaseOrder": "PO no.",
}
# Fields of one type: (label, payload key, how it is shown).
TEXT, DATE, WORDS = "text", "date", "words"
EXTRA_FIELDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "PurchaseOrder": (("Expected", "expected_date", DATE),),
    "BillPaymentCheck": (("Paid from", "bank_account", TEXT),),
    "BillPaymentCreditCard": (("Charged to", "bank_account", TEXT),),
    "ReceivePayment": (("Method", "payment_method", TEXT), ("Deposit to", "deposit_to", TEXT)),
    "Invoice": (("Customer PO", "po_number", TEXT),),
    "Account": (
        ("Type", "account_type", WORDS),
        ("Number", "account_number", TEXT),
        ("Description", "description", TEXT),
    ),
    "Employee": (("Job title", "job_title", TEXT),),
}
DUE_TYPES = {"Bill", "Invoice"}  # what gets paid: its due date says "due in 3 days"
CLOSED_STATES = {"Deleted"}  # a thread parent in this state shows no balance or due date


def action_title(action: str, object_type: str, company: str | None = None) -> str:
    """ "New bill", "Bill updated", "Bill deleted", "Payment received", "Connected to X"."""
    if action == "connected":
        return f"Connected to {plain(company, MAX_HEADER) or 'QuickBooks'}"
    label = LABELS.get(object_type) or object_type or "QuickBooks change"
    if action == "created":
        return CREATED.get(object_type) or f"New {label}"
    return f"{_noun(object_type)} {action}"


def message_title(action: str, object_type: str, state: str | None, company: Any = None) -> str:
    """The header: the action, or for a thread parent a later event changed, the object and
    its current state ("Bill · Paid", "Invoice · Partially paid", "Bill · Deleted")."""
    if state and action != "connected":
        return f"{_noun(object_type)} · {state}"
    return action_title(action, object_type, company)


def _noun(object_type: str) -> str:
    """ "Bill", "Purchase order", "Customer payment"; an unknown type as QuickBooks names it."""
    label = LABELS.get(object_type) or object_type or "QuickBooks change"
    return label[:1].upper() + label[1:]


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
    amount = money(p.get("amount"), p.get("currency"), home=home_currency(p))  # escaped
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
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The chat.postMessage/chat.update body (text + blocks) for an event or its payload.

    `state` ("Paid", "Deleted"...) makes the header the object's current state, for a thread
    parent that a later event changed; `replay` marks a re-post; `now` (default: the current
    UTC time) is the posting time that "due in 3 days" and "overdue by 5 days" count from.
    """
    p, action, object_type, replay = _inputs(event, action, object_type, replay)
    if action == EventAction.ALERT:
        return alert_message(p, state=state)
    company = (plain(p.get("company"), MAX_FIELD) or None) if multi_company else None
    title = message_title(action, object_type, state, p.get("company"))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(escape(title), MAX_HEADER), "emoji": False},
        }
    ]
    if action == "connected":
        # The notice goes to one channel; the others get what their routes name.
        text = (
            "From now on, changes in this company file are posted to the channels chosen "
            "with `/qb-routes` (`/qb-routes list` shows which)."
        )
        if p.get("company_file"):
            text += f"\nCompany file: `{shown(p['company_file'])}`"
        blocks.append(section(text))
        return {"text": fallback_text(p, action, object_type, company=None), "blocks": blocks}
    if state == "Paid":
        p["is_paid"] = True  # a parent marked paid shows no open balance or due words
    home = home_currency(p)
    closed = action == EventAction.DELETED or state in CLOSED_STATES
    on = today(now or dt.datetime.now(dt.UTC))
    fields = _fields(p, object_type, home=home, closed=closed, on=on)
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
    for heading, key, render in (
        ("Lines", "line_items", _line),
        ("Applied to", "applied_to", _applied),
    ):
        listed = p.get(key)
        items = [x for x in listed if isinstance(x, Mapping)] if isinstance(listed, list) else []
        # Items the payload's cap left out (soap.ingest) are counted in "more_<key>".
        more = max(0, len(items) - MAX_LINES) + count(p.get(f"more_{key}"))
        if items or more:
            lines = [clip(render(x, p.get("currency"), home), MAX_LINE) for x in items[:MAX_LINES]]
            if more:
                lines.append(f"+{more} more")
            blocks.append(section(f"*{heading}*\n" + "\n".join(lines)))
    kind = KINDS.get(object_type) or LABELS.get(object_type) or object_type or "change"
    context = [escape(company)] if company else []
    context.append(f"QuickBooks {escape(kind)}")
    if replay:
        context.append("re-posted")
    blocks.append({"type": "context", "elements": [text_object(" · ".join(context))]})
    return {
        "text": fallback_text(p, action, object_type, company=company),
        "blocks": blocks[:MAX_BLOCKS],
    }


def _fields(
    p: Mapping[str, Any], object_type: str, *, home: str | None, closed: bool, on: dt.date
) -> list[str]:
    fields = []
    name = shown(p.get("name"))
    if name:
        fields.append(f"*{WHO.get(object_type, 'Vendor')}*\n{name}")
    amount = money(p.get("amount"), p.get("currency"), home=home)
    if amount:
        fields.append(f"*Amount*\n{amount}")
    ref = shown(p.get("ref_number"))
    if ref:
        fields.append(f"*{REF_LABELS.get(object_type, 'Ref no.')}*\n{ref}")
    date = date_text(p.get("txn_date"))
    if date:
        fields.append(f"*Date*\n{date}")
    due = date_text(p.get("due_date"))
    if due:
        note = None if closed else due_note(p, object_type, on)
        fields.append(f"*Due*\n{due}" + (f" · {note}" if note else ""))
    terms = shown(p.get("terms"))
    if terms:
        fields.append(f"*Terms*\n{terms}")
    for label, key, how in EXTRA_FIELDS.get(object_type, ()):
        value = {DATE: date_text, WORDS: words}.get(how, shown)(p.get(key))
        if value:
            fields.append(f"*{label}*\n{value}")
    status = None if closed else status_line(p, object_type, home=home)
    if status:
        fields.append(f"*Status*\n{status}")
    return fields


def is_paid(p: Mapping[str, Any]) -> bool:
    """QuickBooks says paid, or nothing is left open."""
    if p.get("is_paid") is True:
        return True
    open_amount = amount_value(p.get("open_amount", p.get("balance_remaining")))
    return open_amount is not None and open_amount <= 0


def due_note(p: Mapping[str, Any], object_type: str, on: dt.date) -> str | None:
    """ "due in 3 days", "overdue by 5 days"... for an unpaid bill or invoice, as of `on`."""
    if object_type not in DUE_TYPES or is_paid(p):
        return None
    due = payload_date(p.get("due_date"))
    return due_words(due, on) if due else None


def status_line(p: Mapping[str, Any], object_type: str, *, home: str | None = None) -> str | None:
    """ "Paid", "Open balance 1,250.00" or "Inactive", from what QuickBooks said."""
    if p.get("is_paid") is True:
        return "Paid"
    open_amount = amount_value(p.get("open_amount", p.get("balance_remaining")))
    if open_amount is not None and object_type in DUE_TYPES:
        if open_amount <= 0:
            return "Paid"
        return f"Open balance {money(open_amount, p.get('currency'), home=home)}"
    if p.get("is_active") is False:
        return "Inactive"
    return None


def _line(item: Mapping[str, Any], currency: Any, home: str | None) -> str:
    what = next(
        (t for t in (plain(item.get(k)) for k in ("description", "item", "account")) if t),
        "Line",
    )
    quantity = item.get("quantity")
    qty = plain(quantity, MAX_NUMBER_TEXT) if amount_value(quantity) is not None else ""
    qty_text = f" × {escape(qty)}" if qty not in ("", "1", "1.0", "1.00") else ""
    amount = money(item.get("amount"), currency, home=home)
    return f"• {escape(what)}{qty_text}" + (f" — {amount}" if amount else "")


def _applied(a: Mapping[str, Any], currency: Any, home: str | None) -> str:
    ref = plain(a.get("ref_number")) or plain(a.get("txn_id"))
    text = f"• {shown(a.get('txn_type')) or 'Transaction'} #{escape(ref)}"
    amount = money(a.get("amount"), currency, home=home)
    if amount:
        text += f" — {amount}"
    remaining = amount_value(a.get("balance_remaining"))
    if remaining is not None and remaining <= 0:
        text += " · paid in full"
    elif remaining is not None:
        text += f" · {money(remaining, currency, home=home)} still open"
    return text
