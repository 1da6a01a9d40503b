"""QuickBooks errors: hresults, connectionError, bad answers, failed queries, old versions."""

from __future__ import annotations

import logging
import re

from soap.simulator import FakeCompany, QBWCSimulator
from soap.simulator.qbxml_answer import Answerer
from tests.support.soap import (
    connect,
    connection,
    count_events,
    edit_response,
    events,
    paged_session,
    watermarks,
)

CLOSED = "QuickBooks could not be started or the company file is not open (0x80040408)"


def clockless(request: str) -> str:
    """A request with its date-times blanked."""
    return re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", "<time>", request)


def small_company() -> FakeCompany:
    co = FakeCompany()
    co.add_vendor("Acme Supply Co")
    bill = co.add_bill("Acme Supply Co", "100.00", ref_number="B-1")
    co.add_bill("Acme Supply Co", "200.00", ref_number="B-2")
    co.pay_bill(bill, ref_number="P-1")
    co.delete(co.find_ref("B-2"))
    return co


def test_quickbooks_closed_then_recovered_loses_nothing(live_server):
    rt = live_server.runtime
    c = connect(rt)
    company = small_company()
    company.fail_next("0x80040408", "Could not start QuickBooks.")
    failed = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert not failed.ok and failed.progress == [-101]
    assert failed.last_error is not None
    assert (
        failed.last_error.startswith(CLOSED) and "Could not start QuickBooks." in failed.last_error
    )
    assert (failed.close_message or "").startswith("Finished with an error")
    assert count_events(rt) == 0 and watermarks(rt, c.connection_id) == {}
    conn = connection(rt, c.connection_id)
    assert conn.status == "error" and (conn.last_error or "").startswith(CLOSED)
    assert conn.last_error_at is not None
    ok = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    # The same queries asked again; a first sync's window is by the server clock, which
    # may have ticked between the two sessions.
    assert ok.ok and clockless(ok.requests[0]) == clockless(failed.requests[0])
    assert {e.ref_number for e in events(rt, object_type="Bill")} == {"B-1", "B-2"}
    assert count_events(rt, object_type="Bill", action="deleted") == 1
    assert count_events(rt, object_type="BillPaymentCheck") == 1
    conn = connection(rt, c.connection_id)
    assert conn.status == "ok" and conn.last_error is None


def test_quickbooks_failing_mid_iteration_keeps_that_entitys_watermark(live_server, qbwc):
    rt = live_server.runtime
    c, company, answerer, ticket = paged_session(rt, qbwc, bills=150)
    assert qbwc.receive(ticket, answerer.answer(qbwc.send(ticket))) < 100
    assert qbwc.send(ticket)
    assert qbwc.receive(ticket, "", "0x80040401", "Could not access QuickBooks.") < 0
    assert "QuickBooks could not be accessed (0x80040401)" in qbwc.text("getLastError", ticket)
    assert "bill" not in watermarks(rt, c.connection_id)
    assert "vendor" in watermarks(rt, c.connection_id)  # finished on page 1
    qbwc.text("closeConnection", ticket)
    company.expire_iterators()
    assert QBWCSimulator(live_server.qbwc, c.username, c.password, company).run().ok
    bills = events(rt, object_type="Bill")
    assert len(bills) == 150 == len({e.object_id for e in bills})


def test_connection_error_is_stored_and_ends_the_session(live_server):
    rt = live_server.runtime
    c = connect(rt)
    company = small_company()
    company.fail_next("0x80040418", "The company file is not open.", on_open=True)
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert not report.ok and report.connection_errors == ["done"] and report.requests == []
    conn = connection(rt, c.connection_id)
    assert conn.status == "error" and "0x80040418" in (conn.last_error or "")
    assert "The company file is not open." in (conn.last_error or "")
    assert QBWCSimulator(live_server.qbwc, c.username, c.password, company).run().ok
    assert connection(rt, c.connection_id).status == "ok"


def test_unreadable_answer_is_a_readable_error(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt)
    ticket = qbwc.authenticate(c.username, c.password)[0]
    qbwc.send(ticket)
    assert qbwc.receive(ticket, "<QBXML><QBXMLMsgsRs><Vendor") < 0
    assert "could not be read" in qbwc.text("getLastError", ticket)
    assert "could not be read" in (connection(rt, c.connection_id).last_error or "")
    ticket = qbwc.authenticate(c.username, c.password)[0]
    qbwc.send(ticket)
    assert qbwc.receive(ticket, "", "", "QuickBooks is busy") < 0  # a message alone
    assert "QuickBooks reported an error: QuickBooks is busy" in qbwc.text("getLastError", ticket)


def test_a_failed_query_skips_only_that_entity(live_server, qbwc, caplog):
    rt = live_server.runtime
    c = connect(rt)
    company = small_company()
    answerer = Answerer(company)
    ticket = qbwc.authenticate(c.username, c.password)[0]
    response = answerer.answer(qbwc.send(ticket))
    response = edit_response(
        response,
        "BillQueryRs",
        statusCode="3120",
        statusSeverity="Error",
        statusMessage="Object not found.",
    )
    response = edit_response(
        response,
        "VendorQueryRs",
        statusCode="530",
        statusSeverity="Warn",
        statusMessage="Some data was truncated.",
    )
    caplog.set_level(logging.WARNING, logger="soap.sync")
    assert qbwc.receive(ticket, response) == 100  # the cycle still ends
    assert "Some data was truncated." in caplog.text  # a warning: logged, data used
    conn = connection(rt, c.connection_id)
    assert conn.status == "error" and "Bill: QuickBooks answered status 3120" in (
        conn.last_error or ""
    )
    assert "Object not found." in qbwc.text("getLastError", ticket)
    assert qbwc.text("closeConnection", ticket).startswith("Finished with an error")
    marks = watermarks(rt, c.connection_id)
    assert "bill" not in marks and {"vendor", "bill_payment_check", "txn_deleted"} <= set(marks)
    assert count_events(rt, object_type="Bill") == 1  # the deletion came by its own query
    assert count_events(rt, object_type="Vendor") == 1
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert report.ok
    assert {e.ref_number for e in events(rt, object_type="Bill")} == {"B-1", "B-2"}
    assert connection(rt, c.connection_id).last_error is None


def test_quickbooks_too_old_gets_a_clear_message(live_server):
    rt = live_server.runtime
    c = connect(rt)
    report = QBWCSimulator(
        live_server.qbwc, c.username, c.password, small_company(), qbxml_major=7, qbxml_minor=0
    ).run()
    assert not report.ok and report.requests == []
    assert report.last_error is not None
    assert "qbXML 7.0" in report.last_error and "needs qbXML 8.0 or newer" in report.last_error
    conn = connection(rt, c.connection_id)
    assert conn.status == "error" and "QuickBooks 2009 or later" in (conn.last_error or "")
    older = QBWCSimulator(
        live_server.qbwc, c.username, c.password, small_company(), qbxml_major=8, qbxml_minor=0
    ).run()
    assert older.ok and '<?qbxml version="8.0"?>' in older.requests[0]
    assert count_events(rt, object_type="Bill") == 2
