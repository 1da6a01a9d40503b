"""Fake-company fixtures: reading, replaying and snapshotting them.

Fixture files (JSON) come in two shapes, which may be combined (records first, then actions):

* a script, replayed through the mutation methods (the built-in `default_fixture.json`)::

    {"name": "Acme Books LLC", "tz_offset": "-08:00", "start": "2026-11-20T09:00:00",
     "dst": false, "dst_bug": false,
     "actions": [
       {"op": "vendor", "name": "Acme Supply Co", "active": true},
       {"op": "account", "name": "Rent", "type": "Expense"}, {"op": "employee", "name": "Bob"},
       {"op": "bill", "vendor": "Acme Supply Co", "amount": "1250.00", "ref": "INV-77",
        "memo": "...", "due_date": "2026-12-20",
        "lines": [{"account": "Office Supplies", "amount": "1250.00", "memo": "..."},
                  {"item": "Toner", "desc": "Toner", "quantity": "2", "amount": "80.00"}]},
       {"op": "purchase_order", "vendor": "...", "amount": "300.00", "ref": "PO-1"},
       {"op": "invoice", "customer": "Jane Doe", "amount": "99.50", "ref": "1001"},
       {"op": "pay_bill", "ref": "INV-77", "amount": "250.00", "method": "credit_card"},
       {"op": "receive_payment", "ref": "1001", "amount": "99.50"},
       {"op": "modify", "ref": "INV-77", "memo": "changed"},
       {"op": "delete", "ref": "PO-1"}, {"op": "delete", "name": "Old Vendor"},
       {"op": "advance", "seconds": 60}]}

  "start" (the wall clock when the script starts) is optional: by default an hour before
  the real time at that offset. `ref` names an object by RefNumber, `name` a list object
  by Name; amounts are decimal strings; omitted line lists get one line for the amount.
* a snapshot, written by `to_fixture()`: {"format": "qbslack-fake-company/1", "name",
  "tz_offset", "dst", "dst_bug", "now", "seq", "txn_number", "records": [{"kind", "id",
  "created", "modified", "edit_sequence", "active", "txn_number", "fields"}], "deletions":
  [{"kind", "id", "created", "deleted", "ref_number", "full_name"}]} (times as wall clock
  "YYYY-MM-DDTHH:MM:SS"; "fields" as the record holds them).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from soap.simulator.company import Deletion, FakeCompany, QbRecord

DEFAULT_FIXTURE = Path(__file__).with_name("default_fixture.json")
WALL = "%Y-%m-%dT%H:%M:%S"
FORMAT = "qbslack-fake-company/1"


def read(path: str | Path | None = None) -> dict[str, Any]:
    """The JSON of a fixture file (the built-in demo company by default)."""
    data: dict[str, Any] = json.loads(Path(path or DEFAULT_FIXTURE).read_text("utf-8"))
    return data


def from_dict(cls: type[FakeCompany], data: dict[str, Any]) -> FakeCompany:
    """A company from fixture data (script, snapshot, or both)."""
    from soap.simulator.company import Deletion, QbRecord

    company = cls(
        data.get("name", "Acme Books LLC"),
        tz_offset=data.get("tz_offset", "-08:00"),
        clock=data.get("now") or data.get("start"),
        dst=bool(data.get("dst")),
        dst_bug=bool(data.get("dst_bug")),
    )
    for r in data.get("records", []):
        rec = QbRecord(
            r["kind"],
            r["id"],
            _wall(r["created"]),
            _wall(r["modified"]),
            int(r["edit_sequence"]),
            r["fields"],
            r.get("active", True),
            r.get("txn_number"),
        )
        company.records[rec.object_id] = rec
        if rec.is_list:
            company._by_name[(rec.kind, rec.fields["name"])] = rec.object_id
    company.deletions = [
        Deletion(
            d["kind"],
            d["id"],
            _wall(d["created"]),
            _wall(d["deleted"]),
            d.get("ref_number"),
            d.get("full_name"),
        )
        for d in data.get("deletions", [])
    ]
    company._seq = int(data.get("seq", len(company.records)))
    company._txn_number = int(data.get("txn_number", 0))
    for action in data.get("actions", []):
        company.apply(action)
    return company


def apply(self: FakeCompany, action: dict[str, Any]) -> None:
    """Apply one fixture action (see the module docstring)."""
    a = dict(action)
    op = a.pop("op")
    target = ""
    if op in ("modify", "delete", "pay_bill", "receive_payment"):
        target = self.find_ref(a.pop("ref")) if "ref" in a else self.find_name(a.pop("name"))
    if op == "vendor":
        self.add_vendor(a.pop("name"), is_active=a.pop("active", True), **a)
    elif op == "account":
        self.add_account(a.pop("name"), a.pop("type", "Expense"), **a)
    elif op == "employee":
        self.add_employee(a.pop("name"), **a)
    elif op == "bill":
        self.add_bill(a.pop("vendor"), a.pop("amount", None), a.pop("ref", None), **a)
    elif op == "purchase_order":
        self.add_purchase_order(
            a.pop("vendor"), a.pop("lines", None), ref_number=a.pop("ref", None), **a
        )
    elif op in ("invoice", "customer_invoice"):
        self.add_invoice(
            a.pop("customer"), a.pop("lines", None), ref_number=a.pop("ref", None), **a
        )
    elif op == "pay_bill":
        self.pay_bill(
            target,
            a.get("amount"),
            method=a.get("method", "check"),
            ref_number=a.get("payment_ref"),
        )
    elif op == "receive_payment":
        self.receive_payment(target, a.get("amount"), ref_number=a.get("payment_ref"))
    elif op == "modify":
        self.modify(target, **{("is_active" if k == "active" else k): v for k, v in a.items()})
    elif op == "delete":
        self.delete(target)
    elif op == "advance":
        self.advance(a.get("seconds", 60))
    else:
        raise ValueError(f"unknown fixture op {op!r}")


def to_fixture(self: FakeCompany) -> dict[str, Any]:
    """A JSON-ready snapshot that load_fixture/from_dict reads back as the same company."""

    def rec(r: QbRecord) -> dict[str, Any]:
        return {
            "kind": r.kind,
            "id": r.object_id,
            "created": r.time_created.strftime(WALL),
            "modified": r.time_modified.strftime(WALL),
            "edit_sequence": r.edit_sequence,
            "active": r.is_active,
            "txn_number": r.txn_number,
            "fields": r.fields,
        }

    def deletion(d: Deletion) -> dict[str, Any]:
        return {
            "kind": d.kind,
            "id": d.object_id,
            "created": d.time_created.strftime(WALL),
            "deleted": d.time_deleted.strftime(WALL),
            "ref_number": d.ref_number,
            "full_name": d.full_name,
        }

    return {
        "format": FORMAT,
        "name": self.name,
        "tz_offset": self.tz_offset,
        "dst": self.dst,
        "dst_bug": self.dst_bug,
        "now": self.now.strftime(WALL),
        "seq": self._seq,
        "txn_number": self._txn_number,
        "records": [rec(r) for r in self.records.values()],
        "deletions": [deletion(d) for d in self.deletions],
    }


def _wall(text: str) -> dt.datetime:
    return dt.datetime.strptime(text[:19], WALL)
