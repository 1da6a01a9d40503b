"""First connection (baseline, one notice, backfill) and the watermark's overlap window."""

from __future__ import annotations

import datetime as dt
import re

from jobs.enums import EventStatus
from soap.simulator import FakeCompany, QBWCSimulator
from soap.simulator.qbwc_client import COMPANY_FILE
from soap.simulator.qbxml_answer import Answerer
from tenants.models import Watermark
from tenants.qwc import OWNER_ID
from tests.support.qbxml_schema import assert_valid_qbxml
from tests.support.soap import connect, connection, count_events, events, watermarks


def _windows(request: str) -> set[str]:
    return set(re.findall(r"<From(?:Modified|Deleted)Date>([^<]+)</", request))


def _days_back(text: str) -> float:
    """How far back a FromModifiedDate is, by the server clock (read as UTC)."""
    when = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    return (dt.datetime.now(dt.UTC) - when) / dt.timedelta(days=1)


def history_company() -> FakeCompany:
    """Ten days of history: an old bill, then recent changes."""
    co = FakeCompany("History LLC", clock=dt.datetime.now(dt.UTC) - dt.timedelta(days=10))
    co.add_vendor("Acme Supply Co")
    co.add_bill("Acme Supply Co", "1.00", ref_number="OLD-1")
    co.advance(9 * 86400)
    co.add_bill("Acme Supply Co", "2.00", ref_number="RECENT-1")
    co.modify(co.find_name("Acme Supply Co"), phone="555-0100")
    return co


def test_first_connection_records_a_baseline_and_one_notice(live_server):
    rt = live_server.runtime
    c = connect(rt, baseline_done=False)
    company = history_company()
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert report.ok and report.progress == [100]
    # QBWC's status column says what happened (the notice is not "a change").
    assert report.close_message == "Connected: baseline recorded, nothing posted"
    windows = _windows(report.requests[0])
    assert len(windows) == 1 and 1.99 < _days_back(windows.pop()) < 2.01
    got = events(rt)
    notices = [e for e in got if e.action == "connected"]
    assert len(notices) == 1
    notice = notices[0]
    conn = connection(rt, c.connection_id)
    assert (
        notice.event_type,
        notice.object_type,
        notice.object_id,
        notice.edit_sequence,
        notice.status,
    ) == ("notice", "Company", conn.file_id, "connected", EventStatus.PENDING)
    assert notice.payload["company"] == "History LLC"
    assert notice.payload["company_file"].endswith(".QBW")
    others = [e for e in got if e.action != "connected"]
    assert {e.ref_number for e in others if e.object_type == "Bill"} == {"RECENT-1"}
    assert others and all(e.status == EventStatus.BASELINE for e in others)  # kept, never posted
    assert conn.baseline_done and conn.qb_company_name == "History LLC"
    assert conn.qb_file_path == COMPANY_FILE
    assert "bill" in watermarks(rt, c.connection_id)
    # Later changes are posted; the notice is not repeated.
    company.advance(60)
    company.add_bill("Acme Supply Co", "3.00", ref_number="NEW-1")
    company.modify(company.find_ref("RECENT-1"), memo="edited")
    later = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert later.ok and later.close_message == "2 changes queued for Slack"
    new = events(rt, ref_number="NEW-1")
    assert len(new) == 1 and new[0].status == EventStatus.PENDING and new[0].action == "created"
    edited = events(rt, ref_number="RECENT-1", action="updated")
    assert len(edited) == 1 and edited[0].status == EventStatus.PENDING
    assert count_events(rt, action="connected") == 1
    quiet = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert quiet.ok and quiet.close_message == "Nothing new"


def test_backfill_posts_the_days_asked_for(live_server):
    rt = live_server.runtime
    c = connect(rt, baseline_done=False, backfill_days=30)
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, history_company()).run()
    assert report.ok
    assert 29.99 < _days_back(_windows(report.requests[0]).pop()) < 30.01
    bills = events(rt, object_type="Bill")
    assert {e.ref_number for e in bills} == {"OLD-1", "RECENT-1"}
    assert all(e.status == EventStatus.PENDING for e in events(rt))
    assert count_events(rt, action="connected") == 1
    conn = connection(rt, c.connection_id)
    assert conn.baseline_done and conn.backfill_days is None


def test_an_empty_first_sync_leaves_watermarks_unset(live_server):
    rt = live_server.runtime
    c = connect(rt, baseline_done=False)
    company = FakeCompany("Empty LLC")
    assert QBWCSimulator(live_server.qbwc, c.username, c.password, company).run().ok
    assert watermarks(rt, c.connection_id) == {}
    assert connection(rt, c.connection_id).baseline_done
    assert count_events(rt) == 1  # the notice
    company.add_vendor("First Vendor")
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert 1.99 < _days_back(_windows(report.requests[0]).pop()) < 2.01  # same window
    assert events(rt, object_type="Vendor")[0].status == EventStatus.PENDING


def test_every_session_first_asks_which_company_file_is_open(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt, baseline_done=False)
    company = FakeCompany("Named By Query Inc")
    ticket = qbwc.authenticate(c.username, c.password)[0]
    request = qbwc.send(ticket, hcp="")  # an empty strHCPResponse
    assert_valid_qbxml(request)
    assert request.count("<CompanyQueryRq ") == 1 and f"<OwnerID>{OWNER_ID}</OwnerID>" in request
    assert qbwc.receive(ticket, Answerer(company).answer(request)) == 100
    notice = events(rt, action="connected")[0]
    assert notice.payload["company"] == "Named By Query Inc"
    assert connection(rt, c.connection_id).qb_company_name == "Named By Query Inc"
    assert connection(rt, c.connection_id).bound_company == "Named By Query Inc"
    # Known now, and still asked: each session proves which file QBWC opened.
    ticket = qbwc.authenticate(c.username, c.password)[0]
    assert "<CompanyQueryRq " in qbwc.send(ticket, hcp="")


def test_overlap_survives_the_daylight_saving_offset_bug(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt)
    # July: the machine is on -07:00 but QuickBooks prints -08:00 (its DST bug).
    company = FakeCompany(tz_offset="-08:00", dst_bug=True, clock="2026-07-15T10:00:00")
    company.add_vendor("Acme Supply Co")
    company.add_bill("Acme Supply Co", "10.00", ref_number="SUMMER-1")
    with rt.transaction() as db:
        db.add(
            Watermark(
                connection_id=c.connection_id, entity="bill", value="2026-07-15T09:30:00-08:00"
            )
        )
    answerer = Answerer(company)
    ticket = qbwc.authenticate(c.username, c.password)[0]
    first = qbwc.send(ticket)
    assert "<FromModifiedDate>2026-07-15T08:30:00</FromModifiedDate>" in first  # no offset
    assert qbwc.receive(ticket, answerer.answer(first)) == 100
    mark = watermarks(rt, c.connection_id)["bill"]
    assert mark is not None
    assert mark.startswith("2026-07-15T10:00:0") and mark.endswith("-08:00")  # as printed
    # The next poll asks from an hour before the watermark: the same bill comes back...
    ticket = qbwc.authenticate(c.username, c.password)[0]
    second = qbwc.send(ticket)
    window = dt.datetime.strptime(mark[:19], "%Y-%m-%dT%H:%M:%S") - dt.timedelta(hours=1)
    assert f"<FromModifiedDate>{window:%Y-%m-%dT%H:%M:%S}</FromModifiedDate>" in second
    answer = answerer.answer(second)
    assert "SUMMER-1" in answer
    assert qbwc.receive(ticket, answer) == 100
    # ...and is still one event.
    assert count_events(rt, ref_number="SUMMER-1") == 1


def test_the_repeated_fall_back_hour_is_not_missed(live_server):
    rt = live_server.runtime
    c = connect(rt)
    company = FakeCompany(tz_offset="-07:00")
    company.now = dt.datetime.now().replace(microsecond=0) - dt.timedelta(hours=3)
    company.add_bill("Acme", "10.00", ref_number="BEFORE")
    assert QBWCSimulator(live_server.qbwc, c.username, c.password, company).run().ok
    company.now -= dt.timedelta(minutes=50)  # clocks fall back: the hour repeats
    company.add_bill("Acme", "20.00", ref_number="REPEATED-HOUR")
    assert QBWCSimulator(live_server.qbwc, c.username, c.password, company).run().ok
    assert count_events(rt, ref_number="REPEATED-HOUR") == 1
    assert count_events(rt, ref_number="BEFORE") == 1
