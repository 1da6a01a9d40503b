"""Reading qbXML answers into plain dataclasses; never raises anything but QbxmlError."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from soap.qbxml.entities import BY_RESPONSE, ENTITIES, LIST_TYPES, TXN_TYPES, Entity
from soap.qbxml.safe_xml import DEFAULT_MAX_BYTES, MalformedXmlError, parse_xml

STATUS_OK = 0
STATUS_NO_MATCH = 1
STATUS_ITERATOR_GONE = 3391
LINE_TAGS = (
    "ExpenseLineRet", "ItemLineRet", "ItemGroupLineRet", "PurchaseOrderLineRet",
    "PurchaseOrderLineGroupRet", "InvoiceLineRet", "InvoiceLineGroupRet",
)
# What "the amount" of each type is: what a bookkeeper would call its total.
AMOUNT_FIELDS = {
    "Bill": ("AmountDue",),
    "PurchaseOrder": ("TotalAmount",),
    "BillPaymentCheck": ("Amount",),
    "BillPaymentCreditCard": ("Amount",),
    "ReceivePayment": ("TotalAmount",),
}


@dataclass
class QbObject:
    """One QuickBooks object (or deletion record) from an answer."""

    entity: str
    object_type: str
    object_id: str
    edit_sequence: str
    time_created: str | None = None
    time_modified: str | None = None
    time_deleted: str | None = None
    is_deleted: bool = False
    ref_number: str | None = None
    name: str | None = None
    amount: str | None = None
    currency: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class QueryResult:
    """The answer to one query of a batch."""

    request_id: str | None
    entity: str | None
    status_code: int
    status_severity: str
    status_message: str
    iterator_id: str | None = None
    iterator_remaining: int | None = None
    objects: list[QbObject] = field(default_factory=list)
    company_name: str | None = None

    @property
    def ok(self) -> bool:
        """Status 0 (found) or 1 (no match) or a warning: the data can be used."""
        return self.status_code in (STATUS_OK, STATUS_NO_MATCH) or self.status_severity == "Warn"


def parse_response(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[QueryResult]:
    """Every query answer in a QBXML response document."""
    root = parse_xml(data, max_bytes=max_bytes)
    if root.tag != "QBXML":
        raise MalformedXmlError(f"expected a QBXML document, got <{_tag(root)}>")
    msgs = root.find("QBXMLMsgsRs")
    if msgs is None:
        raise MalformedXmlError("no QBXMLMsgsRs in the response")
    results = []
    for rs in msgs:
        if isinstance(rs.tag, str):
            results.append(_result(rs))
    return results


def _result(rs: etree._Element) -> QueryResult:
    tag = _tag(rs)
    result = QueryResult(
        request_id=rs.get("requestID"),
        entity=None,
        status_code=_int(rs.get("statusCode"), default=-1),
        status_severity=rs.get("statusSeverity") or "Error",
        status_message=(rs.get("statusMessage") or "")[:500],
        iterator_id=rs.get("iteratorID"),
        iterator_remaining=_int(rs.get("iteratorRemainingCount"), default=None),
    )
    if tag == "CompanyQueryRs":
        result.entity = "company"
        result.company_name = _text(rs, "CompanyRet/CompanyName")
        return result
    if tag in ("TxnDeletedQueryRs", "ListDeletedQueryRs"):
        result.entity = "txn_deleted" if tag.startswith("Txn") else "list_deleted"
        for ret in rs:
            obj = _deleted(ret, result.entity)
            if obj is not None:
                result.objects.append(obj)
        return result
    entity = BY_RESPONSE.get(tag)
    if entity is None:
        return result  # an answer we did not ask for: keep its status, ignore its data
    result.entity = entity.key
    for ret in rs.iterchildren(entity.ret):
        obj = _object(ret, entity)
        if obj is not None:
            result.objects.append(obj)
    return result


def _object(ret: etree._Element, entity: Entity) -> QbObject | None:
    object_id = _text(ret, entity.id_field)
    edit_sequence = _text(ret, "EditSequence")
    if not object_id or not edit_sequence:
        return None  # without identity an object cannot be deduplicated: skip it
    payload: dict[str, Any] = {
        "txn_date": _text(ret, "TxnDate"),
        "due_date": _text(ret, "DueDate"),
        "memo": _text(ret, "Memo"),
        "terms": _text(ret, "TermsRef/FullName"),
        "txn_number": _text(ret, "TxnNumber"),
    }
    if entity.is_list:
        payload.update(
            is_active=_bool(_text(ret, "IsActive")),
            balance=_text(ret, "Balance"),
            company_name=_text(ret, "CompanyName"),
            account_type=_text(ret, "AccountType"),
            account_number=_text(ret, "AccountNumber"),
            email=_text(ret, "Email"),
            phone=_text(ret, "Phone"),
        )
    else:
        payload.update(
            is_paid=_bool(_text(ret, "IsPaid")),
            open_amount=_text(ret, "OpenAmount") or _text(ret, "BalanceRemaining"),
            balance_remaining=_text(ret, "BalanceRemaining"),
            unused_payment=_text(ret, "UnusedPayment"),
            payment_method=_text(ret, "PaymentMethodRef/FullName"),
            bank_account=_text(ret, "BankAccountRef/FullName")
            or _text(ret, "CreditCardAccountRef/FullName")
            or _text(ret, "DepositToAccountRef/FullName"),
            is_fully_received=_bool(_text(ret, "IsFullyReceived")),
            line_items=_lines(ret),
            applied_to=[_applied(a) for a in ret.iterchildren("AppliedToTxnRet")],
            linked_txns=[_applied(a) for a in ret.iterchildren("LinkedTxn")],
        )
    currency = _text(ret, "CurrencyRef/FullName")
    return QbObject(
        entity=entity.key,
        object_type=entity.object_type,
        object_id=object_id,
        edit_sequence=edit_sequence,
        time_created=_text(ret, "TimeCreated"),
        time_modified=_text(ret, "TimeModified"),
        ref_number=_text(ret, "RefNumber"),
        name=_text(ret, "/".join(entity.counterparty)),
        amount=_amount(ret, entity),
        currency=currency,
        payload={k: v for k, v in payload.items() if v not in (None, [], "")},
    )


def _deleted(ret: etree._Element, key: str) -> QbObject | None:
    if not isinstance(ret.tag, str):
        return None
    is_txn = key == "txn_deleted"
    if _tag(ret) != ("TxnDeletedRet" if is_txn else "ListDeletedRet"):
        return None
    object_type = _text(ret, "TxnDelType" if is_txn else "ListDelType")
    object_id = _text(ret, "TxnID" if is_txn else "ListID")
    time_deleted = _text(ret, "TimeDeleted")
    if not object_type or not object_id or not time_deleted:
        return None
    source = (TXN_TYPES if is_txn else LIST_TYPES).get(object_type)
    name = _text(ret, "FullName")
    return QbObject(
        entity=source.key if source else key,
        object_type=object_type,
        object_id=object_id,
        edit_sequence="deleted:" + time_deleted,
        time_created=_text(ret, "TimeCreated"),
        time_modified=time_deleted,
        time_deleted=time_deleted,
        is_deleted=True,
        ref_number=_text(ret, "RefNumber"),
        name=name,
        payload={k: v for k, v in {"full_name": name}.items() if v},
    )


def _lines(ret: etree._Element) -> list[dict[str, Any]]:
    lines = []
    for line in ret:
        if not isinstance(line.tag, str) or line.tag not in LINE_TAGS:
            continue
        item = {
            "description": _text(line, "Desc") or _text(line, "Memo"),
            "item": _text(line, "ItemRef/FullName") or _text(line, "ItemGroupRef/FullName"),
            "account": _text(line, "AccountRef/FullName"),
            "quantity": _text(line, "Quantity"),
            "amount": _text(line, "Amount") or _text(line, "TotalAmount"),
        }
        lines.append({k: v for k, v in item.items() if v})
    return lines


def _applied(el: etree._Element) -> dict[str, Any]:
    item = {
        "txn_id": _text(el, "TxnID"),
        "txn_type": _text(el, "TxnType"),
        "ref_number": _text(el, "RefNumber"),
        "txn_date": _text(el, "TxnDate"),
        "amount": _text(el, "Amount"),
        "balance_remaining": _text(el, "BalanceRemaining"),
    }
    return {k: v for k, v in item.items() if v}


def _amount(ret: etree._Element, entity: Entity) -> str | None:
    if entity.object_type == "Invoice":
        # An invoice's total is its subtotal plus sales tax.
        subtotal = _decimal(_text(ret, "Subtotal"))
        if subtotal is None:
            return None
        tax = _decimal(_text(ret, "SalesTaxTotal")) or Decimal(0)
        return str((subtotal + tax).quantize(Decimal("0.01")))
    for name in AMOUNT_FIELDS.get(entity.object_type, ()):
        value = _text(ret, name)
        if value is not None and _decimal(value) is not None:
            return value
    return None


def _tag(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _text(el: etree._Element, path: str) -> str | None:
    found = el.find(path)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def _int(value: str | None, *, default: int | None) -> Any:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        result = Decimal(value)
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _bool(value: str | None) -> bool | None:
    return None if value is None else value.strip().lower() == "true"


def parse_company(results: list[QueryResult]) -> str | None:
    """The company name from a CompanyQueryRs among the results, if any."""
    return next((r.company_name for r in results if r.company_name), None)


__all__ = ["ENTITIES", "QbObject", "QueryResult", "parse_company", "parse_response"]
