"""Answering qbXML query requests the way QuickBooks 13 does, from a FakeCompany."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal

from lxml import etree

from soap.qbxml.safe_xml import parse_xml
from soap.simulator.company import WALL, FakeCompany, QbRecord

NO_MATCH = "A query request did not find a matching object in QuickBooks"
REQUEST_KINDS = {
    "VendorQueryRq": "Vendor",
    "AccountQueryRq": "Account",
    "EmployeeQueryRq": "Employee",
    "BillQueryRq": "Bill",
    "PurchaseOrderQueryRq": "PurchaseOrder",
    "BillPaymentCheckQueryRq": "BillPaymentCheck",
    "BillPaymentCreditCardQueryRq": "BillPaymentCreditCard",
    "ReceivePaymentQueryRq": "ReceivePayment",
    "InvoiceQueryRq": "Invoice",
}


class Answerer:
    """Keeps iterator snapshots between requests, like one QuickBooks session."""

    def __init__(self, company: FakeCompany) -> None:
        self.company = company
        self.iterators: dict[str, list[str]] = {}

    def answer(self, request_xml: str) -> str:
        """The QBXML response document for a QBXML request document."""
        root = parse_xml(request_xml)
        rs_root = etree.Element("QBXML")
        msgs = etree.SubElement(rs_root, "QBXMLMsgsRs")
        rq_msgs = root.find("QBXMLMsgsRq")
        for rq in rq_msgs if rq_msgs is not None else []:
            if isinstance(rq.tag, str):
                msgs.append(self._one(rq))
        return '<?xml version="1.0" ?>\n' + etree.tostring(rs_root, encoding="unicode")

    def _one(self, rq: etree._Element) -> etree._Element:
        tag = rq.tag
        rs_tag = tag[:-2] + "Rs" if tag.endswith("Rq") else tag + "Rs"
        rs = etree.Element(rs_tag)
        if rq.get("requestID") is not None:
            rs.set("requestID", rq.get("requestID", ""))
        if tag == "CompanyQueryRq":
            _status(rs, 0)
            ret = etree.SubElement(rs, "CompanyRet")
            _sub(ret, "CompanyName", self.company.name)
            return rs
        if tag in ("TxnDeletedQueryRq", "ListDeletedQueryRq"):
            return self._deleted(rq, rs, tag.startswith("Txn"))
        kind = REQUEST_KINDS.get(tag)
        if kind is None:
            _status(rs, 3000, "Error", f'The request "{tag}" is not supported.')
            return rs
        return self._query(rq, rs, kind)

    def _query(self, rq: etree._Element, rs: etree._Element, kind: str) -> etree._Element:
        iterator = rq.get("iterator")
        max_returned = int(rq.findtext("MaxReturned") or 0) or None
        if iterator == "Continue":
            it_id = rq.get("iteratorID", "")
            if it_id not in self.iterators:
                _status(rs, 3391, "Error",
                        f'Could not find the iterator with iteratorID "{it_id}".')
                return rs
            ids = self.iterators[it_id]
        else:
            ids = self._matching(rq, kind)
            it_id = "{" + str(uuid.uuid4()).upper() + "}" if iterator == "Start" else ""
        page = ids[:max_returned] if (iterator and max_returned) else ids
        rest = ids[len(page):]
        if iterator:
            self.iterators[it_id] = rest
            rs.set("iteratorRemainingCount", str(len(rest)))
            rs.set("iteratorID", it_id)
        records = [self.company.records[i] for i in page if i in self.company.records]
        if not records:
            _status(rs, 1, "Info", NO_MATCH)
            return rs
        _status(rs, 0)
        with_lines = (rq.findtext("IncludeLineItems") or "").lower() == "true"
        for rec in records:
            rs.append(RENDERERS[kind](self.company, rec, with_lines))
        return rs

    def _matching(self, rq: etree._Element, kind: str) -> list[str]:
        since = rq.findtext("FromModifiedDate") or rq.findtext(
            "ModifiedDateRangeFilter/FromModifiedDate"
        )
        until = rq.findtext("ToModifiedDate") or rq.findtext(
            "ModifiedDateRangeFilter/ToModifiedDate"
        )
        active = rq.findtext("ActiveStatus") or "ActiveOnly"
        lo, hi = _wall(since), _wall(until)
        out = []
        for rec in self.company.records.values():
            if rec.kind != kind:
                continue
            vendor_filtered = rec.is_list and kind == "Vendor" and active != "All"
            if vendor_filtered and rec.is_active != (active == "ActiveOnly"):
                continue
            if lo and rec.time_modified < lo:  # FromModifiedDate is inclusive
                continue
            if hi and rec.time_modified > hi:
                continue
            out.append(rec)
        out.sort(key=lambda r: (r.time_modified, r.object_id))
        return [r.object_id for r in out]

    def _deleted(self, rq: etree._Element, rs: etree._Element, txn: bool) -> etree._Element:
        types = {e.text for e in rq.iterchildren("TxnDelType" if txn else "ListDelType")}
        lo = _wall(rq.findtext("DeletedDateRangeFilter/FromDeletedDate"))
        found = [
            d for d in self.company.deletions
            if d.kind in types and (lo is None or d.time_deleted >= lo)
        ]
        if not found:
            _status(rs, 1, "Info", NO_MATCH)
            return rs
        _status(rs, 0)
        for d in found:
            ret = etree.SubElement(rs, "TxnDeletedRet" if txn else "ListDeletedRet")
            _sub(ret, "TxnDelType" if txn else "ListDelType", d.kind)
            _sub(ret, "TxnID" if txn else "ListID", d.object_id)
            _sub(ret, "TimeCreated", self.company.qb_time(d.time_created))
            _sub(ret, "TimeDeleted", self.company.qb_time(d.time_deleted))
            if txn and d.ref_number:
                _sub(ret, "RefNumber", d.ref_number)
            if not txn and d.full_name:
                _sub(ret, "FullName", d.full_name)
        return rs


def answer(company: FakeCompany, request_xml: str) -> str:
    """Answer one request with a fresh iterator table (single-request convenience)."""
    return Answerer(company).answer(request_xml)


def _wall(text: str | None) -> dt.datetime | None:
    # QuickBooks compares in its own local time; the offset (often wrong in DST) is ignored.
    return dt.datetime.strptime(text[:19], WALL) if text else None


def _status(rs: etree._Element, code: int, severity: str = "Info", msg: str = "Status OK") -> None:
    rs.set("statusCode", str(code))
    rs.set("statusSeverity", severity)
    rs.set("statusMessage", msg)


def _sub(parent: etree._Element, tag: str, value: object) -> etree._Element:
    el = etree.SubElement(parent, tag)
    el.text = str(value)
    return el


def _ref(parent: etree._Element, tag: str, name: str | None) -> None:
    if name:
        _sub(etree.SubElement(parent, tag), "FullName", name)


def _core(company: FakeCompany, rec: QbRecord, tag: str) -> etree._Element:
    ret = etree.Element(tag)
    _sub(ret, "ListID" if rec.is_list else "TxnID", rec.object_id)
    _sub(ret, "TimeCreated", company.qb_time(rec.time_created))
    _sub(ret, "TimeModified", company.qb_time(rec.time_modified))
    _sub(ret, "EditSequence", rec.edit_sequence)
    return ret


def _vendor(company: FakeCompany, rec: QbRecord, _lines: bool) -> etree._Element:
    ret = _core(company, rec, "VendorRet")
    _sub(ret, "Name", rec.fields["name"][:41])
    _sub(ret, "IsActive", str(rec.is_active).lower())
    _sub(ret, "CompanyName", rec.fields["name"][:41])
    _sub(ret, "Balance", "0.00")
    return ret


def _account(company: FakeCompany, rec: QbRecord, _lines: bool) -> etree._Element:
    ret = _core(company, rec, "AccountRet")
    _sub(ret, "Name", rec.fields["name"])
    _sub(ret, "FullName", rec.fields["name"])
    _sub(ret, "IsActive", str(rec.is_active).lower())
    _sub(ret, "Sublevel", 0)
    _sub(ret, "AccountType", rec.fields.get("account_type", "Expense"))
    return ret


def _employee(company: FakeCompany, rec: QbRecord, _lines: bool) -> etree._Element:
    ret = _core(company, rec, "EmployeeRet")
    _sub(ret, "Name", rec.fields["name"])
    _sub(ret, "IsActive", str(rec.is_active).lower())
    return ret


def _bill(company: FakeCompany, rec: QbRecord, lines: bool) -> etree._Element:
    f = rec.fields
    ret = _core(company, rec, "BillRet")
    _ref(ret, "VendorRef", f["vendor"])
    _sub(ret, "TxnDate", f["txn_date"])
    _sub(ret, "DueDate", f["due_date"])
    _sub(ret, "AmountDue", f["amount"])
    if f.get("ref_number"):
        _sub(ret, "RefNumber", f["ref_number"])
    _ref(ret, "TermsRef", f.get("terms"))
    if f.get("memo"):
        _sub(ret, "Memo", f["memo"])
    open_amount = Decimal(f["amount"]) - Decimal(f.get("paid", "0"))
    _sub(ret, "IsPaid", str(open_amount <= 0).lower())
    if lines:
        for line in f.get("lines", []):
            el = etree.SubElement(ret, "ExpenseLineRet")
            _sub(el, "TxnLineID", f"{rec.object_id}-L")
            _ref(el, "AccountRef", line.get("account"))
            _sub(el, "Amount", line["amount"])
            if line.get("memo"):
                _sub(el, "Memo", line["memo"])
    _sub(ret, "OpenAmount", f"{open_amount:.2f}")
    return ret


def _purchase_order(company: FakeCompany, rec: QbRecord, lines: bool) -> etree._Element:
    f = rec.fields
    ret = _core(company, rec, "PurchaseOrderRet")
    _ref(ret, "VendorRef", f["vendor"])
    _sub(ret, "TxnDate", f["txn_date"])
    if f.get("ref_number"):
        _sub(ret, "RefNumber", f["ref_number"])
    _sub(ret, "TotalAmount", f["amount"])
    _sub(ret, "IsFullyReceived", "false")
    if lines:
        _item_lines(ret, "PurchaseOrderLineRet", rec)
    return ret


def _bill_payment(company: FakeCompany, rec: QbRecord, _lines: bool) -> etree._Element:
    f = rec.fields
    tag = rec.kind + "Ret"
    ret = _core(company, rec, tag)
    _ref(ret, "PayeeEntityRef", f["vendor"])
    _sub(ret, "TxnDate", f["txn_date"])
    _ref(ret, "BankAccountRef" if rec.kind == "BillPaymentCheck" else "CreditCardAccountRef",
         "Checking" if rec.kind == "BillPaymentCheck" else "Visa")
    _sub(ret, "Amount", f["amount"])
    _applied(ret, f)
    return ret


def _receive_payment(company: FakeCompany, rec: QbRecord, _lines: bool) -> etree._Element:
    f = rec.fields
    ret = _core(company, rec, "ReceivePaymentRet")
    _ref(ret, "CustomerRef", f["customer"])
    _sub(ret, "TxnDate", f["txn_date"])
    _sub(ret, "TotalAmount", f["amount"])
    _applied(ret, f)
    return ret


def _item_lines(ret: etree._Element, tag: str, rec: QbRecord) -> None:
    """Item lines (PurchaseOrderLineRet, InvoiceLineRet): ItemRef, Desc, Quantity, Amount."""
    for line in rec.fields.get("lines", []):
        el = etree.SubElement(ret, tag)
        _sub(el, "TxnLineID", f"{rec.object_id}-L")
        _ref(el, "ItemRef", line.get("item"))
        _sub(el, "Desc", line.get("desc", ""))
        _sub(el, "Quantity", line.get("quantity", "1"))
        _sub(el, "Amount", line["amount"])


def _applied(ret: etree._Element, f: dict) -> None:
    for a in f.get("applied", []):
        el = etree.SubElement(ret, "AppliedToTxnRet")
        _sub(el, "TxnID", a["txn_id"])
        _sub(el, "TxnType", a["type"])
        _sub(el, "TxnDate", a["txn_date"])
        if a.get("ref"):
            _sub(el, "RefNumber", a["ref"])
        _sub(el, "Amount", a["amount"])


def _invoice(company: FakeCompany, rec: QbRecord, lines: bool) -> etree._Element:
    f = rec.fields
    ret = _core(company, rec, "InvoiceRet")
    _ref(ret, "CustomerRef", f["customer"])
    _sub(ret, "TxnDate", f["txn_date"])
    if f.get("ref_number"):
        _sub(ret, "RefNumber", f["ref_number"])
    _sub(ret, "DueDate", f["due_date"])
    paid = Decimal(f.get("paid", "0"))
    _sub(ret, "Subtotal", f["amount"])
    _sub(ret, "AppliedAmount", f"{-paid:.2f}")
    remaining = Decimal(f["amount"]) - paid
    _sub(ret, "BalanceRemaining", f"{remaining:.2f}")
    _sub(ret, "IsPaid", str(remaining <= 0).lower())
    if lines:
        _item_lines(ret, "InvoiceLineRet", rec)
    return ret


RENDERERS: dict[str, Callable[[FakeCompany, QbRecord, bool], etree._Element]] = {
    "Vendor": _vendor,
    "Account": _account,
    "Employee": _employee,
    "Bill": _bill,
    "PurchaseOrder": _purchase_order,
    "BillPaymentCheck": _bill_payment,
    "BillPaymentCreditCard": _bill_payment,
    "ReceivePayment": _receive_payment,
    "Invoice": _invoice,
}
