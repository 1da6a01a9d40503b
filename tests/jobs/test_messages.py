"""Block Kit formatting: what a bookkeeper sees."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jobs.messages import MAX_BLOCKS, amount_value, build_message, money
from jobs.models import Event


def bill_payload(**extra: Any) -> dict[str, Any]:
    base = {
        "object_type": "Bill",
        "name": "Acme <Supply> & Co",
        "ref_number": "INV-77",
        "amount": "1250",
        "currency": None,
        "txn_date": "2026-11-20",
        "due_date": "2026-12-20",
        "terms": "Net 30",
        "memo": "Toner & paper",
        "open_amount": "1250.00",
        "company": "Client A",
    }
    base.update(extra)
    return base


def test_amounts_have_separators_and_two_decimals():
    assert money("1250") == "1,250.00"
    assert money("98000.5", "USD") == "98,000.50 USD"
    assert money("-3.1") == "-3.10"
    assert money(None) is None


def test_fallback_text_holds_action_counterparty_ref_and_amount():
    msg = build_message(bill_payload(), action="created", object_type="Bill", multi_company=False)
    assert msg["text"] == "New bill from Acme &lt;Supply&gt; &amp; Co · #INV-77 · 1,250.00"
    assert msg["blocks"][0]["text"]["text"] == "New bill"
    body = str(msg["blocks"])
    assert "Net 30" in body and "2026-12-20" in body and "Toner &amp; paper" in body
    assert "Client A" not in msg["text"]
    updated = build_message(
        bill_payload(), action="updated", object_type="Bill", multi_company=True
    )
    assert updated["text"].startswith("Bill updated") and "(Client A)" in updated["text"]
    deleted = build_message(
        {"name": "Acme", "object_type": "Bill"},
        action="deleted",
        object_type="Bill",
        multi_company=False,
    )
    assert deleted["text"].startswith("Bill deleted")


def test_payments_invoices_and_notices():
    paid = build_message(
        {
            "name": "Acme",
            "amount": "50",
            "applied_to": [{"txn_type": "Bill", "ref_number": "77", "amount": "50"}],
        },
        action="created",
        object_type="BillPaymentCheck",
        multi_company=False,
    )
    assert paid["text"].startswith("Bill paid") and "Bill #77" in str(paid["blocks"])
    received = build_message(
        {"name": "Jane", "amount": "10"},
        action="created",
        object_type="ReceivePayment",
        multi_company=False,
    )
    assert received["text"].startswith("Payment received from Jane")
    invoice = build_message(
        {"name": "Jane", "amount": "10", "is_paid": True},
        action="created",
        object_type="Invoice",
        multi_company=False,
    )
    assert invoice["text"].startswith("New invoice to Jane") and "Paid" in str(invoice)
    notice = build_message(
        {"company": "Acme Books LLC", "company_file": "C:\\a.qbw"},
        action="connected",
        object_type="Company",
        multi_company=False,
    )
    assert "Acme Books LLC" in notice["text"]


def test_line_items_are_capped_and_limits_hold():
    lines = [{"description": f"Item {i}", "amount": "1"} for i in range(9)]
    msg = build_message(
        bill_payload(line_items=lines, memo="m" * 5000),
        action="created",
        object_type="Bill",
        multi_company=False,
    )
    body = str(msg["blocks"])
    assert "Item 4" in body and "Item 5" not in body and "+4 more" in body
    assert len(msg["blocks"]) <= MAX_BLOCKS
    for block in msg["blocks"]:
        text = block.get("text", {}).get("text", "")
        assert len(text) <= 3000
    assert len(msg["blocks"][0]["text"]["text"]) <= 150


def test_built_from_an_event_row_with_currency_codes_and_replay_mark():

    event = Event(
        action="created",
        object_type="Bill",
        counterparty="Acme Supply",
        ref_number="INV-77",
        amount="1250.00",
        replay_count=1,
        payload={"currency": "US Dollar", "due_date": "2026-12-20"},
    )
    msg = build_message(event, multi_company=False)
    assert msg["text"] == "New bill from Acme Supply · #INV-77 · 1,250.00 USD"
    assert "re-posted" in str(msg["blocks"][-1]) and "2026-12-20" in str(msg["blocks"])
    assert money("5", "Zorkmid") == "5.00 Zorkmid" and money("1e3") == "1,000.00"
    # What is not a number QuickBooks could send is left out (see test_hostile_numbers...).
    assert money("abc") is None and money("NaN") is None


def test_escaping_everywhere_and_no_half_entities():
    nasty = "<!channel> & <@U123> > x"
    msg = build_message(
        {
            "name": nasty,
            "memo": nasty,
            "ref_number": "<1>",
            "line_items": [{"description": nasty, "amount": "1"}],
            "company": "A&B <Books>",
            "object_type": "Bill",
            "action": "created",
        },
        multi_company=True,
    )
    flat = str(msg)
    assert "<!channel>" not in flat and "<@U123>" not in flat and "<1>" not in flat
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt; &gt; x" in msg["text"]
    assert "(A&amp;B &lt;Books&gt;)" in msg["text"]
    notice = build_message(
        {"company": "A&B <Books>", "action": "connected", "object_type": "Company"},
        multi_company=False,
    )
    assert notice["blocks"][0]["text"]["text"] == "Connected to A&amp;B &lt;Books&gt;"
    long_memo = build_message({"memo": "&" * 4000, "object_type": "Bill"}, multi_company=False)
    memo = long_memo["blocks"][1]["text"]["text"]
    assert len(memo) <= 3000 and memo.endswith("&amp;…")


def test_every_event_kind_and_missing_keys():
    cases = {
        ("created", "Vendor"): "New vendor: Acme",
        ("updated", "Vendor"): "Vendor updated: Acme",
        ("created", "PurchaseOrder"): "New purchase order to Acme",
        ("created", "BillPaymentCreditCard"): "Bill paid to Acme",
        ("deleted", "ReceivePayment"): "Received payment deleted from Acme",
        ("updated", "Invoice"): "Invoice updated to Acme",
        ("created", "Account"): "New account: Acme",
        ("created", "Employee"): "New employee: Acme",
    }
    for (action, object_type), text in cases.items():
        msg = build_message(
            {"name": "Acme"}, action=action, object_type=object_type, multi_company=False
        )
        assert msg["text"] == text
    bare = build_message({}, multi_company=True)  # nothing known: still a valid message
    assert bare["text"] and bare["blocks"][0]["type"] == "header"
    odd = build_message(
        {
            "line_items": ["junk", {"quantity": "3", "amount": "2"}],
            "applied_to": [{"txn_id": f"T{i}", "amount": "1"} for i in range(7)],
            "is_active": False,
            "object_type": "Vendor",
        },
        multi_company=False,
    )
    body = str(odd["blocks"])
    assert "Line × 3 — 2.00" in body and "+2 more" in body and "Inactive" in body


def test_paid_and_open_status_lines():
    paid = build_message(bill_payload(open_amount="0.00"), multi_company=False)
    assert "*Status*\\nPaid" in str(paid["blocks"])
    partly = build_message(bill_payload(open_amount="250"), multi_company=False)
    assert "Open balance 250.00" in str(partly["blocks"])


HOSTILE_VALUES: list[Any] = [
    "1e1000000000",
    "-1e1000000000",
    "1e-1000000000",
    "NaN",
    "sNaN",
    "-Infinity",
    "9" * 5000,
    "1" * 16,
    "abc",
    float("inf"),
    float("nan"),
    10**5000,  # str() of it raises in Python 3.11+
    Decimal("1e999999999"),
    True,
    [1, 2],
    {"a": 1},
]


def test_hostile_numbers_are_left_out_and_never_build_big_strings():
    """Old events may hold anything: every amount that is not a sane number is absent."""
    for value in HOSTILE_VALUES:
        for object_type in ("Bill", "Invoice", "ReceivePayment"):
            payload = bill_payload(
                object_type=object_type,
                amount=value,
                open_amount=value,
                balance_remaining=value,
                line_items=[{"description": "Paper", "quantity": value, "amount": value}],
                applied_to=[{"txn_id": "B-1", "amount": value, "balance_remaining": value}],
            )
            msg = build_message(payload, multi_company=True)
            flat = str(msg)
            assert len(flat) < 10_000, (value, object_type)
            assert "Acme &lt;Supply&gt; &amp; Co" in msg["text"] and "#INV-77" in msg["text"]
            assert "Open balance" not in flat and "NaN" not in flat and "Infinity" not in flat
        assert money(value) is None and amount_value(value) is None


def test_hostile_texts_and_shapes_are_cut_before_they_are_escaped():
    huge = "&<>" * 1_000_000
    payload: dict[str, Any] = {
        "object_type": ["not", "a", "type"],
        "action": {"x": 1},
        "name": huge,
        "ref_number": huge,
        "memo": huge,
        "company": huge,
        "terms": 10**5000,
        "currency": huge,
        "line_items": 7,
        "applied_to": "junk",
        "more_line_items": 10**5000,
    }
    msg = build_message(payload, multi_company=True)
    assert len(str(msg)) < 40_000
    assert len(msg["text"]) <= 3900 and msg["text"].endswith("…")
    lines = build_message(
        {"line_items": [{"description": "x" * 5000, "amount": "1"}] * 7, "more_line_items": 93},
        object_type="Bill",
        multi_company=False,
    )
    section = next(b for b in lines["blocks"] if "*Lines*" in b.get("text", {}).get("text", ""))
    assert section["text"]["text"].endswith("+95 more")  # 2 beyond five shown, 93 cut earlier


def test_payment_thread_numbers_are_sane():
    assert amount_value("1250.00") == Decimal("1250.00")
    assert amount_value(" 12 ") == Decimal("12") and amount_value(3) == Decimal(3)
    assert amount_value(Decimal("999999999999999.99")) == Decimal("999999999999999.99")
    assert amount_value(Decimal("1000000000000000")) is None  # 16 digits: no qbXML amount
    assert amount_value("0.00") == 0 and amount_value("-0.001") == Decimal("-0.001")


def test_quickbooks_text_is_never_linkified_or_a_mention() -> None:
    """A vendor named like a URL, a #channel or @here shows as written (verbatim mrkdwn)."""
    payload = {
        "object_type": "Bill",
        "name": "www.evil.example #general @here",
        "amount": "10.00",
        "ref_number": "B-1",
        "memo": "see http://phish.example",
        "action": "created",
    }
    message = build_message(payload, action="created", object_type="Bill", multi_company=False)

    def texts(node: object) -> list[dict[str, object]]:
        if isinstance(node, dict):
            found = [node] if node.get("type") == "mrkdwn" else []
            return found + [t for v in node.values() for t in texts(v)]
        if isinstance(node, list):
            return [t for v in node for t in texts(v)]
        return []

    mrkdwn = texts(message["blocks"])
    assert mrkdwn and all(t.get("verbatim") is True for t in mrkdwn)
    assert "<http" not in str(message) and "<!here" not in str(message)
