"""What a SOAP post is before it is parsed whole: its operation and ticket, from its start.

A post of any size costs a full parse only when it carries a live ticket: anyone on the
internet can reach /qbwc, and a tree of millions of empty elements takes ~35 times its size
in memory. So the first bytes are read with a pull parser (a window, never the whole body)
to learn the operation and its ticket; what comes before authentication must be small.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from soap.qbxml.safe_xml import SAFE_PARSER_OPTIONS, declares_doctype

PREAUTH_MAX_BYTES = 64 * 1024  # serverVersion, clientVersion, authenticate: a few hundred bytes
PEEK_WINDOW = 16 * 1024  # the operation and its ticket come first in every QBWC call
# A SOAP envelope of QBWC holds a handful of elements (the qbXML travels as escaped text);
# the qbXML inside a response holds at most a few hundred thousand for the pages we ask.
ENVELOPE_MAX_TAGS = 1_000
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
# The calls whose first parameter is a ticket (Intuit's WSDL).
TICKETED = frozenset(
    {"sendRequestXML", "receiveResponseXML", "connectionError", "getLastError", "closeConnection"}
)


@dataclass(frozen=True)
class Peek:
    """The start of a SOAP post: its operation and ticket, when it shows them."""

    operation: str | None
    ticket: str | None


def peek(body: bytes) -> Peek:
    """The operation (the Body's first child) and its ticket, from the first bytes only."""
    window = body[:PEEK_WINDOW]
    if declares_doctype(window):
        return Peek(None, None)  # refused in full by the parser later
    parser = etree.XMLPullParser(events=("start", "end"), **SAFE_PARSER_OPTIONS)
    operation: str | None = None
    depth_of_body: int | None = None
    depth = 0
    try:
        parser.feed(window)
        for event, element in parser.read_events():
            if event == "start":
                depth += 1
                if element.tag == f"{{{SOAP_ENV}}}Body":
                    depth_of_body = depth
                elif depth_of_body is not None and depth == depth_of_body + 1:
                    operation = etree.QName(element).localname
                continue
            if operation and etree.QName(element).localname == "ticket":
                return Peek(operation, (element.text or "").strip()[:100])
            depth -= 1
    except etree.LxmlError:
        pass  # a window cut mid-document, or malformed: what was seen so far stands
    return Peek(operation, None)


QBXML_MAX_TAGS = 400_000  # ~40 MB as a tree; our pages of 100 objects need a few thousand


def tag_count_over(document: bytes | str, limit: int) -> bool:
    """True when the document has more than `limit` elements (counted without parsing)."""
    # Each element has one "<" that is not "</" (so do comments and instructions: an upper
    # bound); counting is a scan in C, with nothing built.
    if isinstance(document, bytes):
        elements = document.count(b"<") - document.count(b"</")
    else:
        elements = document.count("<") - document.count("</")
    return elements > limit
