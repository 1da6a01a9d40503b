"""Full QBWC sessions over real HTTP against the SOAP endpoint, with the fake QuickBooks."""

from __future__ import annotations

from sqlalchemy import func, select

from jobs.models import BASELINE, PENDING, Event
from soap.simulator import FakeCompany, QBWCSimulator
from tenants.models import Connection, Watermark
from tests.fixtures_soap import connect
from tests.qbxml_schema import assert_valid_qbxml


def events(runtime, **where):
    with runtime.transaction() as db:
        stmt = select(Event).order_by(Event.id)
        for k, v in where.items():
            stmt = stmt.where(getattr(Event, k) == v)
        return list(db.scalars(stmt))


def test_full_session_every_entity_type(live_server):
    rt = live_server.runtime
    c = connect(rt)
    company = FakeCompany.from_fixture()
    company.add_account("Rent")  # opt-in type, not routed: not polled
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert report.ok, report
    assert report.calls[:3] == ["serverVersion", "clientVersion", "authenticate"]
    assert report.calls[-1] == "closeConnection" and report.progress[-1] == 100
    for request in report.requests:
        assert_valid_qbxml(request)
    assert "AccountQueryRq" not in report.requests[0]
    got = events(rt)
    kinds = {(e.object_type, e.action) for e in got}
    assert ("Vendor", "created") in kinds
    assert ("Bill", "created") in kinds or ("Bill", "updated") in kinds
    assert {"PurchaseOrder", "BillPaymentCheck", "ReceivePayment", "Invoice"} <= {
        e.object_type for e in got
    }
    deleted = [e for e in got if e.action == "deleted"]
    assert [d.ref_number for d in deleted] == ["INV-78"]
    assert all(e.status == PENDING for e in got)
    bill = next(e for e in got if e.ref_number == "NW-2231")
    assert bill.amount == "98000.50" and bill.counterparty == "Northwind Traders"
    assert bill.payload["company"] == "Acme Books"
    with rt.transaction() as db:
        conn = db.get(Connection, c.connection_id)
        assert conn.last_poll_at is not None and conn.status == "ok" and conn.last_error is None
        assert conn.qb_company_name == "Acme Books LLC"
        marks = {w.entity: w.value for w in db.scalars(select(Watermark))}
    assert marks["bill"].endswith("-08:00") and "txn_deleted" in marks


def test_second_poll_without_changes_creates_nothing(live_server):
    rt = live_server.runtime
    c = connect(rt)
    company = FakeCompany.from_fixture()
    first = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    count = len(events(rt))
    second = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert first.ok and second.ok
    assert len(second.requests) == 1  # one round trip when nothing changed
    assert len(events(rt)) == count  # the overlap window re-fetches, dedupe drops it
    company.modify(company.find_ref("INV-77"), memo="changed")
    third = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert third.ok
    updated = events(rt, ref_number="INV-77", action="updated")
    assert len(updated) >= 1 and updated[-1].payload["memo"] == "changed"


def test_iterators_over_250_bills(live_server):
    rt = live_server.runtime
    c = connect(rt)
    company = FakeCompany()
    company.generate(vendors=3, bills=260)
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert report.ok
    assert len(report.requests) == 3  # pages of 100, 100, 60
    assert 'iterator="Continue"' in report.requests[1]
    assert report.progress[-1] == 100 and all(0 <= p < 100 for p in report.progress[:-1])
    for request in report.requests:
        assert_valid_qbxml(request)
    assert len(events(rt, object_type="Bill")) == 260


def test_first_connection_records_a_baseline_and_one_notice(live_server):
    rt = live_server.runtime
    c = connect(rt, baseline_done=False)
    company = FakeCompany.from_fixture()
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert report.ok
    got = events(rt)
    notices = [e for e in got if e.action == "connected"]
    assert len(notices) == 1 and notices[0].payload["company"] == "Acme Books LLC"
    assert notices[0].status == PENDING
    assert all(e.status == BASELINE for e in got if e.action != "connected")
    # The next change is posted normally.
    company.add_bill("Acme Supply Co", "10.00", ref_number="NEW-1")
    QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    new = events(rt, ref_number="NEW-1")
    assert len(new) == 1 and new[0].status == PENDING and new[0].action == "created"


def test_backfill_posts_the_history(live_server):
    rt = live_server.runtime
    c = connect(rt, baseline_done=False, backfill_days=30)
    report = QBWCSimulator(live_server.qbwc, c.username, c.password,
                           FakeCompany.from_fixture()).run()
    assert report.ok
    assert all(e.status == PENDING for e in events(rt))


def test_quickbooks_closed_then_recovered_loses_nothing(live_server):
    rt = live_server.runtime
    c = connect(rt)
    company = FakeCompany.from_fixture()
    company.fail_next("0x80040408", "Could not start QuickBooks.")
    failed = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert not failed.ok and failed.progress == [-101]
    assert "QuickBooks could not be started" in failed.last_error
    assert events(rt) == []
    with rt.transaction() as db:
        conn = db.get(Connection, c.connection_id)
        assert conn.status == "error" and "0x80040408" in conn.last_error
        assert db.scalar(select(func.count()).select_from(Watermark)) == 0
    ok = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert ok.ok
    assert len(events(rt, object_type="Bill", action="created")) == 2
    assert len(events(rt, object_type="Bill", action="deleted")) == 1
    with rt.transaction() as db:
        conn = db.get(Connection, c.connection_id)
        assert conn.status == "ok" and conn.last_error is None
