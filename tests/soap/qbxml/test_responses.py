"""Reading qbXML answers: every entity, statuses, iterators, deletions, and hostile input."""

from __future__ import annotations

import json
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from soap.qbxml import (
    ENTITIES,
    MalformedXmlError,
    QbxmlError,
    Query,
    QueryResult,
    UnsafeXmlError,
    XmlTooLargeError,
    build_batch,
    build_request,
    parse_company,
    parse_response,
    parse_xml,
)
from soap.qbxml.fields import COMMON_TXN_FIELDS, TYPE_FIELDS
from soap.qbxml.limits import NUMBER_ELEMENTS, TEXT_DEFAULT, TEXT_LIMITS
from soap.simulator import Answerer, FakeCompany, fixtures
from tenants.qwc import OWNER_ID
from tests.support.qbxml_schema import assert_valid_qbxml

T1 = "2026-11-24T09:12:33-08:00"
T2 = "2026-11-24T10:00:00-08:00"
OK = {"statusCode": "0", "statusSeverity": "Info", "statusMessage": "Status OK"}
NO_MATCH = {
    "statusCode": "1",
    "statusSeverity": "Info",
    "statusMessage": "A query request did not find a matching object in QuickBooks",
}


# -- small builders for realistic answers (element order as in qbxmlops130.xsd) --------------


def el(
    tag: str, *children: etree._Element | None, text: str | None = None, **attrs: str
) -> etree._Element:
    node = etree.Element(tag, {k: v for k, v in attrs.items() if v is not None})
    node.text = text
    node.extend(c for c in children if c is not None)
    return node


def t(tag: str, value: str | None) -> etree._Element | None:
    return None if value is None else el(tag, text=value)


def ref(tag: str, name: str | None) -> etree._Element | None:
    return None if name is None else el(tag, t("ListID", "80000001-1"), t("FullName", name))


def head(
    id_tag: str,
    object_id: str | None,
    seq: str | None = "1764000000",
    created: str = T1,
    modified: str = T2,
) -> list[etree._Element | None]:
    return [
        t(id_tag, object_id),
        t("TimeCreated", created),
        t("TimeModified", modified),
        t("EditSequence", seq),
    ]


def rs(
    tag: str, *rets: etree._Element, status: dict[str, str] = OK, **attrs: str
) -> etree._Element:
    return el(tag, *rets, **status, **attrs)


def document(*answers: etree._Element) -> str:
    body: str = etree.tostring(el("QBXML", el("QBXMLMsgsRs", *answers)), encoding="unicode")
    return '<?xml version="1.0" ?>\n' + body


def vendor(
    list_id: str | None = "80000001-1764000000",
    seq: str | None = "1764000000",
    name: str | None = "Acme Supply Co",
    active: str = "true",
) -> etree._Element:
    return el(
        "VendorRet",
        *head("ListID", list_id, seq),
        t("Name", name),
        t("IsActive", active),
        t("CompanyName", "Acme Supply Company LLC"),
        t("Phone", "555-0100"),
        t("Email", "ap@acme.example"),
        t("Balance", "1250.00"),
        ref("CurrencyRef", "US Dollar"),
    )


def bill(
    txn_id: str | None = "1A2B-1764000000",
    amount: str = "1250.00",
    open_amount: str = "0.00",
    vendor_name: str | None = "Acme Supply Co",
) -> etree._Element:
    return el(
        "BillRet",
        *head("TxnID", txn_id),
        t("TxnNumber", "42"),
        ref("VendorRef", vendor_name),
        ref("APAccountRef", "Accounts Payable"),
        t("TxnDate", "2026-11-24"),
        t("DueDate", "2026-12-24"),
        t("AmountDue", amount),
        ref("CurrencyRef", "US Dollar"),
        t("RefNumber", "INV-77"),
        ref("TermsRef", "Net 30"),
        t("Memo", "Paper & toner <Q4>"),
        t("IsPaid", "true" if open_amount == "0.00" else "false"),
        el(
            "LinkedTxn",
            t("TxnID", "PO-1"),
            t("TxnType", "PurchaseOrder"),
            t("TxnDate", "2026-11-20"),
            t("RefNumber", "PO-9"),
            t("LinkType", "QUANTYPE"),
            t("Amount", "0.00"),
        ),
        el(
            "ExpenseLineRet",
            t("TxnLineID", "L1"),
            ref("AccountRef", "Office Supplies"),
            t("Amount", "250.00"),
            t("Memo", "Toner"),
        ),
        el(
            "ItemLineRet",
            t("TxnLineID", "L2"),
            ref("ItemRef", "Paper"),
            t("Desc", "A4 paper"),
            t("Quantity", "10"),
            t("Cost", "100.00"),
            t("Amount", "1000.00"),
        ),
        t("OpenAmount", open_amount),
    )


def purchase_order() -> etree._Element:
    return el(
        "PurchaseOrderRet",
        *head("TxnID", "PO-1"),
        ref("VendorRef", "Acme Supply Co"),
        t("TxnDate", "2026-11-20"),
        t("RefNumber", "PO-9"),
        t("ExpectedDate", "2026-11-30"),
        t("TotalAmount", "980.50"),
        t("IsManuallyClosed", "false"),
        t("IsFullyReceived", "false"),
        t("Memo", "Q4 restock"),
        el(
            "PurchaseOrderLineRet",
            t("TxnLineID", "P1"),
            ref("ItemRef", "Paper"),
            t("Desc", "A4 paper"),
            t("Quantity", "10"),
            t("Rate", "98.05"),
            t("Amount", "980.50"),
        ),
    )


def applied(
    txn_id: str, txn_type: str, ref_number: str, amount: str, remaining: str
) -> etree._Element:
    return el(
        "AppliedToTxnRet",
        t("TxnID", txn_id),
        t("TxnType", txn_type),
        t("TxnDate", "2026-11-24"),
        t("RefNumber", ref_number),
        t("BalanceRemaining", remaining),
        t("Amount", amount),
    )


def bill_payment_check() -> etree._Element:
    return el(
        "BillPaymentCheckRet",
        *head("TxnID", "BPC-1"),
        ref("PayeeEntityRef", "Acme Supply Co"),
        ref("APAccountRef", "Accounts Payable"),
        t("TxnDate", "2026-11-25"),
        ref("BankAccountRef", "Checking"),
        t("Amount", "1250.00"),
        t("RefNumber", "1001"),
        applied("1A2B-1764000000", "Bill", "INV-77", "1250.00", "0.00"),
    )


def bill_payment_credit_card() -> etree._Element:
    return el(
        "BillPaymentCreditCardRet",
        *head("TxnID", "BPCC-1"),
        ref("PayeeEntityRef", "Acme Supply Co"),
        t("TxnDate", "2026-11-25"),
        ref("CreditCardAccountRef", "Amex"),
        t("Amount", "300.00"),
        t("RefNumber", "CC-5"),
        applied("B-2", "Bill", "INV-78", "300.00", "200.00"),
    )


def receive_payment() -> etree._Element:
    return el(
        "ReceivePaymentRet",
        *head("TxnID", "RP-1"),
        ref("CustomerRef", "Globex Corp"),
        ref("ARAccountRef", "Accounts Receivable"),
        t("TxnDate", "2026-11-26"),
        t("RefNumber", "CHK-88"),
        t("TotalAmount", "2000.00"),
        ref("PaymentMethodRef", "Check"),
        ref("DepositToAccountRef", "Undeposited Funds"),
        t("UnusedPayment", "0.00"),
        t("UnusedCredits", "0.00"),
        applied("INV-1", "Invoice", "1001", "2000.00", "2200.00"),
    )


def invoice(subtotal: str | None = "4000.00", tax: str | None = "200.00") -> etree._Element:
    return el(
        "InvoiceRet",
        *head("TxnID", "INV-1"),
        ref("CustomerRef", "Globex Corp"),
        t("TxnDate", "2026-11-24"),
        t("RefNumber", "1001"),
        t("PONumber", "G-7"),
        ref("TermsRef", "Net 15"),
        t("DueDate", "2026-12-09"),
        t("Subtotal", subtotal),
        ref("ItemSalesTaxRef", "State tax"),
        t("SalesTaxPercentage", "5.00"),
        t("SalesTaxTotal", tax),
        t("AppliedAmount", "-2000.00"),
        t("BalanceRemaining", "2200.00"),
        ref("CurrencyRef", "US Dollar"),
        t("IsPaid", "false"),
        el(
            "InvoiceLineRet",
            t("TxnLineID", "I1"),
            ref("ItemRef", "Consulting"),
            t("Desc", "November retainer"),
            t("Quantity", "1"),
            t("Rate", "4000.00"),
            t("Amount", "4000.00"),
        ),
    )


def account() -> etree._Element:
    return el(
        "AccountRet",
        *head("ListID", "A-1"),
        t("Name", "Electric"),
        t("FullName", "Utilities:Electric"),
        t("IsActive", "true"),
        t("AccountType", "Expense"),
        t("AccountNumber", "6120"),
    )


def employee() -> etree._Element:
    return el(
        "EmployeeRet",
        *head("ListID", "E-1"),
        t("Name", "Bob Smith"),
        t("IsActive", "false"),
        t("FirstName", "Bob"),
        t("LastName", "Smith"),
        t("JobTitle", "Clerk"),
        t("SSN", "123-45-6789"),
    )


def txn_deleted(kind: str, txn_id: str, ref_number: str | None = None) -> etree._Element:
    return el(
        "TxnDeletedRet",
        t("TxnDelType", kind),
        t("TxnID", txn_id),
        t("TimeCreated", T1),
        t("TimeDeleted", T2),
        t("RefNumber", ref_number),
    )


def list_deleted(kind: str, list_id: str, full_name: str) -> etree._Element:
    return el(
        "ListDeletedRet",
        t("ListDelType", kind),
        t("ListID", list_id),
        t("TimeCreated", T1),
        t("TimeDeleted", T2),
        t("FullName", full_name),
    )


def parsed(*answers: etree._Element) -> list[QueryResult]:
    xml = document(*answers)
    assert_valid_qbxml(xml)  # the samples are realistic: valid qbXML 13.0 answers
    return parse_response(xml)


# -- every entity ------------------------------------------------------------------------------


def test_every_entity_is_read():
    results = parsed(
        rs(
            "CompanyQueryRs",
            el("CompanyRet", t("CompanyName", "Acme Books LLC")),
            requestID="company",
        ),
        rs("VendorQueryRs", vendor(), requestID="vendor"),
        rs("BillQueryRs", bill(), requestID="bill"),
        rs("PurchaseOrderQueryRs", purchase_order(), requestID="purchase_order"),
        rs("BillPaymentCheckQueryRs", bill_payment_check(), requestID="bpc"),
        rs("BillPaymentCreditCardQueryRs", bill_payment_credit_card(), requestID="bpcc"),
        rs("ReceivePaymentQueryRs", receive_payment(), requestID="rp"),
        rs("InvoiceQueryRs", invoice(), requestID="invoice"),
        rs("AccountQueryRs", account(), requestID="account"),
        rs("EmployeeQueryRs", employee(), requestID="employee"),
    )
    assert [r.entity for r in results] == [
        "company",
        "vendor",
        "bill",
        "purchase_order",
        "bill_payment_check",
        "bill_payment_credit_card",
        "receive_payment",
        "invoice",
        "account",
        "employee",
    ]
    assert all(r.ok and r.status_code == 0 and r.status_severity == "Info" for r in results)
    assert parse_company(results) == parse_company(results[0]) == "Acme Books LLC"
    objs = {r.entity: r.objects[0] for r in results[1:]}
    summary = {k: (o.object_type, o.name, o.ref_number, o.amount) for k, o in objs.items()}
    assert summary == {
        "vendor": ("Vendor", "Acme Supply Co", None, None),
        "bill": ("Bill", "Acme Supply Co", "INV-77", "1250.00"),
        "purchase_order": ("PurchaseOrder", "Acme Supply Co", "PO-9", "980.50"),
        "bill_payment_check": ("BillPaymentCheck", "Acme Supply Co", "1001", "1250.00"),
        "bill_payment_credit_card": ("BillPaymentCreditCard", "Acme Supply Co", "CC-5", "300.00"),
        "receive_payment": ("ReceivePayment", "Globex Corp", "CHK-88", "2000.00"),
        "invoice": ("Invoice", "Globex Corp", "1001", "4200.00"),  # Subtotal + SalesTaxTotal
        "account": ("Account", "Utilities:Electric", None, None),
        "employee": ("Employee", "Bob Smith", None, None),
    }
    for obj in objs.values():
        assert obj.edit_sequence == "1764000000" and not obj.is_deleted
        assert (obj.time_created, obj.time_modified, obj.time_deleted) == (T1, T2, None)
        json.dumps(obj.payload)  # stored as JSON
    b = objs["bill"]
    assert (b.object_id, b.currency) == ("1A2B-1764000000", "US Dollar")
    assert b.payload["memo"] == "Paper & toner <Q4>" and b.payload["terms"] == "Net 30"
    assert b.payload["is_paid"] is True and b.payload["open_amount"] == "0.00"
    assert b.payload["due_date"] == "2026-12-24" and b.payload["txn_date"] == "2026-11-24"
    assert b.payload["line_items"] == [
        {"description": "Toner", "account": "Office Supplies", "amount": "250.00"},
        {"description": "A4 paper", "item": "Paper", "quantity": "10", "amount": "1000.00"},
    ]
    assert b.payload["linked_txns"][0]["txn_id"] == "PO-1"
    paid = objs["bill_payment_check"].payload["applied_to"]
    assert paid == [
        {
            "txn_id": "1A2B-1764000000",
            "txn_type": "Bill",
            "ref_number": "INV-77",
            "txn_date": "2026-11-24",
            "amount": "1250.00",
            "balance_remaining": "0.00",
        }
    ]
    assert objs["bill_payment_check"].payload["bank_account"] == "Checking"
    assert objs["bill_payment_credit_card"].payload["bank_account"] == "Amex"
    assert objs["receive_payment"].payload["applied_to"][0]["txn_type"] == "Invoice"
    assert objs["receive_payment"].payload["payment_method"] == "Check"
    inv = objs["invoice"].payload
    assert (inv["open_amount"], inv["is_paid"], inv["subtotal"]) == ("2200.00", False, "4000.00")
    assert objs["purchase_order"].payload["is_fully_received"] is False
    assert objs["vendor"].payload["is_active"] is True
    assert objs["vendor"].payload["company_name"] == "Acme Supply Company LLC"
    assert objs["employee"].payload == {
        "full_name": "Bob Smith",
        "job_title": "Clerk",
        "is_active": False,
    }  # no SSN, no personal data


def test_amount_variants():
    (r,) = parsed(rs("InvoiceQueryRs", invoice(tax=None), invoice(subtotal=None)))
    assert [o.amount for o in r.objects] == ["4000.00", None]
    (r,) = parsed(rs("BillQueryRs", bill(amount="-12", open_amount="-12")))
    assert r.objects[0].amount == "-12"  # kept exactly as QuickBooks wrote it


def test_objects_without_identity_are_skipped():
    (r,) = parsed(
        rs(
            "VendorQueryRs",
            vendor(list_id=None),
            vendor(seq=None),
            vendor(name=None, list_id="V-2"),
        )
    )
    assert [o.object_id for o in r.objects] == ["V-2"] and r.objects[0].name is None
    (r,) = parsed(rs("BillQueryRs", bill(txn_id=None), bill(vendor_name=None)))
    assert len(r.objects) == 1 and r.objects[0].name is None


# -- statuses and iterators --------------------------------------------------------------------


def test_iterator_fields():
    (r,) = parsed(
        rs(
            "BillQueryRs",
            bill(),
            requestID="bill",
            iteratorRemainingCount="150",
            iteratorID="{eb05f701-e727-472f-8ade-6753c4f67a46}",
        )
    )
    assert (r.iterator_id, r.iterator_remaining) == ("{eb05f701-e727-472f-8ade-6753c4f67a46}", 150)
    (last,) = parsed(rs("BillQueryRs", bill(), iteratorRemainingCount="0", iteratorID="{x}"))
    assert last.iterator_remaining == 0
    (plain,) = parsed(rs("AccountQueryRs", account()))
    assert (plain.iterator_id, plain.iterator_remaining) == (None, None)


@pytest.mark.parametrize(
    "code,severity,message,ok",
    [
        ("1", "Info", NO_MATCH["statusMessage"], True),
        ("3391", "Error", 'Could not find the iterator with iteratorID "{x}".', False),
        ("530", "Warn", "The query returned more than expected.", True),
        ("500", "Warn", "The query request has not been fully completed.", True),
        ("3120", "Error", 'Object "80000001-1" specified in the request cannot be found.', False),
        ("3250", "Error", "This feature is not enabled or not available.", False),
    ],
)
def test_statuses(code, severity, message, ok):
    status = {"statusCode": code, "statusSeverity": severity, "statusMessage": message}
    (r,) = parsed(rs("BillQueryRs", status=status, requestID="bill"))
    assert (r.request_id, r.entity, r.status_code, r.status_severity, r.status_message) == (
        "bill",
        "bill",
        int(code),
        severity,
        message,
    )
    assert r.ok is ok and r.objects == []


def test_error_answers_carry_no_data_and_unknown_answers_are_skipped():
    doc = document(
        rs("BillQueryRs", bill(), status={"statusCode": "3100", "statusSeverity": "Error"}),
        rs("CustomerQueryRs", el("CustomerRet", *head("ListID", "C-1"), t("Name", "X"))),
        rs("HostQueryRs"),
    )
    assert_valid_qbxml(doc)
    bad, customer, host = parse_response(doc)
    assert (bad.entity, bad.objects, bad.ok) == ("bill", [], False)
    assert (customer.entity, customer.objects, customer.ok) == (None, [], True)
    assert host.entity is None and parse_company([bad, customer, host]) is None


def test_missing_or_odd_status_attributes():
    (r,) = parse_response(
        "<QBXML><QBXMLMsgsRs><BillQueryRs statusCode='x' "
        "iteratorRemainingCount='lots'/></QBXMLMsgsRs></QBXML>"
    )
    assert (r.status_code, r.status_severity, r.iterator_remaining, r.ok) == (
        -1,
        "Error",
        None,
        False,
    )
    (unknown,) = parse_response(
        "<QBXML><QBXMLMsgsRs><UnknownRs statusCode='0'/></QBXMLMsgsRs></QBXML>"
    )
    assert (unknown.entity, unknown.ok) == (None, True)  # code 0 is OK without a severity


# -- deletions ---------------------------------------------------------------------------------


def test_deleted_objects():
    txn, lst = parsed(
        rs(
            "TxnDeletedQueryRs",
            txn_deleted("Bill", "1A2B-1", "INV-77"),
            txn_deleted("ReceivePayment", "RP-9"),
            txn_deleted("Check", "CK-1"),
            requestID="txn_deleted",
        ),
        rs(
            "ListDeletedQueryRs",
            list_deleted("Vendor", "V-1", "Acme Supply Co"),
            list_deleted("Account", "A-1", "Utilities:Electric"),
            requestID="list_deleted",
        ),
    )
    assert (txn.entity, lst.entity) == ("txn_deleted", "list_deleted")
    assert [(o.entity, o.object_type, o.object_id) for o in txn.objects] == [
        ("bill", "Bill", "1A2B-1"),
        ("receive_payment", "ReceivePayment", "RP-9"),
        ("txn_deleted", "Check", "CK-1"),
    ]
    b = txn.objects[0]
    assert b.is_deleted and b.edit_sequence == f"deleted:{T2}"
    assert (b.time_deleted, b.time_modified, b.time_created) == (T2, T2, T1)
    assert (b.ref_number, b.name, b.payload["ref_number"]) == ("INV-77", None, "INV-77")
    v = lst.objects[0]
    assert (v.entity, v.object_type, v.name, v.payload["full_name"]) == (
        "vendor",
        "Vendor",
        "Acme Supply Co",
        "Acme Supply Co",
    )
    assert lst.objects[1].entity == "account"


def test_deletion_records_without_identity_are_skipped():
    doc = (
        "<QBXML><QBXMLMsgsRs><TxnDeletedQueryRs statusCode='0' statusSeverity='Info'>"
        "<TxnDeletedRet><TxnDelType>Bill</TxnDelType><TxnID>1</TxnID></TxnDeletedRet>"
        "<TxnDeletedRet><TxnID>2</TxnID><TimeDeleted>x</TimeDeleted></TxnDeletedRet>"
        "<ListDeletedRet><ListDelType>Vendor</ListDelType><ListID>3</ListID>"
        "<TimeDeleted>x</TimeDeleted></ListDeletedRet>"
        "</TxnDeletedQueryRs></QBXMLMsgsRs></QBXML>"
    )
    assert parse_response(doc)[0].objects == []


def test_no_match_for_deletions():
    (r,) = parsed(rs("TxnDeletedQueryRs", status=NO_MATCH))
    assert (r.status_code, r.ok, r.objects) == (1, True, [])


def test_signon_and_processing_instructions_are_tolerated():
    doc = (
        '<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n<QBXML>'
        "<!-- comment --><QBXMLMsgsRs><?odd pi?><VendorQueryRs statusCode='0' "
        "statusSeverity='Info'>"
        + etree.tostring(vendor(), encoding="unicode")
        + "</VendorQueryRs></QBXMLMsgsRs></QBXML>"
    )
    assert parse_response(doc)[0].objects[0].name == "Acme Supply Co"
    assert parse_response(doc.encode("utf-8"))[0].objects[0].name == "Acme Supply Co"


# -- the simulator's answers -------------------------------------------------------------------


def test_simulator_answers_of_every_kind_parse_and_are_valid():
    company = fixtures.load()
    company.add_account("Rent")
    company.add_employee("Bob")
    queries = [
        Query(key, f"{key}-{iterator}", iterator=iterator)
        for key, entity in ENTITIES.items()
        for iterator in (("Start", None) if entity.iterator else (None,))
    ]
    queries += [
        Query("txn_deleted", "td"),
        Query("txn_deleted", "td1", deleted_types=("Bill",)),
        Query("list_deleted", "ld"),
        Query("list_deleted", "ld3", deleted_types=("Vendor", "Account", "Employee")),
    ]
    response = Answerer(company).answer(build_batch(queries, company_owner_id=OWNER_ID))
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


def test_simulator_iterator_answers_parse():
    company = FakeCompany()
    company.generate(vendors=1, bills=250)
    answerer = Answerer(company)
    first = parse_response(answerer.answer(build_request([Query("bill", "b", None, "Start")])))
    assert len(first[0].objects) == 100 and first[0].iterator_remaining == 150
    gone = parse_response(
        answerer.answer(build_request([Query("bill", "b", None, "Continue", "{nope}")]))
    )
    assert gone[0].status_code == 3391 and not gone[0].ok


# -- hostile and broken input ------------------------------------------------------------------

XXE = (
    b'<?xml version="1.0"?><!DOCTYPE QBXML [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b"<QBXML><QBXMLMsgsRs><CompanyQueryRs statusCode='0' statusSeverity='Info'><CompanyRet>"
    b"<CompanyName>&e;</CompanyName></CompanyRet></CompanyQueryRs></QBXMLMsgsRs></QBXML>"
)
INTERNAL_ENTITY = b'<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><QBXML>&b;</QBXML>'
PARAMETER_ENTITY = b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]><QBXML/>'
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10)
        for i in range(1, 10)
    )
    + b"]><QBXML>&lol9;</QBXML>"
)
XINCLUDE = (
    b'<QBXML xmlns:xi="http://www.w3.org/2001/XInclude"><QBXMLMsgsRs>'
    b'<xi:include href="file:///etc/passwd" parse="text"/></QBXMLMsgsRs></QBXML>'
)


@pytest.mark.parametrize(
    "data,error",
    [
        (XXE, UnsafeXmlError),
        (XXE.decode(), UnsafeXmlError),
        (PARAMETER_ENTITY, UnsafeXmlError),
        (INTERNAL_ENTITY, UnsafeXmlError),
        (BILLION_LAUGHS, UnsafeXmlError),
        (XINCLUDE, UnsafeXmlError),
        (
            '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY e "x">]><QBXML/>'.encode(
                "utf-16"
            ),
            MalformedXmlError,
        ),  # UTF-16 is refused before any scan is needed
        ('<!DOCTYPE x [<!ENTITY e "x">]><QBXML/>'.encode("utf-16-le"), MalformedXmlError),
        ("<QBXML>caf\xe9</QBXML>".encode("latin-1"), MalformedXmlError),
        (
            '<?xml version="1.0" encoding="ISO-8859-1"?><QBXML/>'.encode("latin-1"),
            MalformedXmlError,
        ),
        ("<QBXML>\ud800</QBXML>", MalformedXmlError),  # a lone surrogate is not text
        (b"", MalformedXmlError),
        (b"\x00\x01garbage", MalformedXmlError),
        (b"not xml at all", MalformedXmlError),
        (b"<QBXML><QBXMLMsgsRs>", MalformedXmlError),
        (b"<QBXML><QBXMLMsgsRs></QBXML>", MalformedXmlError),
        (b"<notqbxml/>", MalformedXmlError),
        (b"<QBXML/>", MalformedXmlError),  # no QBXMLMsgsRs
        (b"<QBXML><QBXMLMsgsRq onError='stopOnError'/></QBXML>", MalformedXmlError),
        (b"<a>" * 300 + b"</a>" * 300, MalformedXmlError),  # deeper than libxml2's safe limit
    ],
)
def test_hostile_and_broken_input(data, error):
    with pytest.raises(error) as caught:
        parse_response(data)
    message = str(caught.value)
    assert "root:" not in message and "Traceback" not in message and len(message) < 400


def test_external_entities_are_never_read():
    for data in (XXE, XXE.replace(b"<!DOCTYPE", b"<!doctype")):
        try:
            results = parse_response(data)
        except QbxmlError:
            continue
        assert "root:" not in str(results)


def test_size_limit():
    doc = document(rs("VendorQueryRs", *[vendor(list_id=f"V-{i}") for i in range(50)]))
    assert len(parse_response(doc, max_bytes=len(doc))[0].objects) == 50
    with pytest.raises(XmlTooLargeError):
        parse_response(doc, max_bytes=len(doc) - 1)
    with pytest.raises(XmlTooLargeError):
        parse_response(doc.encode(), max_bytes=1000)
    with pytest.raises(XmlTooLargeError):
        parse_response("é" * 600, max_bytes=1000)  # counted in UTF-8 bytes, not characters


def test_errors_are_value_errors_with_short_messages():
    assert issubclass(QbxmlError, ValueError)
    for cls in (UnsafeXmlError, XmlTooLargeError, MalformedXmlError):
        assert issubclass(cls, QbxmlError)
    with pytest.raises(MalformedXmlError) as caught:
        parse_xml(b"<a><b></a>")
    assert str(caught.value).startswith("malformed XML")


# -- property: anything in, results or QbxmlError out ------------------------------------------

TAGS = [
    "QBXML",
    "QBXMLMsgsRs",
    "BillQueryRs",
    "BillRet",
    "TxnID",
    "EditSequence",
    "VendorRet",
    "VendorQueryRs",
    "ListID",
    "TimeModified",
    "Amount",
    "AmountDue",
    "Subtotal",
    "SalesTaxTotal",
    "InvoiceQueryRs",
    "InvoiceRet",
    "CompanyQueryRs",
    "CompanyRet",
    "CompanyName",
    "ReceivePaymentQueryRs",
    "ReceivePaymentRet",
    "AppliedToTxnRet",
    "ItemLineRet",
    "TxnDeletedQueryRs",
    "TxnDeletedRet",
    "TxnDelType",
    "TimeDeleted",
    "ListDeletedQueryRs",
    "ListDeletedRet",
    "ListDelType",
    "IsPaid",
    "CurrencyRef",
    "FullName",
    "x",
]
ATTRS = [
    "statusCode",
    "requestID",
    "iteratorID",
    "statusSeverity",
    "iteratorRemainingCount",
    "statusMessage",
]
texts = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20),
    st.sampled_from(
        [
            "0",
            "1",
            "3391",
            "Info",
            "Warn",
            "Error",
            "true",
            "1e999999",
            "NaN",
            "-0.00",
            "9" * 5000,
            "Bill",
            "Vendor",
            "12.345678",
        ]
    ),
)

xml_texts = st.one_of(
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"
        ),
        max_size=20,
    ),
    st.sampled_from(
        [
            "0",
            "1",
            "-1",
            "3391",
            "Info",
            "Warn",
            "true",
            "FALSE",
            "1e999999",
            "12.345678",
            "9" * 40,
            "9" * 13 + ".99",
            "Bill",
            "Vendor",
            "Check",
            # Hostile numbers and sizes: never a payload value, never a big one.
            "1e1000000000",
            "NaN",
            "-Infinity",
            "sNaN",
            "0x1F",
            "١٢٣",
            "9" * 5000,
            "x" * 5000,
            "é" * 4000,
        ]
    ),
)


@st.composite
def trees(draw, depth=0):
    tag = draw(st.sampled_from(TAGS))
    attrs = draw(st.dictionaries(st.sampled_from(ATTRS), texts, max_size=3))
    children = [] if depth > 3 else draw(st.lists(trees(depth + 1), max_size=3))
    attr_text = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    return f"<{tag}{attr_text}>{escape(draw(texts))}{''.join(children)}</{tag}>"


def qbxml_trees() -> st.SearchStrategy[str]:
    return trees().map(lambda body: f"<QBXML><QBXMLMsgsRs>{body}</QBXMLMsgsRs></QBXML>")


SAMPLES = [
    ("VendorQueryRs", vendor),
    ("BillQueryRs", bill),
    ("PurchaseOrderQueryRs", purchase_order),
    ("InvoiceQueryRs", invoice),
    ("BillPaymentCheckQueryRs", bill_payment_check),
    ("AccountQueryRs", account),
    ("BillPaymentCreditCardQueryRs", bill_payment_credit_card),
    ("ReceivePaymentQueryRs", receive_payment),
    ("EmployeeQueryRs", employee),
    ("TxnDeletedQueryRs", lambda: txn_deleted("Bill", "1", "R")),
    ("ListDeletedQueryRs", lambda: list_deleted("Vendor", "2", "V")),
]


@st.composite
def mutated_answers(draw):
    """Realistic answers with fields dropped, duplicated or replaced by arbitrary text."""
    answers = [
        rs(tag, make())
        for tag, make in draw(st.lists(st.sampled_from(SAMPLES), min_size=1, max_size=3))
    ]
    for node in [n for a in answers for n in a.iter() if n.getparent() is not None]:
        action = draw(st.sampled_from(["keep"] * 6 + ["text", "drop", "dup", "child", "attr"]))
        if action == "text":
            node.text = draw(xml_texts)
        elif action == "drop" and node.getparent() is not None:
            node.getparent().remove(node)
        elif action == "dup" and node.getparent() is not None:
            node.addnext(etree.fromstring(etree.tostring(node)))
        elif action == "child":
            node.append(el(draw(st.sampled_from(TAGS)), text=draw(xml_texts)))
        elif action == "attr":
            node.set(draw(st.sampled_from(ATTRS)), draw(xml_texts))
    for answer in answers:
        answer.attrib.update(draw(st.dictionaries(st.sampled_from(ATTRS), xml_texts, max_size=2)))
    return document(*answers)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        mutated_answers(),
        qbxml_trees(),
        trees(),
        st.binary(max_size=200),
        texts,
        mutated_answers().map(lambda s: s.encode("utf-8")),
    )
)
def test_parser_never_raises_anything_but_qbxml_errors(doc):
    try:
        results = parse_response(doc)
    except QbxmlError:
        return
    assert isinstance(results, list)
    for result in results:
        assert isinstance(result.status_code, int)
        for obj in result.objects:
            json.dumps(obj.payload)
            assert obj.object_id and obj.edit_sequence
            _bounded(obj)


# Payload keys holding numbers, with their qbXML type (lines and links: see the parser).
NUMERIC_KEYS = {
    key: NUMBER_ELEMENTS[path.rpartition("/")[2]]
    for fields in (COMMON_TXN_FIELDS, *TYPE_FIELDS.values())
    for key, path in fields.items()
    if path.rpartition("/")[2] in NUMBER_ELEMENTS
}
NESTED_NUMERIC = {
    "quantity": NUMBER_ELEMENTS["Quantity"],
    "amount": NUMBER_ELEMENTS["Amount"],
    "balance_remaining": NUMBER_ELEMENTS["BalanceRemaining"],
    "discount_amount": NUMBER_ELEMENTS["DiscountAmount"],
}


def _bounded(obj) -> None:
    """Every number kept is of its qbXML type; every text within its limit."""
    if obj.amount is not None:
        value = Decimal(obj.amount)
        assert value.is_finite() and abs(value) < Decimal(10) ** 15, obj.amount
    for text in (obj.object_id, obj.edit_sequence, obj.name, obj.ref_number, obj.currency):
        assert text is None or len(text) <= TEXT_DEFAULT
    for key, value in obj.payload.items():
        if key in NUMERIC_KEYS and not isinstance(value, bool):
            assert NUMERIC_KEYS[key].check(value), (key, value)
        elif isinstance(value, str):
            assert len(value) <= max(TEXT_LIMITS.values()), key
        elif isinstance(value, list):
            for item in value:
                for k, v in item.items():
                    if k in NESTED_NUMERIC:
                        assert NESTED_NUMERIC[k].check(v), (key, k, v)
                    else:
                        assert len(v) <= max(TEXT_LIMITS.values()), (key, k)
