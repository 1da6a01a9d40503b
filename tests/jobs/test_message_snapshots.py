"""Snapshots: the Block Kit JSON of one message per event type, as a bookkeeper gets it.

Each case is built at a fixed posting time (NOW) for a workspace with one company file
("single") and one with several ("multi"), and compared with
tests/jobs/snapshots/<case>--<workspace>.json. A file holds what the message was built from
("input": action, object_type, state, payload), the posting time ("now") and the
chat.postMessage body ("message": text and blocks), so a preview page can render it as is.

After an intended change to the messages, regenerate them and review the diff:

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/jobs/test_message_snapshots.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from jobs.messages import build_message

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
NOW = dt.datetime(2026, 11, 17, 15, 30, tzinfo=dt.UTC)
COMPANY = "Client A Books"
WORKSPACES = {"single": False, "multi": True}

BILL: dict[str, Any] = {
    "object_type": "Bill",
    "name": "Acme Supply Co",
    "ref_number": "INV-4471",
    "amount": "1250.00",
    "currency": None,
    "txn_date": "2026-11-10",
    "due_date": "2026-11-20",
    "terms": "Net 10",
    "memo": "Toner & paper, November",
    "amount_due": "1250.00",
    "open_amount": "1250.00",
    "ap_account": "Accounts Payable",
    "is_paid": False,
    "line_items": [
        {"account": "Office Supplies", "description": "Toner cartridges", "amount": "900.00"},
        {"item": "Paper A4", "quantity": "10", "amount": "350.00"},
    ],
}

# name -> (action, object_type, state, payload); the payloads are what soap.ingest stores.
CASES: dict[str, tuple[str, str, str | None, dict[str, Any]]] = {
    "vendor": (
        "created",
        "Vendor",
        None,
        {
            "name": "Acme Supply Co",
            "full_name": "Acme Supply",
            "company_name": "Acme Supply Co",
            "phone": "555-0100",
            "terms": "Net 10",
            "is_active": True,
        },
    ),
    "bill": ("created", "Bill", None, BILL),
    "bill_update_in_thread": (
        "updated",
        "Bill",
        None,
        {**BILL, "due_date": "2026-11-12", "memo": "Toner & paper, November (corrected)"},
    ),
    "bill_parent_paid": (
        "created",
        "Bill",
        "Paid",
        {**BILL, "open_amount": "0.00", "is_paid": True},
    ),
    "bill_deleted": (
        "deleted",
        "Bill",
        None,
        {
            "ref_number": "INV-4471",
            "time_deleted": "2026-11-17T09:12:40-05:00",
            "name": "Acme Supply Co",
            "amount": "1250.00",
            "txn_date": "2026-11-10",
            "due_date": "2026-11-20",
        },
    ),
    "purchase_order": (
        "created",
        "PurchaseOrder",
        None,
        {
            "name": "Northwind Paper",
            "ref_number": "PO-1009",
            "amount": "2400.00",
            "total_amount": "2400.00",
            "txn_date": "2026-11-16",
            "expected_date": "2026-11-30",
            "ship_to": "Client A Books",
            "line_items": [{"item": "Paper A4 (case)", "quantity": "40", "amount": "2400.00"}],
        },
    ),
    "bill_payment_check": (
        "created",
        "BillPaymentCheck",
        None,
        {
            "name": "Acme Supply Co",
            "ref_number": "1042",
            "amount": "1250.00",
            "txn_date": "2026-11-17",
            "bank_account": "Checking",
            "ap_account": "Accounts Payable",
            "applied_to": [
                {
                    "txn_id": "1A2B-1790000000",
                    "txn_type": "Bill",
                    "ref_number": "INV-4471",
                    "txn_date": "2026-11-10",
                    "amount": "1250.00",
                    "balance_remaining": "0.00",
                }
            ],
        },
    ),
    "bill_payment_credit_card": (
        "created",
        "BillPaymentCreditCard",
        None,
        {
            "name": "Cloud Hosting Ltd",
            "amount": "89.99",
            "txn_date": "2026-11-17",
            "bank_account": "Amex Business",
            "applied_to": [
                {
                    "txn_id": "1A2C-1790000100",
                    "txn_type": "Bill",
                    "ref_number": "CH-2026-11",
                    "amount": "89.99",
                    "balance_remaining": "10.01",
                }
            ],
        },
    ),
    "payment_received": (
        "created",
        "ReceivePayment",
        None,
        {
            "name": "Jane Doe Design",
            "ref_number": "5521",
            "amount": "500.00",
            "total_amount": "500.00",
            "txn_date": "2026-11-17",
            "payment_method": "Check",
            "deposit_to": "Undeposited Funds",
            "applied_to": [
                {
                    "txn_id": "2B3C-1790000200",
                    "txn_type": "Invoice",
                    "ref_number": "1001",
                    "amount": "500.00",
                    "balance_remaining": "250.00",
                }
            ],
        },
    ),
    "invoice": (
        "created",
        "Invoice",
        None,
        {
            "name": "Maple Leaf Retail",
            "ref_number": "1002",
            "amount": "3150.00",
            "currency": "Canadian Dollar",
            "exchange_rate": "0.73",
            "txn_date": "2026-10-18",
            "due_date": "2026-11-17",
            "terms": "Net 30",
            "subtotal": "3000.00",
            "sales_tax_total": "150.00",
            "open_amount": "3150.00",
            "balance_remaining": "3150.00",
            "po_number": "ML-778",
            "is_paid": False,
            "line_items": [
                {"item": "Bookkeeping", "quantity": "20", "amount": "2000.00"},
                {"item": "Payroll setup", "amount": "1000.00"},
            ],
        },
    ),
    "account": (
        "created",
        "Account",
        None,
        {
            "name": "Software Subscriptions",
            "full_name": "Office Expenses:Software Subscriptions",
            "account_type": "Expense",
            "account_number": "6420",
            "description": "SaaS tools",
            "is_active": True,
        },
    ),
    "employee": (
        "updated",
        "Employee",
        None,
        {"name": "Maria Lopez", "full_name": "Maria Lopez", "job_title": "Senior bookkeeper"},
    ),
    "connected": (
        "connected",
        "Company",
        None,
        {"company_file": "C:\\Users\\Public\\Documents\\Client A Books.qbw"},
    ),
}


def _payload(name: str) -> dict[str, Any]:
    action, object_type, _, payload = CASES[name]
    return {**payload, "object_type": object_type, "action": action, "company": COMPANY}


def _snapshot(name: str, workspace: str) -> dict[str, Any]:
    action, object_type, state, _ = CASES[name]
    payload = _payload(name)
    message = build_message(
        payload,
        action=action,
        object_type=object_type,
        state=state,
        multi_company=WORKSPACES[workspace],
        now=NOW,
    )
    return {
        "case": name,
        "workspace": workspace,
        "now": NOW.isoformat(),
        "input": {"action": action, "object_type": object_type, "state": state, "payload": payload},
        "message": message,
    }


def _path(name: str, workspace: str) -> Path:
    return SNAPSHOTS / f"{name}--{workspace}.json"


@pytest.mark.parametrize("workspace", sorted(WORKSPACES))
@pytest.mark.parametrize("name", sorted(CASES))
def test_message_matches_its_snapshot(name: str, workspace: str) -> None:
    built = _snapshot(name, workspace)
    path = _path(name, workspace)
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(json.dumps(built, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored == built, f"{path.name} is out of date: see this module's docstring"


def test_no_stale_snapshots() -> None:
    expected = {_path(n, w).name for n in CASES for w in WORKSPACES}
    assert {p.name for p in SNAPSHOTS.glob("*.json")} == expected


def test_snapshots_name_the_company_only_in_a_multi_company_workspace() -> None:
    for name in CASES:
        single = _snapshot(name, "single")["message"]
        multi = _snapshot(name, "multi")["message"]
        if name == "connected":
            continue  # the notice is about the company: its header names it
        assert COMPANY not in json.dumps(single["blocks"]), name
        assert json.dumps(multi["blocks"]).count(COMPANY) == 1, name
        assert multi["blocks"][-1]["type"] == "context", name
