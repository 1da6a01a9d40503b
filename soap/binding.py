"""Is the company file QBWC opened the one this connection is bound to? Checked every session.

When a .qwc is added, QBWC writes its FileID into the open company file as a data extension
under our OwnerID; the first request of every session asks for it (CompanyQueryRq with that
OwnerID). A file carrying another FileID of ours is another connection's file. Where there
is none (QBWC before 2.0, a file restored from an old backup) the bound company's name is
compared instead. Nothing is taken from a session before its file passed this check.
"""

from __future__ import annotations

from dataclasses import dataclass

from soap.qbxml.responses import QueryResult
from tenants.qwc import OWNER_ID


@dataclass(frozen=True)
class OpenFile:
    """The company file QBWC has open, as its first answer and sendRequestXML describe it."""

    company: str | None
    file_id: str | None  # its FileID data extension under our OwnerID
    path: str | None


@dataclass(frozen=True)
class Bound:
    """Who the company file must be, as the ticket carries it."""

    file_id: str | None  # the bound FileID, else the connection's own (.qwc) FileID
    company: str | None  # QuickBooks' company name at binding (None: not bound yet)
    path: str | None
    label: str  # qbslack's name for the connection ("Client A")


def found_file_id(result: QueryResult) -> str | None:
    """The FileID data extension under our OwnerID in a CompanyQueryRs, if any."""
    return result.file_ids.get(OWNER_ID.upper())


def mismatch(bound: Bound, found: OpenFile) -> str | None:
    """None when the open file is the bound one; else what a bookkeeper needs to read."""
    if found.file_id:
        if bound.file_id and found.file_id.upper() == bound.file_id.upper():
            return None
    elif not bound.company or _same_name(bound.company, found.company):
        return None  # no data extension: the name is all there is to compare
    open_one = f'"{found.company or "an unnamed company"}"'
    if found.path:
        open_one += f" ({found.path})"
    belongs = f'"{bound.company or bound.label}"'
    if bound.path:
        belongs += f" ({bound.path})"
    return (
        f"QuickBooks has the company file {open_one} open, but this Web Connector entry "
        f"belongs to {belongs}. qbslack read nothing from it. Open {belongs} in QuickBooks "
        "(or close QuickBooks so the Web Connector opens it), then click Update Selected. "
        "If the file really moved or was re-created, a qbslack manager can choose "
        '"This is the right file now" in Slack.'
    )


def _same_name(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()).casefold() == " ".join((b or "").split()).casefold()
