"""The fake QuickBooks company and its qbXML answers: filters, iterators, statuses, schema."""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re

import pytest
from lxml import etree

from soap.simulator import FakeCompany, QbxmlRequestError, answer, fixtures, hcp_response
from tests.support.qbxml_schema import assert_valid_qbxml

START = "2026-11-24T09:00:00"
ALL_QUERIES = """
<HostQueryRq requestID="host"/>
<CompanyQueryRq requestID="company"/>
<VendorQueryRq requestID="vendor"><ActiveStatus>All</ActiveStatus></VendorQueryRq>
<AccountQueryRq requestID="account"/>
<EmployeeQueryRq requestID="employee"/>
<BillQueryRq requestID="bill"><IncludeLineItems>true</IncludeLineItems>
  <IncludeLinkedTxns>true</IncludeLinkedTxns></BillQueryRq>
<PurchaseOrderQueryRq requestID="po"><IncludeLineItems>true</IncludeLineItems>
  <IncludeLinkedTxns>true</IncludeLinkedTxns></PurchaseOrderQueryRq>
<BillPaymentCheckQueryRq requestID="check"><IncludeLineItems>true</IncludeLineItems>
  </BillPaymentCheckQueryRq>
<BillPaymentCreditCardQueryRq requestID="card"/>
<ReceivePaymentQueryRq requestID="received"/>
<InvoiceQueryRq requestID="invoice"><IncludeLineItems>true</IncludeLineItems>
  <IncludeLinkedTxns>true</IncludeLinkedTxns></InvoiceQueryRq>
<TxnDeletedQueryRq requestID="txn_deleted"><TxnDelType>Bill</TxnDelType>
  <TxnDelType>BillPaymentCheck</TxnDelType></TxnDeletedQueryRq>
<ListDeletedQueryRq requestID="list_deleted"><ListDelType>Vendor</ListDelType>
  <ListDelType>Account</ListDelType></ListDeletedQueryRq>
"""


def doc(body: str, on_error: str = "continueOnError") -> str:
    """A qbXML 13.0 request document, checked against the schema before use."""
    xml = (
        f'<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n'
        f'<QBXML><QBXMLMsgsRq onError="{on_error}">{body}</QBXMLMsgsRq></QBXML>'
    )
    assert_valid_qbxml(xml)
    return xml


def ask(company: FakeCompany, body: str, on_error: str = "continueOnError") -> list[etree._Element]:
    """The Rs elements answering a request, after checking the answer against the schema."""
    out = answer(company, doc(body, on_error))
    assert out.startswith('<?xml version="1.0" ?>\n<QBXML><QBXMLMsgsRs>')
    assert_valid_qbxml(out)
    return list(etree.fromstring(out.split("\n", 1)[1].encode()).find("QBXMLMsgsRs"))


def rets(rs) -> list[etree._Element]:
    """The Ret elements of one Rs."""
    return [child for child in rs if child.tag.endswith("Ret")]


@pytest.fixture
def company() -> FakeCompany:
    return FakeCompany(clock=START)


def test_ids_times_and_edit_sequences_look_like_quickbooks(company):
    vendor = company.add_vendor("Acme Supply Co")
    bill = company.add_bill("Acme Supply Co", "1250", "INV-77")
    assert re.fullmatch(r"8[0-9A-F]{7}-\d{10}", vendor)
    assert re.fullmatch(r"[0-9A-F]+-\d{10}", bill)
    [rs] = ask(company, f"<BillQueryRq><TxnID>{bill}</TxnID></BillQueryRq>")
    ret = rets(rs)[0]
    assert ret.findtext("TimeCreated") == "2026-11-24T09:00:02-08:00"
    epoch = calendar.timegm(dt.datetime(2026, 11, 24, 17, 0, 2).timetuple())
    assert ret.findtext("EditSequence") == str(epoch) and bill.endswith(str(epoch))
    assert ret.findtext("AmountDue") == "1250.00" and ret.findtext("OpenAmount") == "1250.00"
    assert ret.findtext("VendorRef/ListID") == vendor
    company.advance(60)
    company.modify(bill, memo="changed")
    [rs] = ask(company, f"<BillQueryRq><TxnID>{bill}</TxnID></BillQueryRq>")
    ret = rets(rs)[0]
    assert ret.findtext("TimeModified") == "2026-11-24T09:01:03-08:00"
    assert int(ret.findtext("EditSequence")) == epoch + 61
    assert ret.findtext("TimeCreated") == "2026-11-24T09:00:02-08:00"


def test_daylight_saving_offset_and_its_bug():
    summer = dt.datetime(2026, 7, 1, 12, 0)
    assert FakeCompany(clock=summer).qb_time(summer).endswith("-08:00")  # no DST at all
    assert FakeCompany(clock=summer, dst=True).qb_time(summer).endswith("-07:00")
    buggy = FakeCompany(clock=summer, dst_bug=True)
    assert buggy.qb_time(summer) == "2026-07-01T12:00:00-08:00"  # an hour wrong
    assert buggy.epoch(summer) == calendar.timegm(dt.datetime(2026, 7, 1, 19).timetuple())
    winter = dt.datetime(2026, 12, 1, 12, 0)
    assert FakeCompany(clock=winter, dst=True).qb_time(winter).endswith("-08:00")


def test_from_modified_date_is_inclusive_and_honours_offsets(company):
    company.add_vendor("Early")
    company.advance(100)
    late = company.add_vendor("Late")  # 09:01:42
    assert [
        r.findtext("ListID")
        for r in rets(
            ask(
                company,
                (
                    "<VendorQueryRq><FromModifiedDate>2026-11-24T09:01:42</FromModifiedDate>"
                    "</VendorQueryRq>"
                ),
            )[0]
        )
    ] == [late]
    for since, found in [
        ("2026-11-24T12:01:42-05:00", 1),
        ("2026-11-24T12:01:43-05:00", 0),
        ("2026-11-24T17:01:42+00:00", 1),
        ("2026-11-24T09:01:43-08:00", 0),
        ("2026-11-24", 2),
    ]:
        [rs] = ask(
            company, f"<VendorQueryRq><FromModifiedDate>{since}</FromModifiedDate></VendorQueryRq>"
        )
        assert len(rets(rs)) == found, since
    [rs] = ask(
        company,
        "<VendorQueryRq><FromModifiedDate>2026-11-24T09:00:00</FromModifiedDate>"
        "<ToModifiedDate>2026-11-24T09:00:01</ToModifiedDate></VendorQueryRq>",
    )
    assert [r.findtext("Name") for r in rets(rs)] == ["Early"]  # ToModifiedDate inclusive


def test_vendor_query_defaults_to_active_only(company):
    company.add_vendor("Open")
    gone = company.add_vendor("Closed", is_active=False)
    names = {
        status: [
            r.findtext("Name")
            for r in rets(ask(company, (f"<VendorQueryRq>{status}</VendorQueryRq>"))[0])
        ]
        for status in (
            "",
            "<ActiveStatus>All</ActiveStatus>",
            "<ActiveStatus>InactiveOnly</ActiveStatus>",
        )
    }
    assert names[""] == ["Open"]
    assert names["<ActiveStatus>All</ActiveStatus>"] == ["Open", "Closed"]
    assert names["<ActiveStatus>InactiveOnly</ActiveStatus>"] == ["Closed"]
    company.modify(gone, is_active=True)
    assert len(rets(ask(company, "<VendorQueryRq/>")[0])) == 2


def test_transaction_filters_lines_and_links(company):
    bill = company.add_bill(
        "Acme",
        lines=[
            {"account": "Office Supplies", "amount": "100", "memo": "paper"},
            {"item": "Toner", "desc": "Toner", "quantity": "2", "rate": "25", "amount": "50"},
        ],
    )
    company.advance(60)
    mark = company.now + dt.timedelta(seconds=1)
    payment = company.pay_bill(bill, "40.00", method="credit_card", ref_number="V-1")
    [plain] = ask(company, "<BillQueryRq/>")
    assert rets(plain)[0].find("ExpenseLineRet") is None
    assert rets(plain)[0].find("LinkedTxn") is None
    [full] = ask(
        company,
        "<BillQueryRq><ModifiedDateRangeFilter><FromModifiedDate>"
        f"{mark:%Y-%m-%dT%H:%M:%S}</FromModifiedDate></ModifiedDateRangeFilter>"
        "<IncludeLineItems>true</IncludeLineItems>"
        "<IncludeLinkedTxns>true</IncludeLinkedTxns></BillQueryRq>",
    )
    ret = rets(full)[0]  # the payment modified the bill after `mark`
    assert ret.findtext("AmountDue") == "150.00" and ret.findtext("OpenAmount") == "110.00"
    assert ret.findtext("IsPaid") == "false"
    assert ret.findtext("ExpenseLineRet/Memo") == "paper"
    assert ret.findtext("ItemLineRet/ItemRef/FullName") == "Toner"
    assert ret.findtext("LinkedTxn/TxnID") == payment
    assert ret.findtext("LinkedTxn/Amount") == "-40.00"
    [card] = ask(company, "<BillPaymentCreditCardQueryRq/>")
    applied = rets(card)[0].find("AppliedToTxnRet")
    assert applied.findtext("TxnID") == bill and applied.findtext("Amount") == "40.00"
    assert applied.findtext("BalanceRemaining") == "110.00"
    [rs] = ask(company, "<BillQueryRq><PaidStatus>PaidOnly</PaidStatus></BillQueryRq>")
    assert rs.get("statusCode") == "1"
    company.delete(payment)  # deleting the payment reopens the bill
    [rs] = ask(company, "<BillQueryRq/>")
    assert rets(rs)[0].findtext("OpenAmount") == "150.00"


def test_invoices_and_received_payments(company):
    invoice = company.add_invoice(
        "Jane Doe",
        [
            {
                "item": "Consulting",
                "desc": "Retainer",
                "quantity": "1",
                "rate": "4200",
                "amount": "4200",
            }
        ],
        ref_number="1001",
    )
    company.receive_payment(invoice, "4200.00")
    [inv, paid] = ask(
        company,
        "<InvoiceQueryRq><IncludeLineItems>true</IncludeLineItems>"
        "</InvoiceQueryRq><ReceivePaymentQueryRq/>",
    )
    ret = rets(inv)[0]
    assert ret.findtext("Subtotal") == "4200.00" and ret.findtext("BalanceRemaining") == "0.00"
    assert ret.findtext("IsPaid") == "true"
    assert ret.findtext("InvoiceLineRet/Desc") == "Retainer"
    assert rets(paid)[0].findtext("AppliedToTxnRet/RefNumber") == "1001"


def test_deletions_by_type_and_date_kept_90_days(company):
    old_bill = company.add_bill("Acme", "5", "OLD")
    company.delete(old_bill)
    company.advance(91 * 86400)
    bill = company.add_bill("Acme", "10", "GONE-1")
    vendor = company.add_vendor("Bygone Ltd")
    company.delete(bill)
    company.delete(vendor)
    txn, lists = ask(
        company,
        "<TxnDeletedQueryRq><TxnDelType>Bill</TxnDelType>"
        "</TxnDeletedQueryRq><ListDeletedQueryRq><ListDelType>Vendor"
        "</ListDelType></ListDeletedQueryRq>",
    )
    assert [(r.findtext("TxnID"), r.findtext("RefNumber")) for r in rets(txn)] == [(bill, "GONE-1")]
    assert [(r.findtext("ListID"), r.findtext("FullName")) for r in rets(lists)] == [
        (vendor, "Bygone Ltd")
    ]
    later = company.now + dt.timedelta(seconds=1)
    [rs] = ask(
        company,
        "<TxnDeletedQueryRq><TxnDelType>Bill</TxnDelType><DeletedDateRangeFilter>"
        f"<FromDeletedDate>{later:%Y-%m-%dT%H:%M:%S}</FromDeletedDate>"
        "</DeletedDateRangeFilter></TxnDeletedQueryRq>",
    )
    assert rs.get("statusCode") == "1" and not rets(rs)
    [rs] = ask(company, "<TxnDeletedQueryRq><TxnDelType>Invoice</TxnDelType></TxnDeletedQueryRq>")
    assert rs.get("statusCode") == "1"
    assert [r.findtext("Name") for r in rets(ask(company, "<VendorQueryRq/>")[0])] == []


def test_iterators_page_a_snapshot_and_expire(company):
    company.generate(vendors=3, bills=250)
    pages, remaining, it_id = [], [], None
    query = (
        '<BillQueryRq requestID="b" iterator="{}"{}><MaxReturned>100</MaxReturned></BillQueryRq>'
    )
    [rs] = ask(company, query.format("Start", ""))
    company.add_bill("Vendor 00000", "1", "AFTER-START")  # not in the snapshot
    while True:
        pages.append(len(rets(rs)))
        remaining.append(int(rs.get("iteratorRemainingCount")))
        assert rs.get("requestID") == "b"
        it_id = rs.get("iteratorID")
        assert re.fullmatch(r"\{[0-9A-F-]{36}\}", it_id)
        if remaining[-1] == 0:
            break
        [rs] = ask(company, query.format("Continue", f' iteratorID="{it_id}"'))
    assert pages == [100, 100, 50] and remaining == [150, 50, 0]
    for bad in ("{00000000-0000-0000-0000-000000000000}", it_id):  # unknown; released
        [rs] = ask(company, query.format("Continue", f' iteratorID="{bad}"'))
        assert rs.get("statusCode") == "3391" and rs.get("statusSeverity") == "Error"
    [rs] = ask(company, query.format("Start", ""))
    company.expire_iterators()
    [rs] = ask(company, query.format("Continue", f' iteratorID="{rs.get("iteratorID")}"'))
    assert rs.get("statusCode") == "3391"


def test_results_are_sorted_by_time_modified(company):
    first = company.add_bill("Acme", "1", "A")
    second = company.add_bill("Acme", "2", "B")
    company.modify(first, memo="touched")
    [rs] = ask(company, "<BillQueryRq/>")
    assert [r.findtext("TxnID") for r in rets(rs)] == [second, first]


def test_status_codes_request_ids_and_on_error(company):
    [rs] = ask(company, '<BillQueryRq requestID="42"/>')
    assert (rs.get("requestID"), rs.get("statusCode"), rs.get("statusSeverity")) == (
        "42",
        "1",
        "Info",
    )
    assert rs.get("statusMessage") == (
        "A query request did not find a matching object in QuickBooks"
    ) and not rets(rs)
    company.add_vendor("Acme")
    bad = '<VendorQueryRq iterator="Continue" iteratorID="{nope}"/>'
    assert [r.get("statusCode") for r in ask(company, bad + "<VendorQueryRq/>")] == ["3391", "0"]
    assert [r.get("statusCode") for r in ask(company, bad + "<VendorQueryRq/>", "stopOnError")] == [
        "3391"
    ]
    [rs] = ask(company, '<CustomerQueryRq requestID="c"/>')
    assert rs.tag == "CustomerQueryRs" and rs.get("statusSeverity") == "Error"
    assert rs.get("statusCode") == "3250"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "<QBXML><QBXMLMsgsRq>",
        "<notqbxml/>",
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><QBXML>&e;</QBXML>',
        "<QBXML><QBXMLMsgsRq><NotARequest/></QBXMLMsgsRq></QBXML>",
        "<QBXML><QBXMLMsgsRq><VendorQueryRq><MaxReturned>many</MaxReturned></VendorQueryRq>"
        "</QBXMLMsgsRq></QBXML>",
    ],
)
def test_unreadable_requests_fail_the_whole_document(company, bad):
    with pytest.raises(QbxmlRequestError) as err:
        answer(company, bad)
    assert err.value.hresult == "0x80040400"


def test_every_response_kind_is_valid_qbxml_with_rich_objects():
    company = fixtures.load()
    company.add_account("Rent", "Expense", number="6100")
    company.add_employee("Bob Smith", email="bob@example.com")
    company.pay_bill(company.find_ref("NW-2231"), "500.00", method="credit_card")
    po = company.find_ref("PO-1001")
    company.modify(po, memo="Partially received", received=False)
    company.delete(company.add_vendor("Old Vendor"))
    company.delete(company.add_account("Old Account"))
    responses = ask(company, ALL_QUERIES)
    assert [r.tag for r in responses] == [
        "HostQueryRs",
        "CompanyQueryRs",
        "VendorQueryRs",
        "AccountQueryRs",
        "EmployeeQueryRs",
        "BillQueryRs",
        "PurchaseOrderQueryRs",
        "BillPaymentCheckQueryRs",
        "BillPaymentCreditCardQueryRs",
        "ReceivePaymentQueryRs",
        "InvoiceQueryRs",
        "TxnDeletedQueryRs",
        "ListDeletedQueryRs",
    ]
    for rs in responses:
        assert rs.get("statusCode") == "0" and rets(rs), rs.tag
    by_id = {rs.get("requestID"): rs for rs in responses}
    assert by_id["company"].findtext("CompanyRet/CompanyName") == "Acme Books LLC"
    bill = next(r for r in rets(by_id["bill"]) if r.findtext("RefNumber") == "INV-77")
    assert bill.find("ExpenseLineRet") is not None and bill.find("ItemLineRet") is not None
    assert bill.find("LinkedTxn") is not None and bill.findtext("IsPaid") == "true"
    assert rets(by_id["po"])[0].find("PurchaseOrderLineRet") is not None
    assert rets(by_id["check"])[0].find("AppliedToTxnRet") is not None
    assert rets(by_id["invoice"])[0].find("LinkedTxn") is not None
    assert [r.findtext("RefNumber") for r in rets(by_id["txn_deleted"])] == ["INV-78"]
    assert len(rets(by_id["list_deleted"])) == 2
    assert_valid_qbxml(hcp_response(company))
    [rs] = ask(
        company,
        "<CompanyQueryRq><IncludeRetElement>CompanyName</IncludeRetElement></CompanyQueryRq>",
    )
    assert [c.tag for c in rets(rs)[0]] == ["CompanyName"]


def test_fixture_snapshot_round_trip(tmp_path):
    company = fixtures.load()
    company.add_vendor("Inactive Co", is_active=False)
    path = tmp_path / "company.json"
    fixtures.save(company, path)
    again = fixtures.load(path)
    assert json.loads(path.read_text())["format"] == "qbslack-fake-company/1"
    assert answer(again, doc(ALL_QUERIES)) == answer(company, doc(ALL_QUERIES))
    # Both go on the same way: the same next ids and times.
    assert again.add_bill("Acme Supply Co", "1") == company.add_bill("Acme Supply Co", "1")


def test_script_fixture_ops(tmp_path):
    path = tmp_path / "script.json"
    path.write_text(
        json.dumps(
            {
                "name": "Script Co",
                "tz_offset": "-05:00",
                "start": START,
                "actions": [
                    {"op": "vendor", "name": "V1"},
                    {"op": "vendor", "name": "V2", "active": False},
                    {"op": "bill", "vendor": "V1", "amount": "10.00", "ref": "B1"},
                    {"op": "purchase_order", "vendor": "V1", "amount": "20.00", "ref": "P1"},
                    {"op": "invoice", "customer": "C1", "amount": "30.00", "ref": "I1"},
                    {"op": "pay_bill", "ref": "B1", "method": "credit_card"},
                    {"op": "receive_payment", "ref": "I1", "amount": "5.00"},
                    {"op": "advance", "seconds": 3600},
                    {"op": "modify", "name": "V2", "active": True},
                    {"op": "delete", "ref": "P1"},
                ],
            }
        )
    )
    company = fixtures.load(path)
    assert company.name == "Script Co" and company.now.hour == 10
    kinds = sorted(r.kind for r in company.records.values())
    assert kinds == [
        "Bill",
        "BillPaymentCreditCard",
        "Invoice",
        "ReceivePayment",
        "Vendor",
        "Vendor",
    ]
    [rs] = ask(company, "<VendorQueryRq/>")
    assert rets(rs)[-1].findtext("TimeModified").endswith("-05:00")
    with pytest.raises(ValueError):
        fixtures.apply(company, {"op": "explode"})


def test_generate_builds_a_large_company_quickly():
    company = FakeCompany(clock=START)
    company.generate(vendors=2000, bills=10_000, seed=7)
    kinds = [r.kind for r in company.records.values()]
    assert kinds.count("Vendor") == 2000 and kinds.count("Bill") == 10_000
    [rs] = ask(
        company, '<BillQueryRq iterator="Start"><MaxReturned>100</MaxReturned></BillQueryRq>'
    )
    assert rs.get("iteratorRemainingCount") == "9900"
    other = FakeCompany(clock=START)
    other.generate(vendors=2000, bills=10_000, seed=7)
    assert fixtures.snapshot(other) == fixtures.snapshot(company)  # deterministic


def test_fail_next_is_one_shot_state(company):
    company.fail_next("0x80040408", "Could not start QuickBooks.")
    assert company.pending_failure == ("0x80040408", "Could not start QuickBooks.")
    company.fail_next("0x80040410", "The file is in use.", on_open=True)
    assert company.pending_open_failure == ("0x80040410", "The file is in use.")
