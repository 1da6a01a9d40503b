"""Building qbXML query requests that are valid against qbxmlops130.xsd, element order included."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from soap.qbxml.entities import (
    COMPANY,
    DELETED,
    ENTITIES,
    LIST_DELETE_TYPES,
    TXN_DELETE_TYPES,
    DeletedKind,
)

__all__ = [
    "LIST_DELETE_TYPES",
    "MAX_RETURNED",
    "MIN_VERSION",
    "PREFERRED_VERSION",
    "TXN_DELETE_TYPES",
    "Query",
    "build_batch",
    "build_request",
    "supported_version",
]

MAX_RETURNED = 100
# qbXML 8.0 (QuickBooks 2009) is the oldest we speak: iterators exist since 5.0 and the query
# filters we send are older still, but multicurrency (CurrencyRef, which we read) arrived in
# 8.0, and QBWC 2.x (the guide we follow) dates from that release.
MIN_VERSION = (8, 0)
PREFERRED_VERSION = (13, 0)  # the schema every request is validated against
ON_ERROR = ("continueOnError", "stopOnError", "rollbackOnError")
ITERATORS = ("Start", "Continue")
# DATETIMETYPE's pattern in qbxmltypes130.xsd (empty string aside).
_QB_DATETIME = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(T\d{1,2}(:\d{1,2}(:\d{1,2}([+-]\d{1,2}:\d{1,2})?)?)?)?", re.ASCII
)
_VERSION = re.compile(r"\d{1,2}\.\d{1,2}", re.ASCII)
# GUIDTYPE in qbxmltypes130.xsd, less its "0" (the public data extensions we never read).
_GUID = re.compile(r"\{[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\}", re.ASCII)


@dataclass(frozen=True)
class Query:
    """One query of a batch: an entity, its window and its iterator position."""

    entity: str  # a key of ENTITIES, "txn_deleted", "list_deleted" or "company"
    request_id: str
    # QuickBooks date-time text ("2026-11-24T09:12:33-08:00" or "2026-11-24T09:12:33"),
    # inclusive: FromModifiedDate, ModifiedDateRangeFilter or DeletedDateRangeFilter.
    from_modified: str | None = None
    iterator: str | None = None  # "Start" | "Continue" | None
    iterator_id: str | None = None  # only with "Continue"
    max_returned: int = MAX_RETURNED  # sent only with an iterator
    deleted_types: tuple[str, ...] = ()  # TxnDelType/ListDelType; () = the default set
    # CompanyQueryRq only: OwnerIDs whose private data extensions (QBWC's "FileID") to return.
    owner_ids: tuple[str, ...] = ()


def supported_version(major: int, minor: int) -> str | None:
    """The qbXML version to speak to a QuickBooks whose newest is major.minor, or None."""
    if (major, minor) >= PREFERRED_VERSION:
        return "{}.{}".format(*PREFERRED_VERSION)
    if (major, minor) >= MIN_VERSION and minor >= 0:
        return f"{major}.{minor}"
    return None


def build_request(
    queries: Sequence[Query], *, version: str = "13.0", on_error: str = "continueOnError"
) -> str:
    """A whole qbXML document holding one query element per Query, in order."""
    if not queries:
        raise ValueError("a request needs at least one query")
    return _document([_query_element(q) for q in queries], version, on_error)


def build_batch(
    queries: Sequence[Query],
    *,
    version: str = "13.0",
    company_owner_id: str | None = None,
) -> str:
    """A batch of queries, led by a CompanyQueryRq (requestID "company") when an OwnerID is given.

    The CompanyQueryRq asks for the company's name and that owner's data extensions: QBWC's
    FileID comes back as CompanyRet/DataExtRet (read into QueryResult.file_ids).
    """
    owner = company_owner_id
    lead = [Query(COMPANY, COMPANY, owner_ids=(owner,))] if owner is not None else []
    return build_request([*lead, *queries], version=version)


def _document(elements: list[etree._Element], version: str, on_error: str) -> str:
    if not _VERSION.fullmatch(version):
        raise ValueError(f"bad qbXML version {version!r}")
    if on_error not in ON_ERROR:
        raise ValueError(f"onError must be one of {', '.join(ON_ERROR)}")
    root = etree.Element("QBXML")
    msgs = etree.SubElement(root, "QBXMLMsgsRq", onError=on_error)
    msgs.extend(elements)
    body = etree.tostring(root, encoding="unicode")  # lxml escapes every value
    return f'<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="{version}"?>\n{body}'


def _query_element(q: Query) -> etree._Element:
    if q.from_modified and not _QB_DATETIME.fullmatch(q.from_modified):
        raise ValueError(f"not a QuickBooks date-time: {q.from_modified!r}")
    if q.iterator not in (None, *ITERATORS):
        raise ValueError(f"iterator must be Start, Continue or None, not {q.iterator!r}")
    if (q.iterator == "Continue") != bool(q.iterator_id):
        raise ValueError("an iteratorID goes with iterator Continue, and only with it")
    if not 1 <= q.max_returned <= MAX_RETURNED:
        raise ValueError(f"MaxReturned must be 1..{MAX_RETURNED}")
    if q.entity == COMPANY:
        _no_iterator(q, "CompanyQueryRq")
        if q.from_modified or q.deleted_types:
            raise ValueError("CompanyQueryRq takes no date or types")
        bad = [o for o in q.owner_ids if not _GUID.fullmatch(o)]
        if bad:
            raise ValueError(f"an OwnerID is a GUID in braces, not {bad[0][:60]!r}")
        el = etree.Element("CompanyQueryRq", requestID=q.request_id)
        _text(el, "IncludeRetElement", "CompanyName")  # the rest of CompanyRet is not needed
        if q.owner_ids:
            # The XSD's order: every IncludeRetElement, then every OwnerID.
            _text(el, "IncludeRetElement", "DataExtRet")
            for owner_id in dict.fromkeys(q.owner_ids):
                _text(el, "OwnerID", owner_id)
        return el
    if q.owner_ids:
        raise ValueError("owner_ids is only for the company query")
    if q.entity in DELETED:
        return _deleted(q, DELETED[q.entity])
    entity = ENTITIES.get(q.entity)
    if entity is None:
        raise ValueError(f"unknown entity {q.entity!r}")
    if q.deleted_types:
        raise ValueError("deleted_types is only for txn_deleted and list_deleted")
    if not entity.iterator:
        _no_iterator(q, entity.request)
    el = etree.Element(entity.request, requestID=q.request_id)
    if q.iterator:
        el.set("iterator", q.iterator)
        if q.iterator_id:
            el.set("iteratorID", q.iterator_id)
    # A Continue repeats the Start's criteria: the caller passes the same Query fields.
    if q.iterator:
        _text(el, "MaxReturned", str(q.max_returned))  # first in ListFilter and TxnFilter
    if entity.is_list:
        # ListFilter order: MaxReturned, ActiveStatus, FromModifiedDate. List queries
        # default to ActiveOnly; made-inactive objects are changes too.
        _text(el, "ActiveStatus", "All")
        if q.from_modified:
            _text(el, "FromModifiedDate", q.from_modified)
    else:
        # TxnFilter order: MaxReturned, ModifiedDateRangeFilter; then Include* flags.
        if q.from_modified:
            _text(
                etree.SubElement(el, "ModifiedDateRangeFilter"), "FromModifiedDate", q.from_modified
            )
        if entity.line_items:
            _text(el, "IncludeLineItems", "true")
        if entity.linked_txns:
            _text(el, "IncludeLinkedTxns", "true")
    return el


def _deleted(q: Query, kind: DeletedKind) -> etree._Element:
    _no_iterator(q, kind.request)
    types = tuple(dict.fromkeys(q.deleted_types or kind.default_types))
    unknown = [t for t in types if t not in kind.allowed_types]
    if unknown:
        raise ValueError(f"{kind.type_tag} not polled by qbslack: {', '.join(unknown)}")
    el = etree.Element(kind.request, requestID=q.request_id)
    for t in types:
        _text(el, kind.type_tag, t)
    if q.from_modified:
        _text(etree.SubElement(el, "DeletedDateRangeFilter"), "FromDeletedDate", q.from_modified)
    return el


def _no_iterator(q: Query, request: str) -> None:
    if q.iterator is not None:
        raise ValueError(f"{request} does not support iterators in qbXML")


def _text(parent: etree._Element, tag: str, value: str) -> etree._Element:
    el = etree.SubElement(parent, tag)
    el.text = value
    return el
