"""A fake QuickBooks company file: lists, transactions, deletions and a wall clock.

Fixture format (JSON): {"name": "Acme Books LLC", "tz_offset": "-08:00",
"start": "2026-11-20T09:00:00" (optional: default an hour ago),
"actions": [{"op": "vendor", "name": "Acme Supply"},
{"op": "bill", "vendor": "Acme Supply", "amount": "1250.00", "ref": "INV-77", "memo": "..."},
{"op": "advance", "seconds": 60}, {"op": "pay_bill", "ref": "INV-77", "amount": "250.00"},
{"op": "customer_invoice", "customer": "Jane Doe", "amount": "99.50", "ref": "1001"},
{"op": "receive_payment", "ref": "1001", "amount": "99.50"},
{"op": "purchase_order", "vendor": "Acme Supply", "amount": "300.00", "ref": "PO-1"},
{"op": "modify", "ref": "INV-77", "memo": "changed"}, {"op": "delete", "ref": "PO-1"}]}
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

DEFAULT_FIXTURE = Path(__file__).with_name("default_fixture.json")
WALL = "%Y-%m-%dT%H:%M:%S"


@dataclass
class QbRecord:
    """One object in the fake company file."""

    kind: str  # Vendor, Account, Employee, Bill, PurchaseOrder, BillPaymentCheck, ...
    object_id: str
    time_created: dt.datetime
    time_modified: dt.datetime
    edit_sequence: int
    fields: dict[str, Any] = field(default_factory=dict)
    is_active: bool = True

    @property
    def is_list(self) -> bool:
        """True for list objects (ListID), False for transactions (TxnID)."""
        return self.kind in ("Vendor", "Account", "Employee")


@dataclass
class Deletion:
    """A deleted object as TxnDeletedQuery/ListDeletedQuery reports it."""

    kind: str
    object_id: str
    time_created: dt.datetime
    time_deleted: dt.datetime
    ref_number: str | None
    full_name: str | None


def local_now(tz_offset: str) -> dt.datetime:
    """The wall clock of a machine at that UTC offset (naive, like QuickBooks' own)."""
    sign = -1 if tz_offset.startswith("-") else 1
    hours, minutes = (int(x) for x in tz_offset.lstrip("+-").split(":"))
    now = dt.datetime.now(dt.UTC) + sign * dt.timedelta(hours=hours, minutes=minutes)
    return now.replace(tzinfo=None, microsecond=0)


class FakeCompany:
    """An in-memory QuickBooks company with a controllable clock."""

    def __init__(
        self,
        name: str = "Acme Books LLC",
        *,
        tz_offset: str = "-08:00",
        start: dt.datetime | None = None,
    ) -> None:
        self.name = name
        self.tz_offset = tz_offset
        self.now = start or local_now(tz_offset) - dt.timedelta(hours=1)
        self.records: dict[str, QbRecord] = {}
        self.deletions: list[Deletion] = []
        self._seq = 0
        self.pending_failure: tuple[str, str] | None = None

    # -- clock and ids -------------------------------------------------------
    def advance(self, seconds: float = 1) -> None:
        """Move the company's wall clock forward."""
        self.now += dt.timedelta(seconds=seconds)

    def qb_time(self, when: dt.datetime) -> str:
        """Format a wall-clock time the way QuickBooks does (with its offset)."""
        return when.strftime(WALL) + self.tz_offset

    def _new_id(self, is_list: bool) -> str:
        self._seq += 1
        stamp = int(self.now.timestamp())
        return f"{0x80000000 + self._seq:X}-{stamp}" if is_list else f"{self._seq:X}-{stamp}"

    def _tick(self) -> dt.datetime:
        # Every change gets its own second, as QuickBooks' TimeModified would.
        self.advance(1)
        return self.now

    # -- mutations -----------------------------------------------------------
    def _add(self, kind: str, **fields: Any) -> str:
        when = self._tick()
        is_list = kind in ("Vendor", "Account", "Employee")
        rec = QbRecord(kind, self._new_id(is_list), when, when, int(when.timestamp()), fields)
        self.records[rec.object_id] = rec
        return rec.object_id

    def add_vendor(self, name: str, **fields: Any) -> str:
        """Add a vendor; returns its ListID."""
        return self._add("Vendor", name=name, **fields)

    def add_account(self, name: str, account_type: str = "Expense") -> str:
        """Add an account to the chart of accounts."""
        return self._add("Account", name=name, account_type=account_type)

    def add_employee(self, name: str) -> str:
        """Add an employee."""
        return self._add("Employee", name=name)

    def add_bill(
        self,
        vendor: str,
        amount: str | Decimal,
        *,
        ref_number: str | None = None,
        memo: str | None = None,
        due_days: int = 30,
        lines: list[dict[str, Any]] | None = None,
    ) -> str:
        """Add a bill from a vendor; returns its TxnID."""
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
        lines = lines or [{"account": "Office Supplies", "amount": str(amount), "memo": memo}]
        return self._add(
            "Bill", vendor=vendor, amount=str(amount), ref_number=ref_number, memo=memo,
            txn_date=self.now.date().isoformat(),
            due_date=(self.now.date() + dt.timedelta(days=due_days)).isoformat(),
            terms="Net 30", lines=lines, paid=str(Decimal(0)),
        )

    def add_purchase_order(self, vendor: str, amount: str, *, ref_number: str | None = None) -> str:
        """Add a purchase order."""
        return self._add(
            "PurchaseOrder", vendor=vendor, amount=str(Decimal(amount)), ref_number=ref_number,
            txn_date=self.now.date().isoformat(),
            lines=[{"item": "Widgets", "desc": "Widgets", "quantity": "1", "amount": amount}],
        )

    def add_invoice(self, customer: str, amount: str, *, ref_number: str | None = None) -> str:
        """Add an invoice to a customer."""
        return self._add(
            "Invoice", customer=customer, amount=str(Decimal(amount)), ref_number=ref_number,
            txn_date=self.now.date().isoformat(),
            due_date=(self.now.date() + dt.timedelta(days=30)).isoformat(),
            lines=[{"item": "Consulting", "desc": "Consulting", "quantity": "1",
                    "amount": amount}],
            paid=str(Decimal(0)),
        )

    def pay_bill(self, bill_id: str, amount: str, *, method: str = "check") -> str:
        """Pay a bill (check or credit card); the bill changes too, as in QuickBooks."""
        bill = self.records[bill_id]
        kind = "BillPaymentCheck" if method == "check" else "BillPaymentCreditCard"
        pay_id = self._add(
            kind, vendor=bill.fields["vendor"], amount=amount,
            txn_date=self.now.date().isoformat(),
            applied=[{"txn_id": bill_id, "type": "Bill", "ref": bill.fields.get("ref_number"),
                      "amount": amount, "txn_date": bill.fields["txn_date"]}],
        )
        paid = Decimal(bill.fields["paid"]) + Decimal(amount)
        self.modify(bill_id, paid=str(paid))
        return pay_id

    def receive_payment(self, invoice_id: str, amount: str) -> str:
        """Receive a customer payment against an invoice."""
        inv = self.records[invoice_id]
        pay_id = self._add(
            "ReceivePayment", customer=inv.fields["customer"], amount=amount,
            txn_date=self.now.date().isoformat(),
            applied=[{"txn_id": invoice_id, "type": "Invoice", "ref": inv.fields.get("ref_number"),
                      "amount": amount, "txn_date": inv.fields["txn_date"]}],
        )
        self.modify(invoice_id, paid=str(Decimal(inv.fields["paid"]) + Decimal(amount)))
        return pay_id

    def modify(self, object_id: str, **changes: Any) -> None:
        """Change an object: new EditSequence and TimeModified."""
        rec = self.records[object_id]
        rec.fields.update({k: v for k, v in changes.items() if k != "is_active"})
        if "is_active" in changes:
            rec.is_active = bool(changes["is_active"])
        rec.time_modified = self._tick()
        rec.edit_sequence = max(rec.edit_sequence + 1, int(rec.time_modified.timestamp()))

    def delete(self, object_id: str) -> None:
        """Delete an object; it shows up in the deleted queries afterwards."""
        rec = self.records.pop(object_id)
        name = rec.fields.get("name")
        self.deletions.append(
            Deletion(rec.kind, object_id, rec.time_created, self._tick(),
                     rec.fields.get("ref_number"), name)
        )

    def fail_next(
        self, hresult: str = "0x80040408", message: str = "Could not start QuickBooks."
    ) -> None:
        """Make the next answer an error from QuickBooks itself (hresult/message)."""
        self.pending_failure = (hresult, message)

    def find_ref(self, ref_number: str) -> str:
        """The id of the object with that RefNumber (fixtures and tests)."""
        for rec in self.records.values():
            if rec.fields.get("ref_number") == ref_number:
                return rec.object_id
        raise KeyError(ref_number)

    def generate(self, *, vendors: int = 0, bills: int = 0, seed: int = 1) -> None:
        """Add many vendors and bills quickly (benchmarks, iterator tests)."""
        rnd = random.Random(seed)
        names = [f"Vendor {i:05d}" for i in range(vendors)]
        for name in names:
            self.add_vendor(name)
        for i in range(bills):
            vendor = names[i % len(names)] if names else f"Vendor {i % 50:05d}"
            amount = Decimal(rnd.randint(100, 500_000)) / 100
            self.add_bill(vendor, amount, ref_number=f"B-{i:06d}")

    # -- fixtures ------------------------------------------------------------
    @classmethod
    def from_fixture(cls, path: str | Path | None = None) -> FakeCompany:
        """Build a company by replaying a fixture file (the built-in one by default)."""
        data = json.loads(Path(path or DEFAULT_FIXTURE).read_text())
        start = dt.datetime.strptime(data["start"], WALL) if data.get("start") else None
        company = cls(data.get("name", "Acme Books LLC"),
                      tz_offset=data.get("tz_offset", "-08:00"), start=start)
        for action in data.get("actions", []):
            company.apply(action)
        return company

    def apply(self, action: dict[str, Any]) -> None:
        """Apply one fixture action."""
        op = action["op"]
        if op == "vendor":
            self.add_vendor(action["name"])
        elif op == "bill":
            self.add_bill(action["vendor"], action["amount"], ref_number=action.get("ref"),
                          memo=action.get("memo"))
        elif op == "purchase_order":
            self.add_purchase_order(action["vendor"], action["amount"],
                                    ref_number=action.get("ref"))
        elif op == "customer_invoice":
            self.add_invoice(action["customer"], action["amount"], ref_number=action.get("ref"))
        elif op == "pay_bill":
            self.pay_bill(self.find_ref(action["ref"]), action["amount"],
                          method=action.get("method", "check"))
        elif op == "receive_payment":
            self.receive_payment(self.find_ref(action["ref"]), action["amount"])
        elif op == "modify":
            changes = {k: v for k, v in action.items() if k not in ("op", "ref")}
            self.modify(self.find_ref(action["ref"]), **changes)
        elif op == "delete":
            self.delete(self.find_ref(action["ref"]))
        elif op == "advance":
            self.advance(action.get("seconds", 60))
        else:
            raise ValueError(f"unknown fixture op {op!r}")
