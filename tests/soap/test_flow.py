"""Full QBWC sessions over real HTTP with the fake QuickBooks: every entity, one round trip."""

from __future__ import annotations

from app.core.jobqueue import DELIVERY_QUEUE
from app.core.migrate import upgrade
from app.core.runtime import Runtime
from jobs.enums import EventStatus
from soap.simulator import FakeCompany, QBWCSimulator
from tenants.routes import set_route
from tests.conftest import make_settings
from tests.support.qbxml_schema import assert_valid_qbxml
from tests.support.soap import (
    connect,
    connection,
    count_events,
    events,
    serving,
    watermarks,
)

NO_CHANGE_CALLS = [
    "serverVersion",
    "clientVersion",
    "authenticate",
    "sendRequestXML",
    "receiveResponseXML",
    "closeConnection",
]


def every_kind_company() -> FakeCompany:
    """A company with one of everything qbslack polls, changed and deleted."""
    co = FakeCompany("Every Kind LLC")
    co.add_vendor("Acme Supply Co", email="billing@acme.example")
    co.add_vendor("Old Vendor")
    co.add_account("Rent", "Expense")
    co.add_employee("Dana Whitfield")
    bill = co.add_bill("Acme Supply Co", "1250.00", ref_number="INV-77", memo="paper")
    card_bill = co.add_bill("Acme Supply Co", "40.00", ref_number="INV-80")
    co.add_purchase_order("Acme Supply Co", amount="300.00", ref_number="PO-1")
    invoice = co.add_invoice("Jane Doe", amount="99.50", ref_number="1001")
    co.pay_bill(bill, "250.00", ref_number="5012")
    co.pay_bill(card_bill, method="credit_card", ref_number="CC-1")
    co.receive_payment(invoice, "99.50", ref_number="CHK-1")
    doomed = co.add_bill("Acme Supply Co", "75.10", ref_number="INV-78")
    co.delete(doomed)
    co.delete(co.find_name("Old Vendor"))
    return co


def test_full_session_with_every_entity_type(live_server):
    rt = live_server.runtime
    c = connect(rt)
    with rt.transaction() as db:  # the opt-in types are polled because they are routed
        set_route(c.tenant_id, "account", "CACCOUNTS", db_session=db)
        set_route(c.tenant_id, "employee", "CPEOPLE", db_session=db)
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, every_kind_company()).run()
    assert report.ok, report
    assert report.calls == NO_CHANGE_CALLS and report.progress == [100]
    assert (report.close_message or "").endswith("changes queued for Slack")
    for request in report.requests:
        assert_valid_qbxml(request)
    first = report.requests[0]
    for rq in (
        "VendorQueryRq",
        "BillQueryRq",
        "PurchaseOrderQueryRq",
        "BillPaymentCheckQueryRq",
        "BillPaymentCreditCardQueryRq",
        "ReceivePaymentQueryRq",
        "InvoiceQueryRq",
        "AccountQueryRq",
        "EmployeeQueryRq",
        "TxnDeletedQueryRq",
        "ListDeletedQueryRq",
    ):
        assert first.count(f"<{rq} ") == 1, rq
    assert 'onError="continueOnError"' in first and "<ActiveStatus>All</ActiveStatus>" in first
    assert "<ListDelType>Account</ListDelType>" in first
    got = events(rt)
    by_type = {(e.event_type, e.object_type, e.action) for e in got}
    assert {
        ("vendor", "Vendor", "created"),
        ("bill", "Bill", "created"),
        ("purchase_order", "PurchaseOrder", "created"),
        ("bill_payment", "BillPaymentCheck", "created"),
        ("bill_payment", "BillPaymentCreditCard", "created"),
        ("payment_received", "ReceivePayment", "created"),
        ("invoice", "Invoice", "created"),
        ("account", "Account", "created"),
        ("employee", "Employee", "created"),
        ("bill", "Bill", "deleted"),
        ("vendor", "Vendor", "deleted"),
    } <= by_type
    assert all(e.status == EventStatus.PENDING for e in got)
    bill = next(e for e in got if e.ref_number == "INV-77")
    assert bill.counterparty == "Acme Supply Co" and bill.amount == "1250.00"
    assert (bill.qb_time_modified or "").endswith("-08:00") and bill.sort_key.tzinfo is not None
    for key in ("object_type", "name", "ref_number", "amount", "currency", "company", "action"):
        assert key in bill.payload, key
    assert bill.payload["company"] == "Acme Books" and bill.payload["memo"] == "paper"
    deleted = next(e for e in got if e.action == "deleted" and e.object_type == "Bill")
    assert deleted.ref_number == "INV-78" and deleted.edit_sequence.startswith("deleted:")
    conn = connection(rt, c.connection_id)
    assert conn.status == "ok" and conn.last_error is None and conn.last_poll_at is not None
    assert conn.qb_company_name == "Every Kind LLC" and (conn.qb_file_path or "").endswith(".QBW")
    marks = watermarks(rt, c.connection_id)
    assert set(marks) >= {
        "vendor",
        "bill",
        "purchase_order",
        "bill_payment_check",
        "bill_payment_credit_card",
        "receive_payment",
        "invoice",
        "account",
        "employee",
        "txn_deleted",
        "list_deleted",
    }
    assert all((v or "").endswith("-08:00") for v in marks.values())  # QuickBooks' own text


def test_opt_in_types_are_not_polled_unless_routed(live_server):
    rt = live_server.runtime
    c = connect(rt)
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, every_kind_company()).run()
    assert report.ok
    assert "AccountQueryRq" not in report.requests[0]
    assert "EmployeeQueryRq" not in report.requests[0]
    assert "<ListDelType>Account</ListDelType>" not in report.requests[0]
    assert count_events(rt, event_type="account") == 0
    assert count_events(rt, event_type="employee") == 0


def test_a_cycle_without_changes_is_one_round_trip_and_creates_nothing(live_server):
    rt = live_server.runtime
    c = connect(rt)
    company = every_kind_company()
    assert QBWCSimulator(live_server.qbwc, c.username, c.password, company).run().ok
    before, marks = count_events(rt), watermarks(rt, c.connection_id)
    for _ in range(3):
        report = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
        assert report.ok and report.calls == NO_CHANGE_CALLS and report.progress == [100]
        # Every session first asks which company file is open (our OwnerID's FileID).
        assert report.requests[0].count("<CompanyQueryRq ") == 1
        for request in report.requests:
            assert_valid_qbxml(request)
    # The overlap re-fetched the last hour; the dedupe key dropped every repeat.
    assert count_events(rt) == before and watermarks(rt, c.connection_id) == marks


def test_changes_become_updated_events_in_the_next_cycle(live_server):
    rt = live_server.runtime
    c = connect(rt)
    company = every_kind_company()
    assert QBWCSimulator(live_server.qbwc, c.username, c.password, company).run().ok
    company.advance(600)
    company.modify(company.find_ref("INV-77"), memo="changed")
    company.modify(company.find_name("Acme Supply Co"), phone="555-0100")
    new_bill = company.add_bill("Acme Supply Co", "5.00", ref_number="NEW-1")
    company.pay_bill(new_bill, ref_number="5013")
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert report.ok and report.progress == [100]
    updated = events(rt, ref_number="INV-77", action="updated")
    assert len(updated) == 1 and updated[0].payload["memo"] == "changed"
    assert len(events(rt, object_type="Vendor", action="updated")) == 1
    new = events(rt, ref_number="NEW-1")
    # Created, then paid (a second version) before the poll: the newest version only.
    assert len(new) == 1 and new[0].action == "created"
    assert count_events(rt, ref_number="5013", action="created") == 1


def test_committed_events_are_handed_to_delivery(live_server):
    rt = live_server.runtime
    c = connect(rt)
    queue = rt.jobs.queue(DELIVERY_QUEUE)
    assert queue.count == 0
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, every_kind_company()).run()
    assert report.ok
    got = events(rt)
    # Routed to the workspace's default channel and a drain job queued for it.
    pending = [e for e in got if e.status == EventStatus.PENDING]
    assert pending and all(e.channel_id == "CDEFAULT" for e in pending)
    assert queue.count + len(queue.scheduled_job_registry.get_job_ids()) >= 1


def test_embedded_mode_sqlite_without_redis(tmp_path):
    """`make run`'s default: SQLite and in-process jobs; the same sessions work."""
    url = f"sqlite:///{tmp_path / 'qbslack.db'}"
    upgrade(url)
    rt = Runtime.from_settings(make_settings(database_url=url, redis_url=None))
    try:
        with serving(rt) as base:
            c = connect(rt)
            endpoint = base + "/qbwc"
            company = every_kind_company()
            first = QBWCSimulator(endpoint, c.username, c.password, company).run()
            assert first.ok and first.progress == [100]
            assert connection(rt, c.connection_id).qbwc_version == "2.3.0.215"  # no Redis
            count = count_events(rt)
            assert count >= 10 and count_events(rt, action="deleted") == 2
            again = QBWCSimulator(endpoint, c.username, c.password, company).run()
            assert again.ok and again.calls == NO_CHANGE_CALLS and count_events(rt) == count
    finally:
        rt.close()
