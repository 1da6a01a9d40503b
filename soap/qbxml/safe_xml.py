"""A hardened XML parser for everything that arrives from outside."""

from __future__ import annotations

import re

from lxml import etree

DEFAULT_MAX_BYTES = 20_000_000
# A DOCTYPE is the door to XXE, parameter entities and billion laughs; QBWC never sends one.
_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_XINCLUDE_NS = b"http://www.w3.org/2001/XInclude"


class QbxmlError(ValueError):
    """XML we refuse or cannot read; the message is short and safe to show."""


class UnsafeXmlError(QbxmlError):
    """A DOCTYPE, entity declaration or XInclude: refused without parsing."""


class XmlTooLargeError(QbxmlError):
    """The document is larger than allowed."""


class MalformedXmlError(QbxmlError):
    """Not well-formed XML (or not UTF-8 when it says so)."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        collect_ids=False,
    )


def to_bytes(data: bytes | str) -> bytes:
    """Encode text as UTF-8 (already-bytes pass through)."""
    return data.encode("utf-8") if isinstance(data, str) else data


def check_xml_bytes(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Refuse oversize or dangerous documents before any parser sees them."""
    if len(data) > max_bytes:
        raise XmlTooLargeError(f"document larger than {max_bytes} bytes")
    if _DOCTYPE.search(data):
        raise UnsafeXmlError("DOCTYPE and entity declarations are not accepted")
    if _XINCLUDE_NS in data:
        raise UnsafeXmlError("XInclude is not accepted")


def parse_xml(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse untrusted XML safely, or raise a QbxmlError."""
    raw = to_bytes(data)
    check_xml_bytes(raw, max_bytes=max_bytes)
    if isinstance(data, str):
        # lxml refuses str with an encoding declaration; strip it, we encoded as UTF-8.
        raw = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", raw, count=1)
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedXmlError(f"malformed XML: {exc.msg}") from None
    except (ValueError, LookupError) as exc:
        raise MalformedXmlError(f"unreadable XML: {exc}") from None
    if root is None:
        raise MalformedXmlError("empty document")
    return root
