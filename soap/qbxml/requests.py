"""Building qbXML query requests (valid against qbxmlops130.xsd, element order included)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from soap.qbxml.entities import ENTITIES, LIST_DELETED, TXN_DELETED

MAX_RETURNED = 100
# Iterators arrived in qbXML 8.0 (QuickBooks 2009); everything we send exists there.
MIN_VERSION = (8, 0)
PREFERRED_VERSION = (13, 0)
TXN_DELETE_TYPES = (
    "Bill", "BillPaymentCheck", "BillPaymentCreditCard", "Invoice", "PurchaseOrder",
    "ReceivePayment",
)
LIST_DELETE_TYPES = ("Vendor",)


@dataclass(frozen=True)
class Query:
    """One query of a batch: an entity, its window and iterator position."""

    entity: str
    request_id: str
    from_modified: str | None = None  # QuickBooks date-time text, inclusive
    iterator: str | None = None  # "Start" | "Continue" | None
    iterator_id: str | None = None
    max_returned: int = MAX_RETURNED
    deleted_types: tuple[str, ...] = ()


def supported_version(major: int, minor: int) -> str | None:
    """The qbXML version to speak with a QuickBooks that supports major.minor, or None."""
    if (major, minor) >= PREFERRED_VERSION:
        return "{}.{}".format(*PREFERRED_VERSION)
    if (major, minor) >= MIN_VERSION:
        return f"{major}.{minor}"
    return None


def build_request(
    queries: Sequence[Query], *, version: str = "13.0", on_error: str = "continueOnError"
) -> str:
    """A whole qbXML document holding one query element per Query."""
    if not queries:
        raise ValueError("a request needs at least one query")
    root = etree.Element("QBXML")
    msgs = etree.SubElement(root, "QBXMLMsgsRq", onError=on_error)
    for query in queries:
        msgs.append(_query_element(query))
    return _document(root, version)


def build_company_query(request_id: str = "hcp") -> etree._Element:
    """A CompanyQueryRq element (the company's name on the first cycle)."""
    el = etree.Element("CompanyQueryRq", requestID=request_id)
    etree.SubElement(el, "IncludeRetElement").text = "CompanyName"
    return el


def build_batch(
    queries: Sequence[Query], *, version: str = "13.0", with_company: bool = False
) -> str:
    """A batch of queries, optionally led by a CompanyQueryRq."""
    root = etree.Element("QBXML")
    msgs = etree.SubElement(root, "QBXMLMsgsRq", onError="continueOnError")
    if with_company:
        msgs.append(build_company_query())
    for query in queries:
        msgs.append(_query_element(query))
    if not len(msgs):
        raise ValueError("a request needs at least one query")
    return _document(root, version)


def _document(root: etree._Element, version: str) -> str:
    body = etree.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="{version}"?>\n{body}'


def _query_element(q: Query) -> etree._Element:
    if q.entity == TXN_DELETED:
        return _deleted(q, "TxnDeletedQueryRq", "TxnDelType", q.deleted_types or TXN_DELETE_TYPES)
    if q.entity == LIST_DELETED:
        return _deleted(
            q, "ListDeletedQueryRq", "ListDelType", q.deleted_types or LIST_DELETE_TYPES
        )
    entity = ENTITIES.get(q.entity)
    if entity is None:
        raise ValueError(f"unknown entity {q.entity!r}")
    if q.iterator is not None and not entity.iterator:
        raise ValueError(f"{entity.request} does not support iterators")
    if q.iterator not in (None, "Start", "Continue"):
        raise ValueError(f"bad iterator {q.iterator!r}")
    if q.iterator == "Continue" and not q.iterator_id:
        raise ValueError("iterator Continue needs an iteratorID")
    if not 1 <= q.max_returned <= MAX_RETURNED:
        raise ValueError(f"MaxReturned must be 1..{MAX_RETURNED}")
    el = etree.Element(entity.request, requestID=q.request_id)
    if q.iterator:
        el.set("iterator", q.iterator)
        if q.iterator == "Continue":
            el.set("iteratorID", q.iterator_id or "")
    if entity.is_list:
        # ListFilter order: MaxReturned, ActiveStatus, FromModifiedDate.
        if q.iterator:
            _text(el, "MaxReturned", str(q.max_returned))
        _text(el, "ActiveStatus", "All")  # VendorQueryRq defaults to ActiveOnly
        if q.from_modified:
            _text(el, "FromModifiedDate", q.from_modified)
    else:
        # TxnFilter order: MaxReturned, ModifiedDateRangeFilter; then the Include flags.
        if q.iterator:
            _text(el, "MaxReturned", str(q.max_returned))
        if q.from_modified:
            rng = etree.SubElement(el, "ModifiedDateRangeFilter")
            _text(rng, "FromModifiedDate", q.from_modified)
        if entity.line_items:
            _text(el, "IncludeLineItems", "true")
        if entity.linked_txns:
            _text(el, "IncludeLinkedTxns", "true")
    return el


def _deleted(q: Query, tag: str, type_tag: str, types: Sequence[str]) -> etree._Element:
    if q.iterator is not None:
        raise ValueError(f"{tag} does not support iterators")
    el = etree.Element(tag, requestID=q.request_id)
    for t in types:
        _text(el, type_tag, t)
    if q.from_modified:
        rng = etree.SubElement(el, "DeletedDateRangeFilter")
        _text(rng, "FromDeletedDate", q.from_modified)
    return el


def _text(parent: etree._Element, tag: str, value: str) -> etree._Element:
    el = etree.SubElement(parent, tag)
    el.text = value
    return el
