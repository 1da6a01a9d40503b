"""Block Kit formatting: what a bookkeeper sees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from jobs.message_parts import due_words, home_currency
from jobs.messages import MAX_BLOCKS, amount_value, build_message, money
from jobs.models import Event
from jobs.mrkdwn import short_date

NOW = dt.datetime(2026, 11, 17, 15, 30, tzinfo=dt.UTC)


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
        ("deleted", "ReceivePayment"): "Customer payment deleted from Acme",
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


def _fields(msg: dict[str, Any]) -> dict[str, str]:
    """The section fields of a message, label -> value."""
    found: dict[str, str] = {}
    for block in msg["blocks"]:
        for field in block.get("fields", []):
            label, _, value = field["text"].partition("\n")
            found[label.strip("*")] = value
    return found


def _context(msg: dict[str, Any]) -> str:
    return str(msg["blocks"][-1]["elements"][0]["text"])


def test_home_currency_symbol_only_when_known():
    assert money("1250", home="USD") == "$1,250.00"
    assert money("-3.1", home="GBP") == "-£3.10"
    assert money("5", "Canadian Dollar", home="USD") == "5.00 CAD"  # named currency wins
    assert money("5", home="XYZ") == "5.00"
    assert home_currency({}) is None
    assert home_currency({"home_currency": "US Dollar"}) == "USD"
    assert home_currency({"home_currency": "eur"}) == "EUR"
    assert home_currency({"qb_country": "CA"}) == "CAD"
    assert home_currency({"home_currency": "<b>", "qb_country": ["US"]}) is None
    # The fallback keeps "1,250.00" whatever is put before it.
    msg = build_message(bill_payload(home_currency="US Dollar"), multi_company=False, now=NOW)
    assert msg["text"] == "New bill from Acme &lt;Supply&gt; &amp; Co · #INV-77 · $1,250.00"
    assert _fields(msg)["Amount"] == "$1,250.00"
    assert _fields(msg)["Status"] == "Open balance $1,250.00"


def test_dates_are_localised_by_slack_and_plain_in_the_fallback():
    assert short_date(dt.date(2026, 11, 1)) == "<!date^1793534400^{date_short}|2026-11-01>"
    # noon UTC: still Nov 1 in Honolulu (UTC-10) and in Tokyo (UTC+9)
    noon = dt.datetime.fromtimestamp(1793534400, dt.UTC)
    assert noon.astimezone(dt.timezone(dt.timedelta(hours=-10))).day == 1
    assert noon.astimezone(dt.timezone(dt.timedelta(hours=9))).day == 1
    msg = build_message(bill_payload(txn_date="2026-11-01"), multi_company=False, now=NOW)
    fields = _fields(msg)
    assert fields["Date"] == "<!date^1793534400^{date_short}|2026-11-01>"
    assert fields["Due"].startswith("<!date^") and "|2026-12-20>" in fields["Due"]
    assert "<!date" not in msg["text"]
    odd = build_message(
        bill_payload(txn_date="<soon>", due_date="2026-02-30"), multi_company=False, now=NOW
    )
    assert _fields(odd)["Date"] == "&lt;soon&gt;" and _fields(odd)["Due"] == "2026-02-30"


def test_due_words_at_posting_time():
    on = dt.date(2026, 11, 17)
    assert [due_words(on + dt.timedelta(days=d), on) for d in (0, 1, 3, -1, -5)] == [
        "due today",
        "due tomorrow",
        "due in 3 days",
        "overdue by 1 day",
        "overdue by 5 days",
    ]

    def due(now: dt.datetime, **extra: Any) -> str:
        msg = build_message(
            bill_payload(due_date="2026-11-20", **extra), multi_company=False, now=now
        )
        return _fields(msg)["Due"].rpartition(">")[2]

    assert due(NOW) == " · due in 3 days"
    assert due(dt.datetime(2026, 11, 25, 23, 59)) == " · overdue by 5 days"  # naive = UTC
    assert due(NOW, object_type="Invoice") == " · due in 3 days"
    # Paid, deleted or not something that is paid: no words.
    assert due(NOW, open_amount="0") == ""
    assert due(NOW, is_paid=True, open_amount=None) == ""
    assert due(NOW, object_type="PurchaseOrder") == ""
    gone = build_message(
        bill_payload(due_date="2026-11-20"), action="deleted", multi_company=False, now=NOW
    )
    assert "due in" not in str(gone) and "Open balance" not in str(gone)
    # Without a time, the current one: some words are there, whichever they are.
    assert "due" in _fields(build_message(bill_payload(), multi_company=False))["Due"]


def test_the_company_is_named_once_where_there_are_several():
    msg = build_message(bill_payload(), multi_company=True, now=NOW)
    assert str(msg["blocks"]).count("Client A") == 1
    assert _context(msg) == "Client A · QuickBooks bill"
    assert msg["text"].count("Client A") == 1  # notifications show only the fallback
    single = build_message(bill_payload(), multi_company=False, now=NOW)
    assert "Client A" not in str(single)


def test_a_thread_parent_reads_its_current_state():
    def header(state: str | None, action: str = "created", **extra: Any) -> str:
        msg = build_message(
            bill_payload(**extra), action=action, state=state, multi_company=False, now=NOW
        )
        return str(msg["blocks"][0]["text"]["text"])

    assert header(None) == "New bill"
    assert header("Paid") == "Bill · Paid"
    assert header("Deleted") == "Bill · Deleted"
    assert header("Updated", action="updated") == "Bill · Updated"
    assert header("Partially paid", object_type="Invoice") == "Invoice · Partially paid"
    assert header("Updated", object_type="ReceivePayment") == "Customer payment · Updated"
    paid = build_message(bill_payload(), state="Paid", multi_company=False, now=NOW)
    assert _fields(paid)["Status"] == "Paid" and "due in" not in str(paid)
    deleted = build_message(bill_payload(), state="Deleted", multi_company=False, now=NOW)
    assert "Status" not in _fields(deleted) and "due in" not in str(deleted)
    assert deleted["text"].startswith("New bill from")  # the fallback keeps the first words


def test_fields_in_a_bookkeepers_words():
    check = build_message(
        {"name": "Acme", "ref_number": "1042", "amount": "50", "bank_account": "Checking"},
        object_type="BillPaymentCheck",
        multi_company=False,
        now=NOW,
    )
    assert check["blocks"][0]["text"]["text"] == "Bill paid"
    assert _fields(check)["Check no."] == "1042" and _fields(check)["Paid from"] == "Checking"
    assert _context(check) == "QuickBooks bill payment by check"
    card = build_message(
        {"name": "Acme", "amount": "50", "bank_account": "Amex"},
        object_type="BillPaymentCreditCard",
        multi_company=False,
        now=NOW,
    )
    assert _fields(card)["Charged to"] == "Amex"
    account = build_message(
        {"name": "Supplies", "account_type": "OtherCurrentAsset", "account_number": "1400"},
        object_type="Account",
        multi_company=False,
        now=NOW,
    )
    assert _fields(account)["Type"] == "Other current asset"
    assert _fields(account)["Account"] == "Supplies"
    odd_type = build_message(
        {"name": "X", "account_type": "<Weird> Type"}, object_type="Account", multi_company=False
    )
    assert _fields(odd_type)["Type"] == "&lt;Weird&gt; Type"
    po = build_message(
        {"name": "Acme", "ref_number": "PO-9", "expected_date": "2026-12-01"},
        object_type="PurchaseOrder",
        multi_company=False,
        now=NOW,
    )
    assert _fields(po)["PO no."] == "PO-9" and _fields(po)["Expected"].endswith("|2026-12-01>")
    received = build_message(
        {
            "name": "Jane",
            "amount": "150",
            "applied_to": [
                {
                    "txn_type": "Invoice",
                    "ref_number": "9",
                    "amount": "100",
                    "balance_remaining": "0",
                },
                {
                    "txn_type": "Invoice",
                    "ref_number": "10",
                    "amount": "50",
                    "balance_remaining": "25",
                },
            ],
        },
        object_type="ReceivePayment",
        multi_company=False,
        now=NOW,
    )
    applied = str(received["blocks"])
    assert "Invoice #9 — 100.00 · paid in full" in applied
    assert "Invoice #10 — 50.00 · 25.00 still open" in applied


def test_connected_notice_does_not_claim_this_channel_gets_everything():
    notice = build_message(
        {"company": "Client A", "company_file": "C:\\a.qbw"},
        action="connected",
        object_type="Company",
        multi_company=True,
        now=NOW,
    )
    body = notice["blocks"][1]["text"]["text"]
    assert " here" not in body and "/qb-routes" in body and "`C:\\a.qbw`" in body
    assert notice["blocks"][0]["text"]["text"] == "Connected to Client A"
    assert notice["text"] == "Connected to Client A · C:\\a.qbw"
