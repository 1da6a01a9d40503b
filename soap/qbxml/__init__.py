"""qbXML: query requests, safe parsing, and the objects we read back."""

from soap.qbxml.entities import (
    COMPANY,
    DELETED,
    ENTITIES,
    LIST_DELETED,
    TXN_DELETED,
    DeletedKind,
    Entity,
)
from soap.qbxml.requests import (
    Query,
    build_batch,
    build_request,
    supported_version,
)
from soap.qbxml.responses import QbObject, QueryResult, parse_company, parse_response
from soap.qbxml.safe_xml import (
    MalformedXmlError,
    QbxmlError,
    UnsafeXmlError,
    XmlTooLargeError,
    parse_xml,
)

__all__ = [
    "COMPANY",
    "DELETED",
    "ENTITIES",
    "LIST_DELETED",
    "TXN_DELETED",
    "DeletedKind",
    "Entity",
    "MalformedXmlError",
    "QbObject",
    "QbxmlError",
    "Query",
    "QueryResult",
    "UnsafeXmlError",
    "XmlTooLargeError",
    "build_batch",
    "build_request",
    "parse_company",
    "parse_response",
    "parse_xml",
    "supported_version",
]
