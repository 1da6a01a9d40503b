"""What the fake company file holds: records, deletions, amounts and wall-clock times.

Times are the Windows machine's wall clock (naive datetimes) printed with an offset, as
QuickBooks does: "2026-11-24T09:12:33-08:00".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

WALL = "%Y-%m-%dT%H:%M:%S"
LIST_KINDS = ("Vendor", "Account", "Employee")
DELETIONS_KEPT = dt.timedelta(days=90)  # QuickBooks forgets deletions after about 90 days
CENT = Decimal("0.01")


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
    txn_number: int | None = None

    @property
    def is_list(self) -> bool:
        """True for list objects (ListID), False for transactions (TxnID)."""
        return self.kind in LIST_KINDS


@dataclass
class Deletion:
    """A deleted object as TxnDeletedQuery/ListDeletedQuery reports it."""

    kind: str
    object_id: str
    time_created: dt.datetime
    time_deleted: dt.datetime
    ref_number: str | None
    full_name: str | None


def money(value: object) -> str:
    """An amount as QuickBooks prints it: two decimals."""
    return str(Decimal(str(value)).quantize(CENT))


def parse_offset(text: str) -> dt.timedelta:
    """'-08:00' as a timedelta."""
    return dt.datetime.strptime(text, "%z").utcoffset() or dt.timedelta(0)


def format_offset(offset: dt.timedelta) -> str:
    """A timedelta as '-08:00'."""
    return dt.datetime(2000, 1, 1, tzinfo=dt.timezone(offset)).isoformat()[-6:]


def local_now(tz_offset: str) -> dt.datetime:
    """The wall clock of a machine at that UTC offset (naive, like QuickBooks' own)."""
    now = dt.datetime.now(dt.UTC) + parse_offset(tz_offset)
    return now.replace(tzinfo=None, microsecond=0)


def us_summer(wall: dt.datetime) -> bool:
    """True inside US daylight saving: 2nd Sunday of March 02:00 to 1st Sunday of Nov 02:00."""

    def sunday(month: int, nth: int) -> dt.datetime:
        first = dt.datetime(wall.year, month, 1, 2)
        return first + dt.timedelta(days=(6 - first.weekday()) % 7 + 7 * (nth - 1))

    return sunday(3, 2) <= wall < sunday(11, 1)
