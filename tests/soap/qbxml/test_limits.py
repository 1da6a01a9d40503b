"""What the parser keeps of QuickBooks' values: numbers of their qbXML type, clipped texts,
and payloads within their size."""

from __future__ import annotations

import json
import logging
import os
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from prometheus_client import REGISTRY

from soap.qbxml import parse_response
from soap.qbxml.fields import COMMON_TXN_FIELDS, TYPE_FIELDS
from soap.qbxml.limits import (
    AMTTYPE,
    FLOATTYPE,
    INTTYPE,
    MAX_PAYLOAD_BYTES,
    NUMBER_ELEMENTS,
    QUANTYPE,
    TEXT_DEFAULT,
    TEXT_LIMITS,
    cap_payload,
    payload_size,
)
from tests.soap.qbxml.test_responses import (
    applied,
    bill,
    document,
    el,
    head,
    invoice,
    ref,
    rs,
    t,
    vendor,
)
from tests.support.paths import REFERENCE

HOSTILE = [
    "1e1000000000",
    "1E5",
    "NaN",
    "nan",
    "-Infinity",
    "Infinity",
    "inf",
    "sNaN",
    "0x1F",
    "1_000",
    "1,250.00",
    "١٢٣",  # Arabic-Indic digits: Decimal() takes them, qbXML does not
    "12.345",  # AMTTYPE has two decimals
    "9" * 14,  # 14 integer digits
    "9" * 5000,
    "",
    "-",
    ".",
    "1.",
    "+-1",
    " 1 2",
]


def capped(what: str) -> float:
    return REGISTRY.get_sample_value("qbslack_input_capped_total", {"what": what}) or 0.0


def one_object(answer: etree._Element):
    (result,) = parse_response(document(answer))
    (obj,) = result.objects
    return obj


def test_amounts_follow_amttype():
    for good in ("0", "-12", "+12.50", "12.5", "9999999999999.99", "-0.00"):
        assert AMTTYPE.check(good), good
    for bad in HOSTILE:
        assert not AMTTYPE.check(bad), bad


def test_quantities_floats_and_integers_follow_their_types():
    assert QUANTYPE.check("10") and QUANTYPE.check("1.12345") and QUANTYPE.check("9999999999")
    assert not QUANTYPE.check("1.123456") and not QUANTYPE.check("99999999999")
    assert FLOATTYPE.check("1.2345678901") and FLOATTYPE.check(".5") and FLOATTYPE.check("0.0001")
    assert not FLOATTYPE.check("1" * 16) and not FLOATTYPE.check("0." + "0" * 30 + "1")
    assert INTTYPE.check("42") and not INTTYPE.check("1" * 11) and not INTTYPE.check("4.2")
    for bad in ("1e1000000000", "NaN", "-Infinity", "sNaN", "0x1F", "1_000", "١٢٣", "9" * 5000):
        for kind in NUMBER_ELEMENTS.values():
            assert not kind.check(bad), (kind.name, bad)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_bad_number_drops_its_field_and_the_object_stays(value, caplog):
    before = capped("number")
    with caplog.at_level(logging.WARNING, logger="soap.qbxml.responses"):
        obj = one_object(rs("BillQueryRs", bill(open_amount=value, amount=value)))
    assert obj.object_id and obj.name == "Acme Supply Co" and obj.ref_number == "INV-77"
    assert obj.amount is None and "open_amount" not in obj.payload
    assert "amount_due" not in obj.payload
    if value:  # an empty element is no value at all
        assert capped("number") >= before + 2  # (AmountDue is read twice: total, payload)
        (record,) = caplog.records
        assert "OpenAmount" in record.getMessage() or "AmountDue" in record.getMessage()
        assert len(record.getMessage()) < 200 and "9" * 20 not in record.getMessage()


def test_hostile_numbers_everywhere_in_an_invoice_and_a_payment():
    sick = invoice(subtotal="1e1000000000", tax="NaN")
    sick.find("BalanceRemaining").text = "NaN"
    sick.find("InvoiceLineRet/Quantity").text = "Infinity"
    obj = one_object(rs("InvoiceQueryRs", sick))
    assert obj.amount is None and "balance_remaining" not in obj.payload
    assert obj.payload["line_items"] == [
        {"description": "November retainer", "item": "Consulting", "amount": "4000.00"}
    ]
    payment = el(
        "ReceivePaymentRet",
        *head("TxnID", "RP-1"),
        ref("CustomerRef", "Globex Corp"),
        t("TotalAmount", "-Infinity"),
        applied("INV-1", "Invoice", "1001", "1e1000000000", "NaN"),
    )
    obj = one_object(rs("ReceivePaymentQueryRs", payment))
    assert obj.amount is None
    assert obj.payload["applied_to"] == [
        {"txn_id": "INV-1", "txn_type": "Invoice", "ref_number": "1001", "txn_date": "2026-11-24"}
    ]


def test_long_texts_are_clipped_per_field():
    before = capped("text")
    long_bill = bill(vendor_name="V" * 10_000)
    long_bill.find("Memo").text = "m" * 100_000
    long_bill.find("RefNumber").text = "R" * 1000
    long_bill.find("ItemLineRet/Desc").text = "d" * 5000
    obj = one_object(rs("BillQueryRs", long_bill))
    assert obj.name == "V" * (TEXT_DEFAULT - 1) + "…"
    assert obj.ref_number == "R" * (TEXT_DEFAULT - 1) + "…"
    assert obj.payload["memo"] == "m" * (TEXT_LIMITS["Memo"] - 1) + "…"
    assert len(obj.payload["line_items"][1]["description"]) == TEXT_LIMITS["Desc"]
    assert capped("text") == before + 4
    short = one_object(rs("VendorQueryRs", vendor(name="N" * TEXT_DEFAULT)))
    assert short.name == "N" * TEXT_DEFAULT  # at the limit: whole


def test_every_number_we_read_has_a_qbxml_type():
    paths = [*COMMON_TXN_FIELDS.values(), *(p for f in TYPE_FIELDS.values() for p in f.values())]
    numeric = {p for p in paths if p in NUMBER_ELEMENTS}
    assert {"OpenAmount", "BalanceRemaining", "AmountDue", "Balance", "ExchangeRate"} <= numeric
    folder = Path(os.environ.get("QBXML_SCHEMA_DIR") or REFERENCE / "qbxml")
    schema = etree.parse(str(folder / "qbxml130.xsd"))
    declared = {
        e.get("name"): e.get("type")
        for e in schema.iter("{http://www.w3.org/2001/XMLSchema}element")
        if e.get("name") and e.get("type")
    }
    for tag, kind in NUMBER_ELEMENTS.items():
        assert declared.get(tag) == kind.name, tag


# -- payloads -----------------------------------------------------------------------------------


def test_a_small_payload_is_kept_as_it_is():
    payload = {"name": "Acme", "line_items": [{"amount": "1.00"}]}
    assert cap_payload(payload) == (payload, False)


def test_a_big_payload_loses_lines_first_and_says_how_many():
    line = {"description": "d" * 2000, "amount": "1.00"}
    payload = {
        "name": "Acme",
        "memo": "m" * 3000,
        "linked_txns": [{"txn_id": f"L{i}", "amount": "1.00"} for i in range(50)],
        "line_items": [line] * 40,
        "applied_to": [{"txn_id": "B-1", "amount": "5.00"}],
    }
    out, cut = cap_payload(payload)
    assert cut and payload_size(out) <= MAX_PAYLOAD_BYTES
    assert out["applied_to"] == payload["applied_to"]  # what threads a payment: kept first
    assert out["memo"] == payload["memo"] and out["name"] == "Acme"
    kept = len(out["line_items"])
    assert 0 < kept < 40 and out["more_line_items"] == 40 - kept
    assert out["more_linked_txns"] == 50 - len(out.get("linked_txns", []))


def test_a_payload_of_long_texts_is_cut_too():
    payload = {f"k{i}": "é" * 3000 for i in range(10)}
    out, cut = cap_payload(payload)
    assert cut and payload_size(out) <= MAX_PAYLOAD_BYTES
    assert all(v.endswith("…") for v in out.values() if len(v) < 3000)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["name", "memo", "ref_number", "x", "y"]),
        st.text(max_size=6000),
        max_size=5,
    ),
    st.lists(st.dictionaries(st.sampled_from(["description", "amount"]), st.text(max_size=4000))),
    st.lists(st.dictionaries(st.sampled_from(["txn_id", "amount"]), st.text(max_size=300))),
)
def test_any_payload_fits_after_the_cap(top, lines, applied_to):
    payload = {**top, "line_items": lines, "applied_to": applied_to}
    out, cut = cap_payload(payload)
    assert payload_size(out) <= MAX_PAYLOAD_BYTES
    assert cut == (payload_size(payload) > MAX_PAYLOAD_BYTES)
    for key, items in (("line_items", lines), ("applied_to", applied_to)):
        assert out.get(key, []) == items[: len(out.get(key, []))]  # a prefix, in order
        assert len(out.get(key, [])) + out.get(f"more_{key}", 0) == len(items)
    json.dumps(out)


def test_invoice_total_of_two_amounts_is_exact():
    obj = one_object(rs("InvoiceQueryRs", invoice(subtotal="9999999999999.99", tax="0.01")))
    assert obj.amount == "10000000000000.00" and Decimal(obj.amount).is_finite()
