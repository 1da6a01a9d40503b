"""Validation of qbXML documents against Intuit's qbxmlops130.xsd (loaded once per process)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from lxml import etree

from tests.support.paths import REFERENCE

# ../shared/reference/qbxml beside the repository, unless QBXML_SCHEMA_DIR says otherwise.
_DEFAULT_DIR = REFERENCE / "qbxml"


@functools.cache
def qbxml_schema() -> etree.XMLSchema:
    """The qbXML 13.0 schema (ops + types + objects), parsed on first use."""
    folder = Path(os.environ.get("QBXML_SCHEMA_DIR") or _DEFAULT_DIR)
    path = folder / "qbxmlops130.xsd"
    if not path.exists():
        raise FileNotFoundError(f"qbXML schema not found at {path} (set QBXML_SCHEMA_DIR)")
    return etree.XMLSchema(etree.parse(str(path)))


def assert_valid_qbxml(xml: str | bytes) -> None:
    """Raise AssertionError with the schema's messages unless xml is valid qbXML 13.0."""
    data = xml.encode() if isinstance(xml, str) else xml
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        doc = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise AssertionError(f"not well-formed XML: {exc}") from None
    schema = qbxml_schema()
    if not schema.validate(doc):
        errors = "\n".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        raise AssertionError(f"invalid qbXML:\n{errors}\n{data.decode()[:2000]}")
