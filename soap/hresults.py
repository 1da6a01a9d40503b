"""Plain words for the hresults that QBWC passes on from QuickBooks' request processor."""

from __future__ import annotations

import re

HRESULT_TEXT = {
    "0x80040400": "QuickBooks could not read qbslack's request",
    "0x80040401": "QuickBooks could not be accessed",
    "0x80040402": "QuickBooks hit an unexpected error (see qbsdklog.txt on its computer)",
    "0x80040403": "QuickBooks could not open the company file",
    "0x80040408": "QuickBooks could not be started or the company file is not open",
    "0x8004040a": "QuickBooks has a different company file open",
    "0x80040410": "the company file is open in a mode that does not allow qbslack in",
    "0x80040414": "a dialog box is open in QuickBooks: close it and the next poll goes on",
    "0x80040416": "QuickBooks is not running and no company file was named",
    "0x8004041a": "qbslack has no permission for this company file: allow it in "
    "QuickBooks (Edit > Preferences > Integrated Applications)",
    "0x80040420": "the QuickBooks user refused qbslack access",
    "0x80040424": "QuickBooks has not finished starting up",
}
# QBWC could not open the company file authenticate named (not found, QuickBooks could not
# start, another file open, the wrong mode): the open file is worth one try instead.
PATH_FAILURES = frozenset({"0x80040403", "0x80040408", "0x8004040a", "0x80040410"})
_HRESULT = re.compile(r"0x[0-9a-f]{8}")


def quickbooks_error(hresult: str | None, message: str | None) -> str:
    """A readable text for an hresult and message that QBWC passed on from QuickBooks."""
    code = (hresult or "").strip().lower()[:20]  # the client's text: kept short
    words = HRESULT_TEXT.get(code, "QuickBooks reported an error")
    said = (message or "").strip()[:300]
    text = f"{words} ({code})" if code else words
    return f"{text}: {said}" if said else text


# The labels QuickBooks errors are counted under: anything else is "other" (a client
# could send a million different codes, and each label value is a time series).
METRIC_LABELS = frozenset(HRESULT_TEXT) | {
    "connection",
    "message",
    "no_company",
    "query_errors",
    "unreadable",
    "wrong_file",
}


def metric_label(code: str) -> str:
    """An error code as a metrics label: a known one, or "other"."""
    return code if code in METRIC_LABELS else "other"


def error_code(hresult: str | None, otherwise: str) -> str:
    """The hresult as a metrics label when it looks like one (0x + 8 hex digits), else otherwise."""
    code = (hresult or "").strip().lower()
    # Anything else is the client's free text: never a label (unbounded cardinality).
    return code if _HRESULT.fullmatch(code) else otherwise
