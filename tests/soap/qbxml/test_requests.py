"""Every qbXML request the builder can make is valid qbXML 13.0; invalid ones are refused."""

from __future__ import annotations

import itertools

import pytest
from lxml import etree

from soap.qbxml import (
    DELETED,
    ENTITIES,
    Query,
    build_batch,
    build_request,
    supported_version,
)
from soap.qbxml.requests import LIST_DELETE_TYPES, MIN_VERSION, TXN_DELETE_TYPES
from tenants.qwc import OWNER_ID
from tests.support.qbxml_schema import assert_valid_qbxml

WHEN = [None, "2026-11-24T09:12:33-08:00", "2026-11-24T09:12:33", "2026-11-24"]
ITERATOR_ID = "{eb05f701-e727-472f-8ade-6753c4f67a46}"
DELETED_TYPE_SETS = {
    "txn_deleted": [(), *[(t,) for t in TXN_DELETE_TYPES], TXN_DELETE_TYPES],
    "list_deleted": [
        (),
        ("Vendor",),
        ("Vendor", "Account"),
        ("Vendor", "Account", "Employee"),
        ("Account",),
        ("Employee",),
    ],
}


def entity_queries() -> list[Query]:
    """Every entity x iterator (where allowed) x window."""
    out = []
    for (key, entity), since in itertools.product(ENTITIES.items(), WHEN):
        for iterator in (None, "Start", "Continue") if entity.iterator else (None,):
            out.append(
                Query(
                    key,
                    f"{key}-{iterator}-{since}",
                    since,
                    iterator,
                    ITERATOR_ID if iterator == "Continue" else None,
                    max_returned=1 if since else 100,
                )
            )
    return out


def deleted_queries() -> list[Query]:
    """Every deletion query x type set x window."""
    return [
        Query(key, f"{key}-{len(types)}-{since}", since, deleted_types=types)
        for key, sets in DELETED_TYPE_SETS.items()
        for types in sets
        for since in WHEN
    ]


ALL = entity_queries() + deleted_queries()


def rq(xml: str) -> etree._Element:
    return etree.fromstring(xml.split("\n", 2)[2]).find("QBXMLMsgsRq")


@pytest.mark.parametrize("query", ALL, ids=lambda q: q.request_id)
def test_every_single_request_is_valid(query):
    xml = build_request([query])
    assert xml.startswith('<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n')
    assert_valid_qbxml(xml)
    (el,) = rq(xml)
    assert el.get("requestID") == query.request_id
    assert el.get("iterator") == query.iterator
    assert el.get("iteratorID") == query.iterator_id
    # MaxReturned goes with an iterator only.
    assert (el.findtext("MaxReturned") is not None) == (query.iterator is not None)


def test_every_query_in_one_batch_and_in_chunks():
    assert_valid_qbxml(build_request(ALL))
    for on_error in ("continueOnError", "stopOnError", "rollbackOnError"):
        assert_valid_qbxml(build_request(ALL[:7], on_error=on_error))
    for chunk in (ALL[i : i + 11] for i in range(0, len(ALL), 11)):
        assert_valid_qbxml(build_batch(chunk, company_owner_id=OWNER_ID))
        assert_valid_qbxml(build_batch(chunk, version="8.0"))


def test_company_query_leads_the_batch():
    company, bill = rq(build_batch([Query("bill", "b")], company_owner_id=OWNER_ID))
    assert (company.tag, company.get("requestID")) == ("CompanyQueryRq", "company")
    assert [c.text for c in company] == ["CompanyName", "DataExtRet", OWNER_ID]
    assert bill.tag == "BillQueryRq"
    assert_valid_qbxml(build_batch([], company_owner_id=OWNER_ID))
    assert_valid_qbxml(build_batch([], version="10.0", company_owner_id=OWNER_ID))
    assert "CompanyQueryRq" not in build_batch([Query("bill", "b")])


def test_element_order_and_criteria():
    (vendor,) = rq(build_request([Query("vendor", "v", "2026-11-24T09:12:33", "Start")]))
    assert [c.tag for c in vendor] == ["MaxReturned", "ActiveStatus", "FromModifiedDate"]
    assert vendor.findtext("ActiveStatus") == "All"  # VendorQueryRq defaults to ActiveOnly
    (bill,) = rq(build_request([Query("bill", "b", "2026-11-24", "Continue", ITERATOR_ID, 50)]))
    assert [c.tag for c in bill] == [
        "MaxReturned",
        "ModifiedDateRangeFilter",
        "IncludeLineItems",
        "IncludeLinkedTxns",
    ]
    assert bill.findtext("MaxReturned") == "50"
    (payment,) = rq(build_request([Query("receive_payment", "p", "2026-11-24")]))
    assert [c.tag for c in payment] == ["ModifiedDateRangeFilter", "IncludeLineItems"]
    (account,) = rq(build_request([Query("account", "a", "2026-11-24")]))
    assert [c.tag for c in account] == ["ActiveStatus", "FromModifiedDate"]


def test_deleted_defaults_and_types():
    (txn,) = rq(build_request([Query("txn_deleted", "t", "2026-11-24T09:12:33")]))
    assert [e.text for e in txn.iterchildren("TxnDelType")] == list(TXN_DELETE_TYPES)
    assert set(TXN_DELETE_TYPES) == {
        "Bill",
        "PurchaseOrder",
        "BillPaymentCheck",
        "BillPaymentCreditCard",
        "ReceivePayment",
        "Invoice",
    }
    assert txn.findtext("DeletedDateRangeFilter/FromDeletedDate") == "2026-11-24T09:12:33"
    (lst,) = rq(build_request([Query("list_deleted", "l")]))
    assert [e.text for e in lst.iterchildren("ListDelType")] == list(LIST_DELETE_TYPES)
    assert LIST_DELETE_TYPES == ("Vendor",)
    (dup,) = rq(build_request([Query("list_deleted", "l", deleted_types=("Vendor", "Vendor"))]))
    assert [e.text for e in dup] == ["Vendor"]


def test_values_are_escaped():
    xml = build_request([Query("bill", "a<b>&\"c'", iterator="Continue", iterator_id="<&>")])
    assert_valid_qbxml(xml)
    (el,) = rq(xml)
    assert el.get("requestID") == "a<b>&\"c'" and el.get("iteratorID") == "<&>"


def test_catalogue_matches_the_schema():
    assert {k for k, e in ENTITIES.items() if not e.iterator} == {"account", "employee"}
    assert {k for k, e in ENTITIES.items() if e.opt_in} == {"account", "employee"}
    assert {e.event_type for e in ENTITIES.values()} == {
        "vendor",
        "bill",
        "purchase_order",
        "bill_payment",
        "payment_received",
        "invoice",
        "account",
        "employee",
    }
    assert set(DELETED) == {"txn_deleted", "list_deleted"}


@pytest.mark.parametrize(
    "query,why",
    [
        (Query("account", "a", iterator="Start"), "no iterator on AccountQueryRq"),
        (Query("employee", "e", iterator="Continue", iterator_id="x"), "no iterator"),
        (Query("txn_deleted", "t", iterator="Start"), "no iterator on TxnDeletedQueryRq"),
        (Query("list_deleted", "l", iterator="Start"), "no iterator on ListDeletedQueryRq"),
        (Query("company", "c", iterator="Start"), "no iterator on CompanyQueryRq"),
        (Query("company", "c", "2026-11-24"), "no criteria on CompanyQueryRq"),
        (Query("bill", "b", iterator="Continue"), "Continue needs an iteratorID"),
        (Query("bill", "b", iterator="Start", iterator_id="x"), "iteratorID only on Continue"),
        (Query("bill", "b", iterator_id="x"), "iteratorID only on Continue"),
        (Query("bill", "b", iterator="Stop"), "we never stop iterators"),
        (Query("bill", "b", iterator="Start", max_returned=101), "MaxReturned <= 100"),
        (Query("vendor", "v", iterator="Start", max_returned=0), "MaxReturned >= 1"),
        (Query("bill", "b", "yesterday"), "not a QuickBooks date-time"),
        (Query("bill", "b", "2026-11-24T09:12:33Z"), "QuickBooks has no Z"),
        (Query("bill", "b", deleted_types=("Bill",)), "types only on deletion queries"),
        (Query("txn_deleted", "t", deleted_types=("Vendor",)), "Vendor is a list type"),
        (Query("list_deleted", "l", deleted_types=("Customer",)), "not polled"),
        (Query("customer", "c"), "unknown entity"),
    ],
)
def test_invalid_combinations_are_refused(query, why):
    with pytest.raises(ValueError):
        build_request([query])


def test_invalid_documents_are_refused():
    with pytest.raises(ValueError):
        build_request([])
    with pytest.raises(ValueError):
        build_batch([])
    with pytest.raises(ValueError):
        build_request([Query("bill", "b")], on_error="ignore")
    with pytest.raises(ValueError):
        build_request([Query("bill", "b")], version='13.0"?><x')


@pytest.mark.parametrize(
    "major,minor,expected",
    [
        (16, 0, "13.0"),
        (13, 0, "13.0"),
        (14, 1, "13.0"),
        (12, 0, "12.0"),
        (10, 0, "10.0"),
        (8, 0, "8.0"),
        (7, 0, None),
        (2, 1, None),
        (0, 0, None),
    ],
)
def test_supported_version(major, minor, expected):
    assert supported_version(major, minor) == expected
    assert MIN_VERSION == (8, 0)
