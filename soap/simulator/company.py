"""A fake QuickBooks company file: lists, transactions, deletions and a wall clock.

Times are the Windows machine's wall clock (naive datetimes) printed with an offset, as
QuickBooks does: "2026-11-24T09:12:33-08:00". The clock only moves when told to (every
change takes one second, `advance(seconds)` moves it further), so runs are repeatable.

Fixture files (load, save, replay, format): soap.simulator.fixtures, which builds on
this module (this module does not know about it).
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from soap.simulator.records import (
    DELETIONS_KEPT,
    LIST_KINDS,
    WALL,
    Deletion,
    QbRecord,
    format_offset,
    local_now,
    money,
    parse_offset,
    us_summer,
)


class FakeCompany:
    """An in-memory QuickBooks company with a deterministic clock."""

    def __init__(
        self,
        name: str = "Acme Books LLC",
        *,
        tz_offset: str = "-08:00",
        clock: dt.datetime | str | None = None,
        dst: bool = False,
        dst_bug: bool = False,
    ) -> None:
        self.name = name
        self.tz_offset = tz_offset
        # dst: the machine's clock observes US daylight saving (summer offset one hour later).
        # dst_bug: QuickBooks then still prints the winter offset, an hour wrong, as it does.
        self.dst = dst or dst_bug
        self.dst_bug = dst_bug
        # clock: where the wall clock starts (default: an hour before the real time there).
        when = dt.datetime.fromisoformat(clock) if isinstance(clock, str) else clock
        if when is not None and when.tzinfo is not None:
            when = (when.astimezone(dt.UTC) + parse_offset(tz_offset)).replace(tzinfo=None)
        self.now: dt.datetime = when or local_now(tz_offset) - dt.timedelta(hours=1)
        self.records: dict[str, QbRecord] = {}
        self.deletions: list[Deletion] = []
        self.iterators: dict[str, list[str]] = {}  # iteratorID -> ids still to return
        self.pending_failure: tuple[str, str] | None = None  # next response: hresult, message
        self.pending_open_failure: tuple[str, str] | None = None  # next open: connectionError
        self.data_ext: dict[tuple[str, str], str] = {}  # (OwnerID upper, DataExtName) -> value
        # Objects per iterator page whatever MaxReturned asks (None: QuickBooks' own rule);
        # a hostile or broken client sends more than it was asked for.
        self.page_size: int | None = None
        self._seq = 0
        self._txn_number = 0
        self._by_name: dict[tuple[str, str], str] = {}  # (kind, Name) -> ListID

    # -- clock and ids -------------------------------------------------------
    def advance(self, seconds: float = 1) -> None:
        """Move the company's wall clock forward."""
        self.now += dt.timedelta(seconds=seconds)

    def true_offset(self, wall: dt.datetime) -> dt.timedelta:
        """The machine's real UTC offset at that wall-clock time."""
        summer = self.dst and us_summer(wall)
        return parse_offset(self.tz_offset) + dt.timedelta(hours=1 if summer else 0)

    def reported_offset(self, wall: dt.datetime) -> dt.timedelta:
        """The offset QuickBooks prints for that wall-clock time (wrong in summer with the bug)."""
        return parse_offset(self.tz_offset) if self.dst_bug else self.true_offset(wall)

    def qb_time(self, wall: dt.datetime) -> str:
        """Format a wall-clock time the way QuickBooks does (with its offset)."""
        return wall.strftime(WALL) + format_offset(self.reported_offset(wall))

    def epoch(self, wall: dt.datetime) -> int:
        """Seconds since 1970 (UTC) of a wall-clock time on this machine."""
        return calendar.timegm((wall - self.true_offset(wall)).timetuple())

    def _new_id(self, is_list: bool) -> str:
        # QuickBooks ids: a hex counter and the creation time in epoch seconds.
        self._seq += 1
        stamp = self.epoch(self.now)
        return f"{0x80000000 + self._seq:X}-{stamp}" if is_list else f"{self._seq:X}-{stamp}"

    def _today(self) -> dt.date:
        # The date of the change about to be made (it takes the next second).
        return (self.now + dt.timedelta(seconds=1)).date()

    def _tick(self) -> dt.datetime:
        # Every change gets its own second, as QuickBooks' TimeModified would.
        self.advance(1)
        return self.now

    # -- lists ---------------------------------------------------------------
    def _add(self, kind: str, **fields: Any) -> str:
        when = self._tick()
        is_list = kind in LIST_KINDS
        rec = QbRecord(kind, self._new_id(is_list), when, when, self.epoch(when), fields)
        if is_list:
            rec.is_active = bool(fields.pop("is_active", True))
            self._by_name[(kind, fields["name"])] = rec.object_id
        else:
            self._txn_number += 1
            rec.txn_number = self._txn_number
            for line in fields.get("lines", []):
                line.setdefault("id", self._new_id(False))
        self.records[rec.object_id] = rec
        return rec.object_id

    def add_vendor(self, name: str, *, is_active: bool = True, **fields: Any) -> str:
        """Add a vendor; returns its ListID."""
        return self._add("Vendor", name=name, is_active=is_active, **fields)

    def add_account(self, name: str, account_type: str = "Expense", **fields: Any) -> str:
        """Add an account to the chart of accounts; returns its ListID."""
        return self._add("Account", name=name, account_type=account_type, **fields)

    def add_employee(self, name: str, **fields: Any) -> str:
        """Add an employee; returns its ListID."""
        return self._add("Employee", name=name, **fields)

    def list_id(self, kind: str, name: str) -> str | None:
        """The ListID of a list object by Name (refs carry it when the object exists)."""
        return self._by_name.get((kind, name))

    # -- transactions --------------------------------------------------------
    def _lines(
        self,
        lines: list[dict[str, Any]] | None,
        amount: object,
        default: dict[str, Any],
    ) -> tuple[list[dict[str, Any]], str]:
        if not lines:
            if amount is None:
                raise ValueError("give an amount or lines")
            lines = [{**default, "amount": money(amount)}]
        lines = [{**line, "amount": money(line["amount"])} for line in lines]
        total = (
            money(amount)
            if amount is not None
            else money(sum(Decimal(line["amount"]) for line in lines))
        )
        return lines, total

    def add_bill(
        self,
        vendor: str,
        amount: str | Decimal | None = None,
        ref_number: str | None = None,
        *,
        lines: list[dict[str, Any]] | None = None,
        due_date: str | None = None,
        due_days: int = 30,
        memo: str | None = None,
        terms: str | None = "Net 30",
        txn_date: str | None = None,
    ) -> str:
        """Add a bill from a vendor (expense lines name an account, item lines an item)."""
        lines, total = self._lines(lines, amount, {"account": "Office Supplies", "memo": memo})
        day = self._today()
        return self._add(
            "Bill",
            vendor=vendor,
            amount=total,
            ref_number=ref_number,
            memo=memo,
            txn_date=txn_date or day.isoformat(),
            due_date=due_date or (day + dt.timedelta(days=due_days)).isoformat(),
            terms=terms,
            lines=lines,
            paid="0.00",
            links=[],
        )

    def add_purchase_order(
        self,
        vendor: str,
        lines: list[dict[str, Any]] | None = None,
        *,
        amount: str | Decimal | None = None,
        ref_number: str | None = None,
        memo: str | None = None,
    ) -> str:
        """Add a purchase order; returns its TxnID."""
        lines, total = self._lines(
            lines, amount, {"item": "Widgets", "desc": "Widgets", "quantity": "1"}
        )
        return self._add(
            "PurchaseOrder",
            vendor=vendor,
            amount=total,
            ref_number=ref_number,
            memo=memo,
            txn_date=self._today().isoformat(),
            lines=lines,
            links=[],
        )

    def add_invoice(
        self,
        customer: str,
        lines: list[dict[str, Any]] | None = None,
        *,
        amount: str | Decimal | None = None,
        ref_number: str | None = None,
        due_days: int = 30,
        memo: str | None = None,
    ) -> str:
        """Add an invoice to a customer; returns its TxnID."""
        lines, total = self._lines(
            lines, amount, {"item": "Consulting", "desc": "Consulting", "quantity": "1"}
        )
        return self._add(
            "Invoice",
            customer=customer,
            amount=total,
            ref_number=ref_number,
            memo=memo,
            txn_date=self._today().isoformat(),
            due_date=(self._today() + dt.timedelta(days=due_days)).isoformat(),
            lines=lines,
            paid="0.00",
            links=[],
        )

    def _apply_payment(
        self, kind: str, target_id: str, amount: object, party: str, ref_number: str | None
    ) -> str:
        target = self.records[target_id]
        f = target.fields
        amount = money(amount if amount is not None else Decimal(f["amount"]) - Decimal(f["paid"]))
        remaining = money(Decimal(f["amount"]) - Decimal(f["paid"]) - Decimal(amount))
        pay_id = self._add(
            kind,
            **{party: f[party]},
            amount=amount,
            ref_number=ref_number,
            txn_date=self._today().isoformat(),
            applied=[
                {
                    "txn_id": target_id,
                    "type": target.kind,
                    "ref": f.get("ref_number"),
                    "txn_date": f["txn_date"],
                    "balance": remaining,
                    "amount": amount,
                }
            ],
        )
        # QuickBooks changes the paid transaction too: new balance, a link to the payment.
        link = {
            "txn_id": pay_id,
            "type": kind,
            "txn_date": self.now.date().isoformat(),
            "ref": ref_number,
            "amount": money(-Decimal(amount)),
        }
        self.modify(
            target_id,
            paid=money(Decimal(f["paid"]) + Decimal(amount)),
            links=[*f.get("links", []), link],
        )
        return pay_id

    def pay_bill(
        self,
        bill_id: str,
        amount: str | Decimal | None = None,
        *,
        method: str = "check",
        ref_number: str | None = None,
    ) -> str:
        """Pay a bill by check or credit card (default: what is still open)."""
        if method not in ("check", "credit_card"):
            raise ValueError("method is 'check' or 'credit_card'")
        kind = "BillPaymentCheck" if method == "check" else "BillPaymentCreditCard"
        return self._apply_payment(kind, bill_id, amount, "vendor", ref_number)

    def receive_payment(
        self, invoice_id: str, amount: str | Decimal | None = None, *, ref_number: str | None = None
    ) -> str:
        """Receive a customer payment against an invoice."""
        return self._apply_payment("ReceivePayment", invoice_id, amount, "customer", ref_number)

    # -- changes -------------------------------------------------------------
    def modify(self, object_id: str, **changes: Any) -> None:
        """Change an object: new EditSequence and TimeModified."""
        rec = self.records[object_id]
        if "is_active" in changes:
            rec.is_active = bool(changes.pop("is_active"))
        if "name" in changes and rec.is_list:
            self._by_name.pop((rec.kind, rec.fields["name"]), None)
            self._by_name[(rec.kind, changes["name"])] = object_id
        if "amount" in changes:
            changes["amount"] = money(changes["amount"])
            lines = changes.get("lines", rec.fields.get("lines"))
            if lines and len(lines) == 1 and "lines" not in changes:
                changes["lines"] = [{**lines[0], "amount": changes["amount"]}]
        rec.fields.update(changes)
        for line in rec.fields.get("lines") or []:
            line.setdefault("id", self._new_id(False))
        rec.time_modified = self._tick()
        rec.edit_sequence = max(rec.edit_sequence + 1, self.epoch(rec.time_modified))

    def delete(self, object_id: str) -> None:
        """Delete an object; it shows up in the deleted queries afterwards."""
        rec = self.records.pop(object_id)
        if rec.is_list:
            self._by_name.pop((rec.kind, rec.fields["name"]), None)
        when = self._tick()
        self.deletions.append(
            Deletion(
                rec.kind,
                object_id,
                rec.time_created,
                when,
                rec.fields.get("ref_number"),
                rec.fields.get("name"),
            )
        )
        self.deletions = [d for d in self.deletions if d.time_deleted >= when - DELETIONS_KEPT]
        for applied in rec.fields.get("applied", []):
            # Deleting a payment reopens what it paid, as in QuickBooks.
            target = self.records.get(applied["txn_id"])
            if target is not None:
                paid = Decimal(target.fields["paid"]) - Decimal(applied["amount"])
                links = [x for x in target.fields.get("links", []) if x["txn_id"] != object_id]
                self.modify(target.object_id, paid=money(paid), links=links)

    def fail_next(
        self,
        hresult: str = "0x80040408",
        message: str = "Could not start QuickBooks.",
        *,
        on_open: bool = False,
    ) -> None:
        """Make QuickBooks fail once: the next answer (receiveResponseXML carries the hresult
        and message) or, with on_open, the next opening of the company (connectionError)."""
        if on_open:
            self.pending_open_failure = (hresult, message)
        else:
            self.pending_failure = (hresult, message)

    def expire_iterators(self) -> None:
        """Forget every open iterator (QuickBooks keeps them only for its session)."""
        self.iterators.clear()

    def find_ref(self, ref_number: str) -> str:
        """The id of the object with that RefNumber (fixtures and tests)."""
        for rec in self.records.values():
            if rec.fields.get("ref_number") == ref_number:
                return rec.object_id
        raise KeyError(ref_number)

    def find_name(self, name: str) -> str:
        """The ListID of the list object with that Name."""
        for kind in LIST_KINDS:
            if (kind, name) in self._by_name:
                return self._by_name[(kind, name)]
        raise KeyError(name)

    @property
    def seq(self) -> int:
        """The id counter: how many ids (objects and lines) the company has handed out."""
        return self._seq

    @property
    def txn_number(self) -> int:
        """The last TxnNumber given to a transaction."""
        return self._txn_number

    def restore(
        self,
        records: Iterable[QbRecord],
        deletions: Iterable[Deletion],
        *,
        seq: int | None = None,
        txn_number: int = 0,
    ) -> None:
        """Put saved records and deletions back, counters included (a snapshot being read).
        The id counter defaults to the number of records."""
        for rec in records:
            self.records[rec.object_id] = rec
            if rec.is_list:
                self._by_name[(rec.kind, rec.fields["name"])] = rec.object_id
        self.deletions = list(deletions)
        self._seq = len(self.records) if seq is None else seq
        self._txn_number = txn_number

    def generate(self, vendors: int = 2000, bills: int = 10_000, seed: int = 1) -> None:
        """Add many vendors and bills quickly (benchmarks, iterator tests)."""
        rnd = random.Random(seed)
        names = [f"Vendor {i:05d}" for i in range(vendors)]
        for name in names:
            self.add_vendor(name)
        for i in range(bills):
            vendor = names[i % len(names)] if names else f"Vendor {i % 50:05d}"
            cents = [rnd.randint(100, 250_000) for _ in range(rnd.randint(1, 3))]
            lines = [
                {"account": "Office Supplies", "amount": money(Decimal(c) / 100)} for c in cents
            ]
            self.add_bill(vendor, ref_number=f"B-{i:06d}", lines=lines)
