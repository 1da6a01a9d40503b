"""Fake-company fixtures: reading, replaying and snapshotting them.

`load(path)` and `from_dict(data)` build a FakeCompany; `apply(company, action)` replays one
action on it; `snapshot(company)` and `save(company, path)` write it back out. This module
builds on soap.simulator.company (which does not import it).

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
* a snapshot, written by `snapshot()`/`save()`: {"format": "qbslack-fake-company/1", "name",
  "tz_offset", "dst", "dst_bug", "now", "seq", "txn_number", "records": [{"kind", "id",
  "created", "modified", "edit_sequence", "active", "txn_number", "fields"}], "deletions":
  [{"kind", "id", "created", "deleted", "ref_number", "full_name"}], "data_ext":
  [{"owner_id", "name", "value"}]} (times as wall clock "YYYY-MM-DDTHH:MM:SS"; "fields" as
  the record holds them; "data_ext" the private data extensions, QBWC's FileID among them).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from soap.simulator.company import FakeCompany
from soap.simulator.records import WALL, Deletion, QbRecord

DEFAULT_FIXTURE = Path(__file__).with_name("default_fixture.json")
FORMAT = "qbslack-fake-company/1"


def read(path: str | Path | None = None) -> dict[str, Any]:
    """The JSON of a fixture file (the built-in demo company by default)."""
    data: dict[str, Any] = json.loads(Path(path or DEFAULT_FIXTURE).read_text("utf-8"))
    return data


def load(path: str | Path | None = None) -> FakeCompany:
    """A company from a fixture file (the built-in demo company by default)."""
    return from_dict(read(path))


def from_dict(data: dict[str, Any]) -> FakeCompany:
    """A company from fixture data (script, snapshot, or both)."""
    company = FakeCompany(
        data.get("name", "Acme Books LLC"),
        tz_offset=data.get("tz_offset", "-08:00"),
        clock=data.get("now") or data.get("start"),
        dst=bool(data.get("dst")),
        dst_bug=bool(data.get("dst_bug")),
    )
    company.restore(
        [
            QbRecord(
                r["kind"],
                r["id"],
                _wall(r["created"]),
                _wall(r["modified"]),
                int(r["edit_sequence"]),
                r["fields"],
                r.get("active", True),
                r.get("txn_number"),
            )
            for r in data.get("records", [])
        ],
        [
            Deletion(
                d["kind"],
                d["id"],
                _wall(d["created"]),
                _wall(d["deleted"]),
                d.get("ref_number"),
                d.get("full_name"),
            )
            for d in data.get("deletions", [])
        ],
        seq=int(data["seq"]) if "seq" in data else None,
        txn_number=int(data.get("txn_number", 0)),
    )
    for ext in data.get("data_ext", []):
        company.data_ext[(str(ext["owner_id"]).upper(), str(ext["name"]))] = str(ext["value"])
    for action in data.get("actions", []):
        apply(company, action)
    return company


def apply(company: FakeCompany, action: dict[str, Any]) -> None:
    """Apply one fixture action to the company (see the module docstring)."""
    a = dict(action)
    op = a.pop("op")
    target = ""
    if op in ("modify", "delete", "pay_bill", "receive_payment"):
        target = company.find_ref(a.pop("ref")) if "ref" in a else company.find_name(a.pop("name"))
    if op == "vendor":
        company.add_vendor(a.pop("name"), is_active=a.pop("active", True), **a)
    elif op == "account":
        company.add_account(a.pop("name"), a.pop("type", "Expense"), **a)
    elif op == "employee":
        company.add_employee(a.pop("name"), **a)
    elif op == "bill":
        company.add_bill(a.pop("vendor"), a.pop("amount", None), a.pop("ref", None), **a)
    elif op == "purchase_order":
        company.add_purchase_order(
            a.pop("vendor"), a.pop("lines", None), ref_number=a.pop("ref", None), **a
        )
    elif op in ("invoice", "customer_invoice"):
        company.add_invoice(
            a.pop("customer"), a.pop("lines", None), ref_number=a.pop("ref", None), **a
        )
    elif op == "pay_bill":
        company.pay_bill(
            target,
            a.get("amount"),
            method=a.get("method", "check"),
            ref_number=a.get("payment_ref"),
        )
    elif op == "receive_payment":
        company.receive_payment(target, a.get("amount"), ref_number=a.get("payment_ref"))
    elif op == "modify":
        company.modify(target, **{("is_active" if k == "active" else k): v for k, v in a.items()})
    elif op == "delete":
        company.delete(target)
    elif op == "advance":
        company.advance(a.get("seconds", 60))
    else:
        raise ValueError(f"unknown fixture op {op!r}")


def snapshot(company: FakeCompany) -> dict[str, Any]:
    """A JSON-ready snapshot that load/from_dict read back as the same company."""
    return {
        "format": FORMAT,
        "name": company.name,
        "tz_offset": company.tz_offset,
        "dst": company.dst,
        "dst_bug": company.dst_bug,
        "now": company.now.strftime(WALL),
        "seq": company.seq,
        "txn_number": company.txn_number,
        "records": [_record(r) for r in company.records.values()],
        "deletions": [_deletion(d) for d in company.deletions],
        "data_ext": [
            {"owner_id": owner, "name": name, "value": value}
            for (owner, name), value in sorted(company.data_ext.items())
        ],
    }


def save(company: FakeCompany, path: str | Path) -> None:
    """Write snapshot(company) to a file as JSON."""
    Path(path).write_text(json.dumps(snapshot(company), indent=1) + "\n", "utf-8")


def _record(r: QbRecord) -> dict[str, Any]:
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


def _deletion(d: Deletion) -> dict[str, Any]:
    return {
        "kind": d.kind,
        "id": d.object_id,
        "created": d.time_created.strftime(WALL),
        "deleted": d.time_deleted.strftime(WALL),
        "ref_number": d.ref_number,
        "full_name": d.full_name,
    }


def _wall(text: str) -> dt.datetime:
    return dt.datetime.strptime(text[:19], WALL)
