"""A hardened XML parser for everything that arrives from outside (qbXML and SOAP bodies)."""

from __future__ import annotations

import re

from lxml import etree

DEFAULT_MAX_BYTES = 20_000_000
# A DOCTYPE is the door to XXE, parameter entities and billion laughs; QBWC never sends one,
# so any declaration is refused before a parser sees the document.
_DOCTYPE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_DOCTYPE_BYTES = re.compile(_DOCTYPE.pattern.encode(), re.IGNORECASE)
_XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
_DECLARATION = re.compile(r"^\s*<\?xml\b[^>]*\?>")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
_UTF8_NAMES = {"utf-8", "utf8", "us-ascii", "ascii"}
_UTF8_BOM = b"\xef\xbb\xbf"


class QbxmlError(ValueError):
    """XML we refuse or cannot read; the message is short and safe to show."""


class UnsafeXmlError(QbxmlError):
    """A DOCTYPE, entity declaration or XInclude: refused."""


class XmlTooLargeError(QbxmlError):
    """The document is larger than allowed."""


class MalformedXmlError(QbxmlError):
    """Not well-formed XML, not UTF-8, or not the document we expected."""


# What every parser of outside XML is told: load nothing, expand no entities.
SAFE_PARSER_OPTIONS: dict[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,  # keeps libxml2's depth and text-size limits
    "remove_comments": True,
    "remove_pis": False,  # the <?qbxml version?> instruction is legitimate
    "collect_ids": False,
}


def make_parser() -> etree.XMLParser:
    """An lxml parser that loads nothing from outside and expands no entities."""
    return etree.XMLParser(**SAFE_PARSER_OPTIONS)


def declares_doctype(data: bytes) -> bool:
    """True when the bytes hold a DOCTYPE or ENTITY declaration (refused everywhere)."""
    return _DOCTYPE_BYTES.search(data) is not None


def _as_utf8_text(data: bytes | str, max_bytes: int) -> tuple[str, bytes]:
    """The document as text and as the UTF-8 bytes the parser will read."""
    if isinstance(data, str):
        if len(data) > max_bytes:  # every character is at least one byte
            raise XmlTooLargeError(f"document larger than {max_bytes} bytes")
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedXmlError("text is not valid Unicode") from None
        if len(raw) > max_bytes:
            raise XmlTooLargeError(f"document larger than {max_bytes} bytes")
        # The text is ours to encode now, so a declared encoding no longer applies.
        text = _DECLARATION.sub("", data.lstrip("\ufeff"), count=1)
        return text, text.encode("utf-8")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedXmlError("expected XML text or bytes")
    raw = bytes(data)
    if len(raw) > max_bytes:
        raise XmlTooLargeError(f"document larger than {max_bytes} bytes")
    declared = _DECLARED_ENCODING.match(raw.removeprefix(_UTF8_BOM))
    if declared and declared.group(1).decode("ascii", "replace").lower() not in _UTF8_NAMES:
        raise MalformedXmlError("only UTF-8 XML is accepted")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedXmlError("document is not valid UTF-8") from None
    return text, raw


def parse_xml(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse untrusted XML safely and return its root element, or raise a QbxmlError."""
    text, raw = _as_utf8_text(data, max_bytes)
    if "\x00" in text:
        # Never legal in XML; refusing it also stops UTF-16 without a BOM, which decodes as
        # "UTF-8" full of NULs that would hide a DOCTYPE from the scan below.
        raise MalformedXmlError("NUL characters are not allowed in XML")
    if _DOCTYPE.search(text):
        raise UnsafeXmlError("DOCTYPE and entity declarations are not accepted")
    try:
        root = etree.fromstring(raw, make_parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedXmlError(f"malformed XML: {exc.msg}"[:300]) from None
    except (etree.LxmlError, ValueError, LookupError, TypeError):
        raise MalformedXmlError("unreadable XML") from None
    if root is None:
        raise MalformedXmlError("empty document")
    doctype = root.getroottree().docinfo.doctype
    if doctype:  # belt and braces: the scan above should already have refused it
        raise UnsafeXmlError("DOCTYPE and entity declarations are not accepted")
    # lxml only expands XInclude when asked (we never ask); refuse it anyway so that
    # nothing downstream can be talked into it.
    if next(root.iter(f"{{{_XINCLUDE_NS}}}*"), None) is not None:
        raise UnsafeXmlError("XInclude is not accepted")
    return root
