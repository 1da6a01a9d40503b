"""Rendering FakeCompany records as qbXML Ret elements, in qbxml130's element order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, NamedTuple

from lxml import etree

from soap.simulator.company import FakeCompany
from soap.simulator.records import QbRecord


class Ref(NamedTuple):
    """A reference element (VendorRef, AccountRef, ...): FullName, and ListID when known."""

    name: str | None
    list_id: str | None = None


Row = tuple[str, object]  # (tag, value): None and "" are left out, as QuickBooks does


def put(parent: etree._Element, *rows: Row) -> etree._Element:
    for tag, value in rows:
        if value is None or value == "" or (isinstance(value, Ref) and not value.name):
            continue
        el = etree.SubElement(parent, tag)
        if isinstance(value, Ref):
            put(el, ("ListID", value.list_id), ("FullName", value.name))
        else:
            el.text = str(value).lower() if isinstance(value, bool) else str(value)
    return parent


VERSIONS = (
    "1.0",
    "1.1",
    "2.0",
    "2.1",
    "3.0",
    "4.0",
    "4.1",
    "5.0",
    "6.0",
    "7.0",
    "8.0",
    "9.0",
    "10.0",
    "11.0",
    "12.0",
    "13.0",
)


def host_ret() -> etree._Element:
    return put(
        etree.Element("HostRet"),
        ("ProductName", "QuickBooks Pro 2014"),
        ("MajorVersion", 24),
        ("MinorVersion", 0),
        ("Country", "US"),
        *(("SupportedQBXMLVersion", v) for v in VERSIONS),
        ("IsAutomaticLogin", False),
        ("QBFileMode", "SingleUser"),
    )


def company_ret(company: FakeCompany, owner_ids: Iterable[str] = ()) -> etree._Element:
    """CompanyRet; with OwnerIDs, their private data extensions (QBWC's FileID) at its end."""
    ret = put(
        etree.Element("CompanyRet"),
        ("IsSampleCompany", False),
        ("CompanyName", company.name),
        ("LegalCompanyName", company.name),
    )
    owners = {o.strip().upper() for o in owner_ids}
    for (owner, name), value in sorted(company.data_ext.items()):
        if owner in owners:
            ret.append(
                put(
                    etree.Element("DataExtRet"),
                    ("OwnerID", owner),
                    ("DataExtName", name),
                    ("DataExtType", "STR255TYPE"),
                    ("DataExtValue", value),
                )
            )
    return ret


def _core(c: FakeCompany, rec: QbRecord, *rows: Row) -> etree._Element:
    return put(
        etree.Element(rec.kind + "Ret"),
        ("ListID" if rec.is_list else "TxnID", rec.object_id),
        ("TimeCreated", c.qb_time(rec.time_created)),
        ("TimeModified", c.qb_time(rec.time_modified)),
        ("EditSequence", rec.edit_sequence),
        ("TxnNumber", rec.txn_number),
        *rows,
    )


def open_amount(rec: QbRecord) -> Decimal:
    return Decimal(rec.fields["amount"]) - Decimal(rec.fields.get("paid", "0"))


def _vendor_ref(c: FakeCompany, name: str) -> Ref:
    return Ref(name, c.list_id("Vendor", name))


def _list_ret(c: FakeCompany, rec: QbRecord, _lines: bool, _linked: bool) -> etree._Element:
    f, name, active = rec.fields, rec.fields["name"], ("IsActive", rec.is_active)
    if rec.kind == "Vendor":
        return _core(
            c,
            rec,
            ("Name", name[:41]),
            active,
            ("CompanyName", f.get("company_name") or name[:41]),
            ("Email", f.get("email")),
            ("TermsRef", Ref(f.get("terms"))),
            ("Balance", f.get("balance", "0.00")),
        )
    if rec.kind == "Account":
        return _core(
            c,
            rec,
            ("Name", name),
            ("FullName", name),
            active,
            ("Sublevel", 0),
            ("AccountType", f.get("account_type", "Expense")),
            ("AccountNumber", f.get("number")),
            ("Balance", f.get("balance", "0.00")),
        )
    return _core(c, rec, ("Name", name), active, ("Email", f.get("email")))


def _linked_txns(ret: etree._Element, rec: QbRecord) -> None:
    for x in rec.fields.get("links", []):
        put(
            etree.SubElement(ret, "LinkedTxn"),
            ("TxnID", x["txn_id"]),
            ("TxnType", x["type"]),
            ("TxnDate", x["txn_date"]),
            ("RefNumber", x.get("ref")),
            ("LinkType", "AMTTYPE"),
            ("Amount", x["amount"]),
        )


def _item_line(ret: etree._Element, tag: str, line: dict[str, Any], rate_tag: str) -> None:
    put(
        etree.SubElement(ret, tag),
        ("TxnLineID", line["id"]),
        ("ItemRef", Ref(line.get("item"))),
        ("Desc", line.get("desc")),
        ("Quantity", line.get("quantity")),
        (rate_tag, line.get("rate")),
        ("Amount", line["amount"]),
    )


def _bill(c: FakeCompany, rec: QbRecord, lines: bool, linked: bool) -> etree._Element:
    f = rec.fields
    ret = _core(
        c,
        rec,
        ("VendorRef", _vendor_ref(c, f["vendor"])),
        ("APAccountRef", Ref("Accounts Payable")),
        ("TxnDate", f["txn_date"]),
        ("DueDate", f.get("due_date")),
        ("AmountDue", f["amount"]),
        ("RefNumber", f.get("ref_number")),
        ("TermsRef", Ref(f.get("terms"))),
        ("Memo", f.get("memo")),
        ("IsPaid", open_amount(rec) <= 0),
    )
    if linked:
        _linked_txns(ret, rec)
    if lines:
        for line in (x for x in f.get("lines", []) if "item" not in x):
            account = line.get("account")
            put(
                etree.SubElement(ret, "ExpenseLineRet"),
                ("TxnLineID", line["id"]),
                ("AccountRef", Ref(account, c.list_id("Account", account or ""))),
                ("Amount", line["amount"]),
                ("Memo", line.get("memo")),
            )
        for line in (x for x in f.get("lines", []) if "item" in x):
            _item_line(ret, "ItemLineRet", line, "Cost")
    return put(ret, ("OpenAmount", f"{open_amount(rec):.2f}"))


def _purchase_order(c: FakeCompany, rec: QbRecord, lines: bool, linked: bool) -> etree._Element:
    f = rec.fields
    ret = _core(
        c,
        rec,
        ("VendorRef", _vendor_ref(c, f["vendor"])),
        ("TxnDate", f["txn_date"]),
        ("RefNumber", f.get("ref_number")),
        ("TotalAmount", f["amount"]),
        ("IsManuallyClosed", bool(f.get("closed", False))),
        ("IsFullyReceived", bool(f.get("received", False))),
        ("Memo", f.get("memo")),
    )
    if linked:
        _linked_txns(ret, rec)
    for line in f.get("lines", []) if lines else []:
        _item_line(ret, "PurchaseOrderLineRet", line, "Rate")
    return ret


def _applied(ret: etree._Element, f: dict[str, Any]) -> etree._Element:
    # QuickBooks returns what a payment paid even without IncludeLineItems.
    for a in f.get("applied", []):
        put(
            etree.SubElement(ret, "AppliedToTxnRet"),
            ("TxnID", a["txn_id"]),
            ("TxnType", a["type"]),
            ("TxnDate", a.get("txn_date")),
            ("RefNumber", a.get("ref")),
            ("BalanceRemaining", a.get("balance")),
            ("Amount", a["amount"]),
        )
    return ret


def _bill_payment(c: FakeCompany, rec: QbRecord, _lines: bool, _linked: bool) -> etree._Element:
    f, check = rec.fields, rec.kind == "BillPaymentCheck"
    return _applied(
        _core(
            c,
            rec,
            ("PayeeEntityRef", _vendor_ref(c, f["vendor"])),
            ("APAccountRef", Ref("Accounts Payable")),
            ("TxnDate", f["txn_date"]),
            (
                "BankAccountRef" if check else "CreditCardAccountRef",
                Ref(f.get("account") or ("Checking" if check else "Visa")),
            ),
            ("Amount", f["amount"]),
            ("RefNumber", f.get("ref_number")),
            ("Memo", f.get("memo")),
            ("IsToBePrinted", False if check else None),
        ),
        f,
    )


def _receive_payment(c: FakeCompany, rec: QbRecord, _lines: bool, _linked: bool) -> etree._Element:
    f = rec.fields
    return _applied(
        _core(
            c,
            rec,
            ("CustomerRef", Ref(f["customer"])),
            ("ARAccountRef", Ref("Accounts Receivable")),
            ("TxnDate", f["txn_date"]),
            ("RefNumber", f.get("ref_number")),
            ("TotalAmount", f["amount"]),
            ("PaymentMethodRef", Ref(f.get("method", "Check"))),
            ("Memo", f.get("memo")),
            ("DepositToAccountRef", Ref("Undeposited Funds")),
            ("UnusedPayment", "0.00"),
            ("UnusedCredits", "0.00"),
        ),
        f,
    )


def _invoice(c: FakeCompany, rec: QbRecord, lines: bool, linked: bool) -> etree._Element:
    f = rec.fields
    ret = _core(
        c,
        rec,
        ("CustomerRef", Ref(f["customer"])),
        ("ARAccountRef", Ref("Accounts Receivable")),
        ("TxnDate", f["txn_date"]),
        ("RefNumber", f.get("ref_number")),
        ("IsPending", False),
        ("TermsRef", Ref(f.get("terms", "Net 30"))),
        ("DueDate", f.get("due_date")),
        ("Subtotal", f["amount"]),
        ("SalesTaxPercentage", "0.00"),
        ("SalesTaxTotal", "0.00"),
        ("AppliedAmount", f"{-Decimal(f.get('paid', '0')):.2f}"),
        ("BalanceRemaining", f"{open_amount(rec):.2f}"),
        ("Memo", f.get("memo")),
        ("IsPaid", open_amount(rec) <= 0),
    )
    if linked:
        _linked_txns(ret, rec)
    for line in f.get("lines", []) if lines else []:
        _item_line(ret, "InvoiceLineRet", line, "Rate")
    return ret


RENDERERS: dict[str, Callable[[FakeCompany, QbRecord, bool, bool], etree._Element]] = {
    "Vendor": _list_ret,
    "Account": _list_ret,
    "Employee": _list_ret,
    "Bill": _bill,
    "PurchaseOrder": _purchase_order,
    "BillPaymentCheck": _bill_payment,
    "BillPaymentCreditCard": _bill_payment,
    "ReceivePayment": _receive_payment,
    "Invoice": _invoice,
}


def render(c: FakeCompany, rec: QbRecord, lines: bool, linked: bool) -> etree._Element:
    """A record's Ret element; its fields' "raw" {tag: text} then replace the text of the first
    element of that tag (added at the end when there is none): hostile or broken values, as
    a damaged company file or a hostile client would send them."""
    ret = RENDERERS[rec.kind](c, rec, lines, linked)
    for tag, text in (rec.fields.get("raw") or {}).items():
        found = next(ret.iter(tag), None)
        if found is None:
            found = etree.SubElement(ret, tag)
        found.text = str(text)
    return ret
