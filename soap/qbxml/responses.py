"""Reading qbXML answers into plain dataclasses; never raises anything but QbxmlError.

What is kept of QuickBooks' values follows soap.qbxml.limits: a number that is not of its
qbXML type is dropped, a text over its length is clipped; both are counted
(qbslack_input_capped_total) and logged once per answer, with a short clipped example.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lxml import etree

from app.core import metrics
from soap.qbxml.entities import (
    BY_RESPONSE,
    DELETED_BY_RESPONSE,
    LIST_TYPES,
    TXN_TYPES,
    DeletedKind,
    Entity,
)
from soap.qbxml.fields import BOOL_FIELDS, COMMON_TXN_FIELDS, KNOWN, LINE_TAGS, TYPE_FIELDS
from soap.qbxml.limits import NUMBER_ELEMENTS, clip_text, shown, text_limit
from soap.qbxml.safe_xml import DEFAULT_MAX_BYTES, MalformedXmlError, parse_xml

log = logging.getLogger(__name__)

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
    reader = _Reader()
    results = [reader.result(rs) for rs in msgs if isinstance(rs.tag, str)]
    reader.report()
    return results


def parse_company(results: QueryResult | Iterable[QueryResult]) -> str | None:
    """The company name from a CompanyQueryRs (one result, or the first among many)."""
    if isinstance(results, QueryResult):
        return results.company_name
    return next((r.company_name for r in results if r.company_name), None)


# An element's children by tag (the first of each): an object's thirty-odd fields are
# looked up in one pass over its children instead of one ElementPath search each.
Index = dict[str, etree._Element]


class _Reader:
    """Reads the answers of one response, counting what it drops or clips of their values."""

    def __init__(self) -> None:
        self.bad_numbers = 0
        self.bad_example = ""
        self.clipped = 0
        self.clipped_example = ""

    def report(self) -> None:
        """Count and log (once for the response) the numbers dropped and texts clipped."""
        if self.bad_numbers:
            metrics.record_input_capped("number", self.bad_numbers)
            log.warning(
                "dropped %d number(s) of a QuickBooks answer that are not of their qbXML "
                "type (first: %s)",
                self.bad_numbers,
                self.bad_example,
            )
        if self.clipped:
            metrics.record_input_capped("text", self.clipped)
            log.warning(
                "clipped %d over-long text(s) of a QuickBooks answer (first: %s)",
                self.clipped,
                self.clipped_example,
            )

    def result(self, rs: etree._Element) -> QueryResult:
        tag = rs.tag
        result = QueryResult(
            request_id=(rs.get("requestID") or "")[:MAX_MESSAGE] or None,
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
                result.company_name = self.first(
                    _index(company), ("CompanyName", "LegalCompanyName")
                )
                result.file_ids = self.file_ids(company)
        elif tag in DELETED_BY_RESPONSE:
            kind = DELETED_BY_RESPONSE[tag]
            found = (self.deleted(ret, kind) for ret in rs.iterchildren(kind.ret))
            result.objects = [o for o in found if o is not None]
        elif tag in BY_RESPONSE:
            entity = BY_RESPONSE[tag]
            objects = (self.object(ret, entity) for ret in rs.iterchildren(entity.ret))
            result.objects = [o for o in objects if o is not None]
        # Any other element is an answer we did not ask for: its status is kept, its data ignored.
        return result

    def file_ids(self, company: etree._Element) -> dict[str, str]:
        """QBWC's FileID data extensions: OwnerID (upper-cased, braces kept) -> FileID."""
        found: dict[str, str] = {}
        for ext in map(_index, company.iterchildren("DataExtRet")):
            owner, value = _raw(ext, "OwnerID") or "", _raw(ext, "DataExtValue") or ""
            named = _raw(ext, "DataExtName") == "FileID"
            if named and 0 < len(owner) <= MAX_EXT and 0 < len(value) <= MAX_EXT:
                found.setdefault(owner.upper(), value)
                if len(found) == MAX_FILE_IDS:
                    break
        return found

    def object(self, el: etree._Element, entity: Entity) -> QbObject | None:
        ret = _index(el)
        object_id = self.text(ret, entity.id_field)
        edit_sequence = self.text(ret, "EditSequence")
        if not object_id or not edit_sequence:
            return None  # without identity an object cannot be deduplicated: skip it
        payload: dict[str, Any] = {}
        if not entity.is_list:
            payload.update(self.fields(ret, COMMON_TXN_FIELDS))
        payload.update(self.fields(ret, TYPE_FIELDS.get(entity.object_type, {})))
        payload.update({k: _bool(_raw(ret, path)) for k, path in BOOL_FIELDS.items()})
        if not entity.is_list:
            payload["line_items"] = self.lines(el)
            payload["applied_to"] = [self.linked(a) for a in el.iterchildren("AppliedToTxnRet")]
            payload["linked_txns"] = [self.linked(a) for a in el.iterchildren("LinkedTxn")]
        return QbObject(
            entity=entity.key,
            object_type=entity.object_type,
            object_id=object_id,
            edit_sequence=edit_sequence,
            time_created=self.text(ret, "TimeCreated"),
            time_modified=self.text(ret, "TimeModified"),
            ref_number=self.text(ret, "RefNumber"),
            name=self.first(ret, entity.counterparty),
            amount=self.amount(ret, entity),
            currency=self.text(ret, "CurrencyRef/FullName"),
            payload=_compact(payload),
        )

    def deleted(self, el: etree._Element, kind: DeletedKind) -> QbObject | None:
        ret = _index(el)
        object_type = self.text(ret, kind.type_tag)
        object_id = self.text(ret, kind.id_field)
        time_deleted = self.text(ret, "TimeDeleted")
        if not object_type or not object_id or not time_deleted:
            return None
        source = (TXN_TYPES if kind.type_tag == "TxnDelType" else LIST_TYPES).get(object_type)
        # RefNumber of a transaction, FullName of a list object.
        shown_as = self.text(ret, kind.name_field)
        is_txn = kind.type_tag == "TxnDelType"
        return QbObject(
            entity=source.key if source else kind.key,  # deletions go where their type goes
            object_type=object_type,
            object_id=object_id,
            edit_sequence="deleted:" + time_deleted,
            time_created=self.text(ret, "TimeCreated"),
            time_modified=time_deleted,
            time_deleted=time_deleted,
            is_deleted=True,
            ref_number=shown_as if is_txn else None,
            name=None if is_txn else shown_as,
            payload=_compact(
                {"ref_number" if is_txn else "full_name": shown_as, "time_deleted": time_deleted}
            ),
        )

    def lines(self, ret: etree._Element) -> list[dict[str, Any]]:
        lines = []
        for el in ret:
            if el.tag not in LINE_TAGS:
                continue  # group lines are listed once, with their total, not item by item
            line = _index(el)
            lines.append(
                _compact(
                    {
                        "description": self.text(line, "Desc") or self.text(line, "Memo"),
                        "item": self.text(line, "ItemRef/FullName")
                        or self.text(line, "ItemGroupRef/FullName"),
                        "account": self.text(line, "AccountRef/FullName"),
                        "quantity": self.text(line, "Quantity"),
                        "amount": self.text(line, "Amount") or self.text(line, "TotalAmount"),
                    }
                )
            )
        return lines

    def linked(self, linked: etree._Element) -> dict[str, Any]:
        el = _index(linked)
        return _compact(
            {
                "txn_id": self.text(el, "TxnID"),
                "txn_type": self.text(el, "TxnType"),
                "ref_number": self.text(el, "RefNumber"),
                "txn_date": self.text(el, "TxnDate"),
                "link_type": self.text(el, "LinkType"),
                "amount": self.text(el, "Amount"),
                "balance_remaining": self.text(el, "BalanceRemaining"),
                "discount_amount": self.text(el, "DiscountAmount"),
            }
        )

    def amount(self, ret: Index, entity: Entity) -> str | None:
        values = [self.text(ret, path) for path in entity.amount]
        if not entity.amount_is_sum:
            return next((v for v in values if v is not None), None)
        if values[0] is None:
            return None  # no subtotal: no total to show
        total = sum((Decimal(v) for v in values if v is not None), Decimal(0))
        return f"{total:.2f}"  # AMTTYPE values (15 digits at most): exact in Decimal

    def fields(self, ret: Index, paths: dict[str, str]) -> dict[str, Any]:
        return {key: self.text(ret, path) for key, path in paths.items()}

    def first(self, ret: Index, paths: tuple[str, ...]) -> str | None:
        return next((v for v in (self.text(ret, p) for p in paths) if v), None)

    def text(self, node: Index, path: str) -> str | None:
        """The value at a simple path: a number of its qbXML type, or a clipped text."""
        value = _raw(node, path)
        if value is None:
            return None
        tag = path.rpartition("/")[2]
        number = NUMBER_ELEMENTS.get(tag)
        if number is not None:
            if number.check(value):
                return value
            self.bad_numbers += 1
            self.bad_example = self.bad_example or f"{tag} {shown(value)}"
            return None
        limit = text_limit(tag)
        if len(value) > limit:
            self.clipped += 1
            self.clipped_example = self.clipped_example or f"{tag} of {len(value)} characters"
            return clip_text(value, limit)
        return value


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "", [], {})}


def _tag(el: etree._Element) -> str:
    return el.tag if isinstance(el.tag, str) else ""


def _index(el: etree._Element) -> Index:
    children: Index = {}
    for child in el:
        if isinstance(child.tag, str):
            children.setdefault(child.tag, child)
    return children


def _raw(node: Index, path: str) -> str | None:
    """The stripped text at a simple path ("Tag" or "Tag/Sub"), as QuickBooks sent it, or None."""
    head, _, rest = path.partition("/")
    found = node.get(head)
    if found is not None and rest:
        found = found.find(rest)
    if found is None or not isinstance(found.text, str):
        return None
    return found.text.strip() or None


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
