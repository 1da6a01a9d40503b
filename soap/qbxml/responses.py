"""Reading qbXML answers into plain dataclasses; never raises anything but QbxmlError."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lxml import etree

from soap.qbxml.entities import (
    BY_RESPONSE,
    COMPANY,
    DELETED_BY_RESPONSE,
    LIST_TYPES,
    TXN_TYPES,
    DeletedKind,
    Entity,
)
from soap.qbxml.safe_xml import DEFAULT_MAX_BYTES, MalformedXmlError, parse_xml

__all__ = [
    "STATUS_ITERATOR_GONE",
    "STATUS_NO_MATCH",
    "STATUS_OK",
    "QbObject",
    "QueryResult",
    "parse_company",
    "parse_response",
]

STATUS_OK = 0
STATUS_NO_MATCH = 1  # "did not find a matching object": an empty answer, not an error
STATUS_ITERATOR_GONE = 3391  # the iteratorID expired or is unknown: start over
MAX_MESSAGE = 500
MAX_EXT = 64  # a FileID and an OwnerID are GUIDs (38 characters): longer ones are not QBWC's
MAX_FILE_IDS = 50  # one per web service that was ever added for the company file
LINE_TAGS = (
    "ExpenseLineRet",
    "ItemLineRet",
    "ItemGroupLineRet",
    "PurchaseOrderLineRet",
    "PurchaseOrderLineGroupRet",
    "InvoiceLineRet",
    "InvoiceLineGroupRet",
)
# Amounts as QuickBooks writes them (AMTTYPE, a little more lenient on decimals).
_AMOUNT = re.compile(r"[+-]?\d{1,13}(\.\d{1,5})?", re.ASCII)
# payload key -> element path, read when present (empty values are left out).
COMMON_TXN_FIELDS = {
    "txn_number": "TxnNumber",
    "txn_date": "TxnDate",
    "due_date": "DueDate",
    "memo": "Memo",
    "terms": "TermsRef/FullName",
    "exchange_rate": "ExchangeRate",
}
TYPE_FIELDS: dict[str, dict[str, str]] = {
    "Bill": {
        "amount_due": "AmountDue",
        "open_amount": "OpenAmount",
        "ap_account": "APAccountRef/FullName",
    },
    "PurchaseOrder": {
        "total_amount": "TotalAmount",
        "expected_date": "ExpectedDate",
        "ship_to": "ShipToEntityRef/FullName",
        "vendor_message": "VendorMsg",
    },
    "BillPaymentCheck": {
        "bank_account": "BankAccountRef/FullName",
        "ap_account": "APAccountRef/FullName",
    },
    "BillPaymentCreditCard": {
        "bank_account": "CreditCardAccountRef/FullName",
        "ap_account": "APAccountRef/FullName",
    },
    "ReceivePayment": {
        "total_amount": "TotalAmount",
        "payment_method": "PaymentMethodRef/FullName",
        "deposit_to": "DepositToAccountRef/FullName",
        "unused_payment": "UnusedPayment",
        "unused_credits": "UnusedCredits",
    },
    "Invoice": {
        "subtotal": "Subtotal",
        "sales_tax_total": "SalesTaxTotal",
        "applied_amount": "AppliedAmount",
        "balance_remaining": "BalanceRemaining",
        "open_amount": "BalanceRemaining",
        "po_number": "PONumber",
        "sales_rep": "SalesRepRef/FullName",
    },
    "Vendor": {
        "full_name": "Name",
        "company_name": "CompanyName",
        "balance": "Balance",
        "email": "Email",
        "phone": "Phone",
        "vendor_type": "VendorTypeRef/FullName",
        "terms": "TermsRef/FullName",
    },
    "Account": {
        "full_name": "FullName",
        "account_type": "AccountType",
        "account_number": "AccountNumber",
        "description": "Desc",
        "balance": "Balance",
    },
    # Employees carry personal data (SSN, birth date...): only what a message needs.
    "Employee": {"full_name": "Name", "job_title": "JobTitle"},
}
# Our short name of each answer we read.
KNOWN = {
    "CompanyQueryRs": COMPANY,
    **{tag: kind.key for tag, kind in DELETED_BY_RESPONSE.items()},
    **{tag: entity.key for tag, entity in BY_RESPONSE.items()},
}
BOOL_FIELDS = {
    "is_paid": "IsPaid",
    "is_active": "IsActive",
    "is_fully_received": "IsFullyReceived",
    "is_manually_closed": "IsManuallyClosed",
    "is_pending": "IsPending",
}


@dataclass
class QbObject:
    """One QuickBooks object, or one deletion record, from an answer."""

    entity: str  # our short name; a deletion takes the deleted object's (e.g. "bill")
    object_type: str  # "Bill", "Vendor"...; for a deletion its TxnDelType/ListDelType
    object_id: str  # TxnID or ListID
    edit_sequence: str  # EditSequence; "deleted:" + TimeDeleted for a deletion
    time_created: str | None = None  # raw QuickBooks text, never converted
    time_modified: str | None = None  # for a deletion: TimeDeleted (the watermark to keep)
    time_deleted: str | None = None
    is_deleted: bool = False
    ref_number: str | None = None
    name: str | None = None  # the counterparty, or the list object's name
    amount: str | None = None  # decimal text as QuickBooks sent it, e.g. "1250.00"
    currency: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable details


@dataclass
class QueryResult:
    """The answer to one query of a batch."""

    request_id: str | None
    entity: str | None  # our short name, "company", or None for an answer we do not read
    status_code: int
    status_severity: str  # "Info" | "Warn" | "Error"
    status_message: str
    iterator_id: str | None = None
    iterator_remaining: int | None = None
    objects: list[QbObject] = field(default_factory=list)
    company_name: str | None = None  # from a CompanyQueryRs
    # From a CompanyQueryRs asked with OwnerIDs: OwnerID upper-cased ("{...}") -> FileID.
    file_ids: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Found (0), no match (1) or a warning: the answer can be used."""
        return self.status_code in (STATUS_OK, STATUS_NO_MATCH) or self.status_severity == "Warn"


def parse_response(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[QueryResult]:
    """Every query answer in a QBXML response document, in document order."""
    root = parse_xml(data, max_bytes=max_bytes)
    if root.tag != "QBXML":
        raise MalformedXmlError(f"expected a QBXML document, got <{_tag(root)[:50]}>")
    msgs = root.find("QBXMLMsgsRs")
    if msgs is None:
        raise MalformedXmlError("no QBXMLMsgsRs in the response")
    return [_result(rs) for rs in msgs if isinstance(rs.tag, str)]


def parse_company(results: QueryResult | Iterable[QueryResult]) -> str | None:
    """The company name from a CompanyQueryRs (one result, or the first among many)."""
    if isinstance(results, QueryResult):
        return results.company_name
    return next((r.company_name for r in results if r.company_name), None)


def _result(rs: etree._Element) -> QueryResult:
    tag = rs.tag
    result = QueryResult(
        request_id=rs.get("requestID"),
        entity=KNOWN.get(tag),
        status_code=_int(rs.get("statusCode"), default=-1),
        status_severity=_severity(rs.get("statusSeverity")),
        status_message=(rs.get("statusMessage") or "").strip()[:MAX_MESSAGE],
        iterator_id=rs.get("iteratorID") or None,
        iterator_remaining=_int(rs.get("iteratorRemainingCount"), default=None),
    )
    if not result.ok:
        # "No data will appear after the statusMessage" on an error: read only the status.
        return result
    if tag == "CompanyQueryRs":
        company = rs.find("CompanyRet")
        if company is not None:
            result.company_name = _first(_index(company), ("CompanyName", "LegalCompanyName"))
            result.file_ids = _file_ids(company)
    elif tag in DELETED_BY_RESPONSE:
        kind = DELETED_BY_RESPONSE[tag]
        found = (_deleted(ret, kind) for ret in rs.iterchildren(kind.ret))
        result.objects = [o for o in found if o is not None]
    elif tag in BY_RESPONSE:
        entity = BY_RESPONSE[tag]
        objects = (_object(ret, entity) for ret in rs.iterchildren(entity.ret))
        result.objects = [o for o in objects if o is not None]
    # Any other element is an answer we did not ask for: its status is kept, its data ignored.
    return result


def _file_ids(company: etree._Element) -> dict[str, str]:
    """QBWC's FileID data extensions: OwnerID (upper-cased, braces kept) -> FileID."""
    found: dict[str, str] = {}
    for ext in map(_index, company.iterchildren("DataExtRet")):
        owner, value = _text(ext, "OwnerID") or "", _text(ext, "DataExtValue") or ""
        named = _text(ext, "DataExtName") == "FileID"
        if named and 0 < len(owner) <= MAX_EXT and 0 < len(value) <= MAX_EXT:
            found.setdefault(owner.upper(), value)
            if len(found) == MAX_FILE_IDS:
                break
    return found


def _object(el: etree._Element, entity: Entity) -> QbObject | None:
    ret = _index(el)
    object_id = _text(ret, entity.id_field)
    edit_sequence = _text(ret, "EditSequence")
    if not object_id or not edit_sequence:
        return None  # without identity an object cannot be deduplicated: skip it
    payload: dict[str, Any] = {}
    if not entity.is_list:
        payload.update(_fields(ret, COMMON_TXN_FIELDS))
    payload.update(_fields(ret, TYPE_FIELDS.get(entity.object_type, {})))
    payload.update({k: _bool(_text(ret, path)) for k, path in BOOL_FIELDS.items()})
    if not entity.is_list:
        payload["line_items"] = _lines(el)
        payload["applied_to"] = [_linked(a) for a in el.iterchildren("AppliedToTxnRet")]
        payload["linked_txns"] = [_linked(a) for a in el.iterchildren("LinkedTxn")]
    return QbObject(
        entity=entity.key,
        object_type=entity.object_type,
        object_id=object_id,
        edit_sequence=edit_sequence,
        time_created=_text(ret, "TimeCreated"),
        time_modified=_text(ret, "TimeModified"),
        ref_number=_text(ret, "RefNumber"),
        name=_first(ret, entity.counterparty),
        amount=_amount(ret, entity),
        currency=_text(ret, "CurrencyRef/FullName"),
        payload=_compact(payload),
    )


def _deleted(el: etree._Element, kind: DeletedKind) -> QbObject | None:
    ret = _index(el)
    object_type = _text(ret, kind.type_tag)
    object_id = _text(ret, kind.id_field)
    time_deleted = _text(ret, "TimeDeleted")
    if not object_type or not object_id or not time_deleted:
        return None
    source = (TXN_TYPES if kind.type_tag == "TxnDelType" else LIST_TYPES).get(object_type)
    shown = _text(ret, kind.name_field)  # RefNumber of a transaction, FullName of a list object
    is_txn = kind.type_tag == "TxnDelType"
    return QbObject(
        entity=source.key if source else kind.key,  # deletions go where their type goes
        object_type=object_type,
        object_id=object_id,
        edit_sequence="deleted:" + time_deleted,
        time_created=_text(ret, "TimeCreated"),
        time_modified=time_deleted,
        time_deleted=time_deleted,
        is_deleted=True,
        ref_number=shown if is_txn else None,
        name=None if is_txn else shown,
        payload=_compact(
            {"ref_number" if is_txn else "full_name": shown, "time_deleted": time_deleted}
        ),
    )


def _lines(ret: etree._Element) -> list[dict[str, Any]]:
    lines = []
    for el in ret:
        if el.tag not in LINE_TAGS:
            continue  # group lines are listed once, with their total, not item by item
        line = _index(el)
        lines.append(
            _compact(
                {
                    "description": _text(line, "Desc") or _text(line, "Memo"),
                    "item": _text(line, "ItemRef/FullName") or _text(line, "ItemGroupRef/FullName"),
                    "account": _text(line, "AccountRef/FullName"),
                    "quantity": _text(line, "Quantity"),
                    "amount": _decimal_text(_text(line, "Amount") or _text(line, "TotalAmount")),
                }
            )
        )
    return lines


def _linked(linked: etree._Element) -> dict[str, Any]:
    el = _index(linked)
    return _compact(
        {
            "txn_id": _text(el, "TxnID"),
            "txn_type": _text(el, "TxnType"),
            "ref_number": _text(el, "RefNumber"),
            "txn_date": _text(el, "TxnDate"),
            "link_type": _text(el, "LinkType"),
            "amount": _decimal_text(_text(el, "Amount")),
            "balance_remaining": _decimal_text(_text(el, "BalanceRemaining")),
            "discount_amount": _decimal_text(_text(el, "DiscountAmount")),
        }
    )


def _amount(ret: Index, entity: Entity) -> str | None:
    values = [_decimal_text(_text(ret, path)) for path in entity.amount]
    if not entity.amount_is_sum:
        return next((v for v in values if v is not None), None)
    if values[0] is None:
        return None  # no subtotal: no total to show
    total = sum((Decimal(v) for v in values if v is not None), Decimal(0))
    return f"{total:.2f}"  # at most 13 digits each: exact in Decimal's default context


def _fields(ret: Index, paths: dict[str, str]) -> dict[str, Any]:
    return {key: _text(ret, path) for key, path in paths.items()}


def _first(ret: Index, paths: tuple[str, ...]) -> str | None:
    return next((v for v in (_text(ret, p) for p in paths) if v), None)


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


def _tag(el: etree._Element) -> str:
    return el.tag if isinstance(el.tag, str) else ""


# An element's children by tag (the first of each): an object's thirty-odd fields are
# looked up in one pass over its children instead of one ElementPath search each.
Index = dict[str, etree._Element]


def _index(el: etree._Element) -> Index:
    children: Index = {}
    for child in el:
        if isinstance(child.tag, str):
            children.setdefault(child.tag, child)
    return children


def _text(node: etree._Element | Index, path: str) -> str | None:
    """The stripped text at a simple path ("Tag" or "Tag/Sub"), or None."""
    found: etree._Element | None
    if isinstance(node, dict):
        head, _, rest = path.partition("/")
        found = node.get(head)
        if found is not None and rest:
            found = found.find(rest)
    else:
        found = node.find(path)
    if found is None or not isinstance(found.text, str):
        return None
    return found.text.strip() or None


def _decimal_text(value: str | None) -> str | None:
    return value if value is not None and _AMOUNT.fullmatch(value) else None


def _int(value: str | None, *, default: int | None) -> Any:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:  # also Python's limit on very long digit strings
        return default


def _severity(value: str | None) -> str:
    folded = (value or "").strip().casefold()
    if folded.startswith("info"):
        return "Info"
    if folded.startswith("warn"):
        return "Warn"
    return "Error"  # missing or unknown: do not trust the data


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    return {"true": True, "1": True, "false": False, "0": False}.get(value.casefold())
