"""Answering qbXML query requests the way QuickBooks 13 does, from a FakeCompany."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable

from lxml import etree

from soap.simulator.company import FakeCompany
from soap.simulator.qbxml_render import company_ret, host_ret, open_amount, put, render
from soap.simulator.records import DELETIONS_KEPT, Deletion

NO_MATCH = "A query request did not find a matching object in QuickBooks"
PARSE_ERROR = ("0x80040400", "QuickBooks found an error when parsing the provided XML text stream.")
LIST_QUERIES = {
    "VendorQueryRq": "Vendor",
    "AccountQueryRq": "Account",
    "EmployeeQueryRq": "Employee",
}
TXN_QUERIES = {
    "BillQueryRq": "Bill",
    "PurchaseOrderQueryRq": "PurchaseOrder",
    "BillPaymentCheckQueryRq": "BillPaymentCheck",
    "BillPaymentCreditCardQueryRq": "BillPaymentCreditCard",
    "ReceivePaymentQueryRq": "ReceivePayment",
    "InvoiceQueryRq": "Invoice",
}
REQUEST_KINDS = {**LIST_QUERIES, **TXN_QUERIES}
ACTIVE = ("ActiveOnly", "InactiveOnly", "All")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class QbxmlRequestError(ValueError):
    """QuickBooks refuses the whole request document (QBWC reports hresult and message)."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(f"{PARSE_ERROR[1]} {detail}".strip())
        self.hresult, self.message = PARSE_ERROR


def parse_safe(data: str | bytes) -> etree._Element:
    """Parse XML from outside: no DTD, no entities, no network; QbxmlRequestError if bad."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if _DOCTYPE.search(raw):
        raise QbxmlRequestError("(DOCTYPE and entities are refused)")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
    try:
        # lxml refuses str with an encoding declaration: always hand it bytes.
        root = etree.fromstring(re.sub(rb"^\s*<\?xml[^>]*\?>", b"", raw), parser)
    except etree.XMLSyntaxError as exc:
        raise QbxmlRequestError(f"({exc})") from None
    if root is None:
        raise QbxmlRequestError("(empty document)")
    return root


class Answerer:
    """Answers requests for one company (iterators live on the company, as in one session)."""

    def __init__(self, company: FakeCompany) -> None:
        self.company = company

    def answer(self, request_xml: str) -> str:
        """The QBXML response document for a QBXML request document."""
        return answer(self.company, request_xml)


def answer(company: FakeCompany, request_xml: str | bytes) -> str:
    """The QBXML response document for a QBXML request document, as QuickBooks 13 answers."""
    root = parse_safe(request_xml)
    msgs_rq = root.find("QBXMLMsgsRq")
    if root.tag != "QBXML" or msgs_rq is None:
        raise QbxmlRequestError("(no QBXML/QBXMLMsgsRq)")
    stop_on_error = msgs_rq.get("onError", "stopOnError") != "continueOnError"
    out = etree.Element("QBXML")
    msgs_rs = etree.SubElement(out, "QBXMLMsgsRs")
    for rq in msgs_rq:
        if not isinstance(rq.tag, str):
            continue
        if not rq.tag.endswith("Rq"):
            raise QbxmlRequestError(f"(unexpected element {rq.tag})")
        rs = _answer_one(company, rq)
        msgs_rs.append(rs)
        # stopOnError (and rollbackOnError, for queries): later requests go unanswered.
        if stop_on_error and rs.get("statusSeverity") == "Error":
            break
    body: str = etree.tostring(out, encoding="unicode")
    return '<?xml version="1.0" ?>\n' + body


def hcp_response(company: FakeCompany) -> str:
    """What QBWC passes as strHCPResponse: HostQuery and CompanyQuery answers."""
    return answer(
        company,
        '<QBXML><QBXMLMsgsRq onError="continueOnError"><HostQueryRq/>'
        "<CompanyQueryRq/></QBXMLMsgsRq></QBXML>",
    )


def _answer_one(company: FakeCompany, rq: etree._Element) -> etree._Element:
    rs = etree.Element(rq.tag[:-2] + "Rs")
    if rq.get("requestID") is not None:
        rs.set("requestID", rq.get("requestID", ""))
    try:
        if rq.tag == "HostQueryRq":
            _ok(rs, [host_ret()])
        elif rq.tag == "CompanyQueryRq":
            owners = (e.text or "" for e in rq.iterchildren("OwnerID"))
            _ok(rs, [company_ret(company, owners)])
        elif rq.tag in ("TxnDeletedQueryRq", "ListDeletedQueryRq"):
            _deleted(company, rq, rs)
        elif rq.tag in REQUEST_KINDS:
            _query(company, rq, rs, REQUEST_KINDS[rq.tag])
        else:
            _status(
                rs, 3250, "Error", f"The request {rq.tag} is not supported by this fake QuickBooks."
            )
    except ValueError as exc:
        # A value QuickBooks' parser would reject: the whole document fails.
        raise QbxmlRequestError(f"({rq.tag}: {exc})") from None
    only = {e.text for e in rq.iterchildren("IncludeRetElement")}
    if only:
        for ret in rs:
            for child in list(ret):
                if child.tag not in only:
                    ret.remove(child)
    return rs


def _ok(rs: etree._Element, rets: Iterable[etree._Element]) -> None:
    rets = list(rets)
    if not rets:
        _status(rs, 1, "Info", NO_MATCH)
        return
    _status(rs, 0)
    rs.extend(rets)


def _status(rs: etree._Element, code: int, severity: str = "Info", msg: str = "Status OK") -> None:
    rs.set("statusCode", str(code))
    rs.set("statusSeverity", severity)
    rs.set("statusMessage", msg)


def _query(company: FakeCompany, rq: etree._Element, rs: etree._Element, kind: str) -> None:
    iterator = rq.get("iterator")
    max_text = rq.findtext("MaxReturned")
    max_returned = int(max_text) if max_text else None
    if company.page_size is not None and iterator:
        max_returned = company.page_size  # a client that ignores MaxReturned
    if iterator == "Continue":
        it_id = rq.get("iteratorID", "")
        if it_id not in company.iterators:
            _status(
                rs,
                3391,
                "Error",
                f'Could not find the iterator with iteratorID "{it_id}".'
                " The iterator may have expired or been released.",
            )
            return
        ids = company.iterators.pop(it_id)
    elif iterator in (None, "Start"):
        it_id = "{" + str(uuid.uuid4()).upper() + "}"
        ids = _matching(company, rq, kind)
    else:
        raise ValueError(f"bad iterator {iterator!r}")
    page, rest = (ids[:max_returned], ids[max_returned:]) if max_returned else (ids, [])
    if iterator:
        if rest:  # an exhausted iterator is released
            company.iterators[it_id] = rest
        rs.set("iteratorRemainingCount", str(len(rest)))
        rs.set("iteratorID", it_id)
    lines = rq.findtext("IncludeLineItems") == "true"
    linked = rq.findtext("IncludeLinkedTxns") == "true"
    records = (company.records[i] for i in page if i in company.records)
    _ok(rs, (render(company, r, lines, linked) for r in records))


def _matching(company: FakeCompany, rq: etree._Element, kind: str) -> list[str]:
    """Ids of the objects the request's filters select, by TimeModified ascending."""
    wanted_ids = {e.text for e in rq.iterchildren("ListID", "TxnID")}
    wanted_names = {e.text for e in rq.iterchildren("FullName", "RefNumber")}
    wanted_exact = {e.text for e in rq.iterchildren("RefNumberCaseSensitive")}
    folded = {n.lower() for n in wanted_names if n}
    by_id = bool(wanted_ids or wanted_names or wanted_exact)
    mdf = rq.find("ModifiedDateRangeFilter")
    src = mdf if mdf is not None else rq
    lo = _instant(company, src.findtext("FromModifiedDate"), end=False)
    hi = _instant(company, src.findtext("ToModifiedDate"), end=True)
    tdf = rq.find("TxnDateRangeFilter")
    t_lo = tdf.findtext("FromTxnDate") if tdf is not None else None
    t_hi = tdf.findtext("ToTxnDate") if tdf is not None else None
    active = rq.findtext("ActiveStatus") or "ActiveOnly"  # every list query's default
    if active not in ACTIVE:
        raise ValueError(f"bad ActiveStatus {active!r}")
    paid = rq.findtext("PaidStatus") or "All"
    entity = rq.findtext("EntityFilter/FullName") or rq.findtext("EntityFilter/ListID")
    out = []
    for rec in company.records.values():
        if rec.kind != kind:
            continue
        f = rec.fields
        if by_id:
            # FullName and RefNumber match case-insensitively, RefNumberCaseSensitive exactly.
            name = f.get("name") if rec.is_list else f.get("ref_number")
            if not (
                rec.object_id in wanted_ids
                or name in wanted_exact
                or (name or "").lower() in folded
            ):
                continue
        else:
            if rec.is_list and active != "All" and rec.is_active != (active == "ActiveOnly"):
                continue
            when = _record_instant(company, rec.time_modified)
            if (lo and when < lo) or (hi and when > hi):  # both ends inclusive
                continue
            if (t_lo and f.get("txn_date", "") < t_lo) or (t_hi and f.get("txn_date", "") > t_hi):
                continue
            if paid != "All" and (open_amount(rec) <= 0) != (paid == "PaidOnly"):
                continue
            party = f.get("vendor") or f.get("customer")
            if entity and entity not in (party, company.list_id("Vendor", party or "")):
                continue
        out.append(rec)
    out.sort(key=lambda r: (r.time_modified, r.object_id))
    return [r.object_id for r in out]


def _instant(company: FakeCompany, text: str | None, *, end: bool) -> dt.datetime | None:
    """A filter time as an aware instant; without an offset it is the company's wall clock."""
    if not text:
        return None
    text = text.strip()
    if _DATE.fullmatch(text):  # a date alone covers the whole day
        text += "T23:59:59" if end else "T00:00:00"
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        return _record_instant(company, value)
    return value


def _record_instant(company: FakeCompany, wall: dt.datetime) -> dt.datetime:
    # The instant QuickBooks' own text names (with its offset, right or wrong).
    return wall.replace(tzinfo=dt.timezone(company.reported_offset(wall)))


def _deleted(company: FakeCompany, rq: etree._Element, rs: etree._Element) -> None:
    txn = rq.tag == "TxnDeletedQueryRq"
    types = {e.text for e in rq.iterchildren("TxnDelType" if txn else "ListDelType")}
    if not types:
        raise ValueError("a deleted query needs at least one type")
    lo = _instant(company, rq.findtext("DeletedDateRangeFilter/FromDeletedDate"), end=False)
    hi = _instant(company, rq.findtext("DeletedDateRangeFilter/ToDeletedDate"), end=True)
    kept = company.now - DELETIONS_KEPT

    def wanted(d: Deletion) -> bool:
        when = _record_instant(company, d.time_deleted)
        return (
            d.kind in types
            and d.time_deleted >= kept
            and not (lo and when < lo)
            and not (hi and when > hi)
        )

    found = sorted((d for d in company.deletions if wanted(d)), key=lambda d: d.time_deleted)
    _ok(rs, (_deleted_ret(company, d, txn) for d in found))


def _deleted_ret(company: FakeCompany, d: Deletion, txn: bool) -> etree._Element:
    prefix = "Txn" if txn else "List"
    return put(
        etree.Element(f"{prefix}DeletedRet"),
        (f"{prefix}DelType", d.kind),
        (f"{prefix}ID", d.object_id),
        ("TimeCreated", company.qb_time(d.time_created)),
        ("TimeDeleted", company.qb_time(d.time_deleted)),
        ("RefNumber" if txn else "FullName", d.ref_number if txn else d.full_name),
    )


__all__ = ["Answerer", "QbxmlRequestError", "answer", "hcp_response", "parse_safe"]
