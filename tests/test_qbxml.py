"""qbXML: every request we can build is valid qbXML 13.0; parsing is safe and total."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soap.qbxml import (
    ENTITIES,
    MalformedXmlError,
    QbxmlError,
    Query,
    UnsafeXmlError,
    XmlTooLargeError,
    build_batch,
    build_request,
    parse_response,
    supported_version,
)
from soap.qbxml.requests import LIST_DELETE_TYPES, TXN_DELETE_TYPES
from soap.simulator import FakeCompany
from soap.simulator.qbxml_answer import Answerer
from tests.qbxml_schema import assert_valid_qbxml

WHEN = ["2026-11-20T10:00:00", "2026-11-20T10:00:00-08:00", None]


def all_queries():
    for (key, entity), since in itertools.product(ENTITIES.items(), WHEN):
        for iterator in ["Start", "Continue", None] if entity.iterator else [None]:
            yield Query(
                key,
                f"{key}-{iterator}",
                since,
                iterator,
                "{1234-ABCD}" if iterator == "Continue" else None,
                max_returned=100,
            )
    for since in WHEN:
        yield Query("txn_deleted", "td", since)
        yield Query("txn_deleted", "td1", since, deleted_types=("Bill",))
        yield Query("list_deleted", "ld", since)
        yield Query("list_deleted", "ld3", since, deleted_types=("Vendor", "Account", "Employee"))


@pytest.mark.parametrize("query", list(all_queries()), ids=lambda q: q.request_id)
def test_every_single_request_is_valid(query):
    assert_valid_qbxml(build_request([query]))


def test_batches_and_company_query_are_valid():
    queries = list(all_queries())
    assert_valid_qbxml(build_batch(queries[:40], with_company=True))
    assert_valid_qbxml(build_batch(queries[40:], version="8.0"))
    assert_valid_qbxml(build_batch([], with_company=True))


def test_invalid_combinations_are_refused():
    with pytest.raises(ValueError):
        build_request([Query("account", "a", iterator="Start")])
    with pytest.raises(ValueError):
        build_request([Query("bill", "b", iterator="Continue")])
    with pytest.raises(ValueError):
        build_request([Query("bill", "b", iterator="Start", max_returned=101)])
    with pytest.raises(ValueError):
        build_request([Query("nope", "x")])
    with pytest.raises(ValueError):
        build_request([])
    assert set(TXN_DELETE_TYPES) >= {"Bill", "Invoice"} and LIST_DELETE_TYPES == ("Vendor",)


def test_versions():
    assert supported_version(16, 0) == "13.0"
    assert supported_version(10, 0) == "10.0"
    assert supported_version(7, 0) is None


def test_answers_of_every_kind_parse_and_are_valid():
    company = FakeCompany.from_fixture()
    company.add_account("Rent")
    company.add_employee("Bob")
    queries = [q for q in all_queries() if q.iterator != "Continue" and q.from_modified is None]
    response = Answerer(company).answer(build_batch(queries, with_company=True))
    assert_valid_qbxml(response)
    results = parse_response(response)
    by_entity = {r.entity: r for r in results}
    bill = next(o for o in by_entity["bill"].objects if o.ref_number == "INV-77")
    assert bill.name == "Acme Supply Co" and bill.amount == "1250.00"
    assert bill.payload["is_paid"] is True and bill.payload["line_items"]
    payment = by_entity["bill_payment_check"].objects[0]
    assert payment.payload["applied_to"][0]["txn_id"] == bill.object_id
    invoice = by_entity["invoice"].objects[0]
    assert invoice.amount == "4200.00" and invoice.payload["open_amount"] == "2200.00"
    deleted = next(r for r in results if r.entity == "txn_deleted" and r.objects)
    assert deleted.objects[0].is_deleted and deleted.objects[0].edit_sequence.startswith("deleted:")
    assert next(r for r in results if r.entity == "company").company_name == "Acme Books LLC"
    assert by_entity["bill_payment_credit_card"].status_code == 1  # no match, not an error
    assert by_entity["bill_payment_credit_card"].ok


def test_statuses_iterators_and_errors():
    company = FakeCompany()
    company.generate(vendors=1, bills=250)
    answerer = Answerer(company)
    first = parse_response(answerer.answer(build_request([Query("bill", "b", None, "Start")])))
    assert len(first[0].objects) == 100 and first[0].iterator_remaining == 150
    gone = parse_response(
        answerer.answer(build_request([Query("bill", "b", None, "Continue", "{nope}")]))
    )
    assert gone[0].status_code == 3391 and not gone[0].ok
    rs = parse_response(
        '<QBXML><QBXMLMsgsRs><BillQueryRs requestID="x" statusCode="3120" '
        'statusSeverity="Error" statusMessage="Object not found"/>'
        '<BillQueryRs requestID="w" statusCode="530" statusSeverity="Warn" '
        'statusMessage="careful"/><UnknownRs statusCode="0"/>'
        "</QBXMLMsgsRs></QBXML>"
    )
    assert [r.ok for r in rs] == [False, True, True] and rs[2].entity is None


@pytest.mark.parametrize(
    "data,error",
    [
        (b"", MalformedXmlError),
        (b"<QBXML><QBXMLMsgsRs>", MalformedXmlError),
        (b"<notqbxml/>", MalformedXmlError),
        (
            b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><QBXML>&e;</QBXML>',
            UnsafeXmlError,
        ),
        (b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x">%p;]><QBXML/>', UnsafeXmlError),
        (
            b'<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><QBXML>&b;</QBXML>',
            UnsafeXmlError,
        ),
        (
            b'<QBXML xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd"/>'
            b"</QBXML>",
            UnsafeXmlError,
        ),
        ("<QBXML>caf\xe9</QBXML>".encode("latin-1"), MalformedXmlError),
    ],
)
def test_hostile_and_broken_input(data, error):
    with pytest.raises(error):
        parse_response(data)


def test_size_limit():
    with pytest.raises(XmlTooLargeError):
        parse_response(b"<QBXML>" + b" " * 2000 + b"</QBXML>", max_bytes=1000)


tags = st.sampled_from(
    [
        "QBXML",
        "QBXMLMsgsRs",
        "BillQueryRs",
        "BillRet",
        "TxnID",
        "EditSequence",
        "VendorRet",
        "ListID",
        "TimeModified",
        "Amount",
        "TxnDeletedQueryRs",
        "TxnDeletedRet",
        "TxnDelType",
        "TimeDeleted",
        "x",
    ]
)
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@st.composite
def trees(draw, depth=0):
    tag = draw(tags)
    attrs = draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "statusCode",
                    "requestID",
                    "iteratorID",
                    "statusSeverity",
                    "iteratorRemainingCount",
                ]
            ),
            texts,
            max_size=3,
        )
    )
    children = [] if depth > 3 else draw(st.lists(trees(depth + 1), max_size=3))
    from xml.sax.saxutils import escape, quoteattr

    attr_text = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    return f"<{tag}{attr_text}>{escape(draw(texts))}{''.join(children)}</{tag}>"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(trees(), st.binary(max_size=200), texts))
def test_parser_never_raises_anything_but_qbxml_errors(doc):
    try:
        results = parse_response(doc)
    except QbxmlError:
        return
    assert isinstance(results, list)
