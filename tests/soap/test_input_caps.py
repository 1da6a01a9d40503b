"""QuickBooks' input, bounded: hostile numbers, long texts, big pages and sessions, a PC clock
set years ahead. From outside: the QBWC simulator over real HTTP, delivery through RQ to the
fake Slack."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from app.core.runtime import Runtime
from jobs import outbox
from jobs.alerts import check_health
from jobs.enums import EventStatus
from jobs.models import Event
from soap.plan import CLOCK_AHEAD
from soap.qbtime import to_utc
from soap.qbxml.limits import MAX_PAYLOAD_BYTES, TEXT_LIMITS
from soap.simulator import FakeCompany, QBWCSimulator
from soap.simulator.qbwc_client import SessionReport
from soap.sync import MAX_PAGE_OBJECTS, MAX_SESSION_EVENTS
from tenants.models import Watermark
from tenants.routes import set_route
from tests.fakes import FakeSlack
from tests.support.jobs import add_events, results, run_jobs
from tests.support.qbxml_schema import assert_valid_qbxml
from tests.support.soap import Connected, connect, connection, count_events, events, serving

HOSTILE_NUMBERS = ["1e1000000000", "NaN", "-Infinity", "sNaN", "9" * 5000, "0x1F", "1,250.00"]


def capped(what: str) -> float:
    """The qbslack_input_capped_total counter of one kind (this process)."""
    return REGISTRY.get_sample_value("qbslack_input_capped_total", {"what": what}) or 0.0


@dataclass
class Desk:
    """A running app, the fake Slack, and QBWC sessions that end with deliveries."""

    runtime: Runtime
    url: str
    fake: FakeSlack

    def session(
        self, who: Connected, company: FakeCompany, *, deliver: bool = True
    ) -> SessionReport:
        report = QBWCSimulator(self.url + "/qbwc", who.username, who.password, company).run()
        for request in report.requests:
            assert_valid_qbxml(request)
        if deliver:
            run_jobs(self.runtime)
        return report

    def texts(self, channel: str) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.fake.posts(channel)]


@pytest.fixture
def desk(live_runtime: Runtime, fake_slack: FakeSlack) -> Iterator[Desk]:
    rt = live_runtime
    rt.settings = rt.settings.with_overrides(slack_post_interval=0.05)
    fake_slack.post_interval = 0.05
    with serving(rt) as url:
        yield Desk(rt, url, fake_slack)


def tenant(desk: Desk, team_id: str, channel: str) -> Connected:
    who = connect(desk.runtime, team_id, f"{team_id} Books")
    desk.fake.add_token(f"xoxb-{team_id}")
    with desk.runtime.transaction() as db:
        set_route(who.tenant_id, "default", channel, db_session=db)
    return who


def company(name: str = "Acme Books LLC", **kwargs: object) -> FakeCompany:
    co = FakeCompany(name, **kwargs)  # type: ignore[arg-type]
    co.add_vendor("Acme Supply Co")
    co.add_vendor("Jane Doe")
    return co


def hostile(co: FakeCompany, object_id: str, **raw: str) -> None:
    """Replace element texts of an object as QuickBooks (or a client) sends them."""
    co.records[object_id].fields["raw"] = raw


def posted(rt: Runtime, who: Connected) -> list[Event]:
    with rt.transaction() as db:
        rows = list(
            db.scalars(
                select(Event).where(Event.connection_id == who.connection_id).order_by(Event.id)
            )
        )
        db.expunge_all()
    return rows


# -- finding 1: one number must not stop the shared delivery workers ---------------------------


def test_hostile_amounts_are_dropped_and_every_message_is_posted(desk: Desk) -> None:
    rt = desk.runtime
    bad = tenant(desk, "T100", "CBAD")
    calm = tenant(desk, "T200", "CCALM")
    co_bad, co_calm = company(), company("Calm Books LLC")
    for co in (co_bad, co_calm):
        assert desk.session(bad if co is co_bad else calm, co).ok  # binds; nothing new yet
    before = capped("number")

    bill = co_bad.add_bill("Acme Supply Co", "1250.00", ref_number="B-1")
    hostile(co_bad, bill, OpenAmount="1e1000000000")
    invoice = co_bad.add_invoice("Jane Doe", amount="99.50", ref_number="I-1")
    hostile(co_bad, invoice, BalanceRemaining="NaN")
    odd = co_bad.add_bill("Acme Supply Co", "10.00", ref_number="B-2")
    hostile(co_bad, odd, AmountDue="-Infinity", OpenAmount="9" * 5000)
    for i in range(4):
        co_calm.advance(1)
        co_calm.add_bill("Acme Supply Co", f"{i + 1}00.00", ref_number=f"C-{i}")
    assert desk.session(bad, co_bad).ok and desk.session(calm, co_calm).ok

    # A payment, then the invoice changed again: both reply in the invoice's thread.
    payment = co_bad.receive_payment(invoice, "40.00", ref_number="P-1")
    hostile(co_bad, payment, BalanceRemaining="NaN")
    hostile(co_bad, invoice, BalanceRemaining="1e1000000000")
    co_bad.modify(invoice, memo="second look")
    assert desk.session(bad, co_bad).ok

    assert capped("number") >= before + 6
    for e in posted(rt, bad) + posted(rt, calm):
        assert e.status == EventStatus.POSTED, (e.ref_number, e.status, e.last_error)
        assert "1e1000000000" not in json.dumps(e.payload) and "NaN" not in json.dumps(e.payload)
    texts = desk.texts("CBAD")
    assert "New bill from Acme Supply Co · #B-1 · $1,250.00" in texts
    assert "New invoice to Jane Doe · #I-1 · $99.50" in texts
    assert "New bill from Acme Supply Co · #B-2" in texts  # its amount was not a number
    assert any(t.startswith("Payment received from Jane Doe · #P-1 · $40.00") for t in texts)
    assert any(t.startswith("Invoice updated to Jane Doe · #I-1") for t in texts)
    for call in desk.fake.posts("CBAD"):
        assert len(json.dumps(call.params)) < 20_000
    # The other workspace's channel kept its pace: every post the first time, in order.
    assert [t for t in desk.texts("CCALM") if "#C-" in t] == [
        f"New bill from Acme Supply Co · #C-{i} · ${i + 1}00.00" for i in range(4)
    ]
    assert all(c.ok for c in desk.fake.calls(channel="CCALM"))
    for e in posted(rt, calm):
        assert results(rt, e.id) == ["posted"]


def test_events_stored_with_bad_numbers_are_still_posted(desk: Desk) -> None:
    """Events written before the parser checked numbers (or by any bug) post readably."""
    rt = desk.runtime
    who = tenant(desk, "T100", "CBAD")
    co = company()
    assert desk.session(who, co).ok
    bill = co.add_bill("Acme Supply Co", "1250.00", ref_number="B-1")
    assert desk.session(who, co).ok
    specs = []
    for i, value in enumerate(HOSTILE_NUMBERS):
        applied = [{"txn_id": bill, "amount": value, "balance_remaining": value}]
        specs += [
            {
                "object_id": bill,
                "action": "updated",
                "edit_sequence": f"old-{i}",
                "ref_number": "B-1",
                "name": "Acme Supply Co",
                "amount": value[:32],
                "payload": {
                    "amount": value,
                    "open_amount": value,
                    "line_items": [{"description": "Paper", "quantity": value, "amount": value}],
                    "applied_to": applied,
                },
            },
            {
                "object_id": f"PAY-{i}",
                "object_type": "BillPaymentCheck",
                "event_type": "bill_payment",
                "name": "Acme Supply Co",
                "amount": "1.00",
                "payload": {"applied_to": applied},
            },
        ]
    ws = {"tenant_id": who.tenant_id, "connection_ids": [who.connection_id]}
    outbox.schedule_events(rt, add_events(rt, ws, specs))
    run_jobs(rt)
    assert count_events(rt, status=EventStatus.POSTED) == len(posted(rt, who))
    replies = [c for c in desk.fake.posts("CBAD") if c.params.get("thread_ts")]
    assert len(replies) == 2 * len(HOSTILE_NUMBERS)
    for call in replies:
        text = str(call.params["text"])
        assert text.startswith(("Bill updated from Acme Supply Co", "Bill paid to Acme Supply Co"))
        assert len(json.dumps(call.params)) < 20_000


# -- finding 5: caps on text, payloads, pages and sessions ---------------------------------------


def test_oversize_text_is_clipped_and_payloads_stay_small(desk: Desk) -> None:
    rt = desk.runtime
    who = tenant(desk, "T100", "CBAD")
    co = company()
    assert desk.session(who, co).ok
    before = {w: capped(w) for w in ("text", "payload")}
    lines = [
        {"account": "Office Supplies", "amount": "1.00", "memo": f"line {i} " + "é" * 4000}
        for i in range(300)
    ]
    co.add_bill(
        "Acme Supply Co " + "x" * 5000,
        ref_number="R" * 1000,
        memo="m" * 100_000,
        lines=lines,
    )
    assert desk.session(who, co).ok
    (bill,) = [e for e in posted(rt, who) if e.object_type == "Bill"]
    assert bill.status == EventStatus.POSTED
    payload = bill.payload
    assert len(json.dumps(payload, ensure_ascii=False).encode()) <= MAX_PAYLOAD_BYTES
    assert len(payload["memo"]) <= TEXT_LIMITS["Memo"] and payload["memo"].endswith("…")
    assert len(payload["name"]) <= 255 and payload["name"].endswith("…")
    assert len(payload["ref_number"]) <= 255
    kept = len(payload.get("line_items", []))
    assert kept < 300 and payload["more_line_items"] == 300 - kept
    assert capped("text") > before["text"] and capped("payload") == before["payload"] + 1
    (call,) = [c for c in desk.fake.posts("CBAD") if "Acme Supply Co x" in c.params["text"]]
    assert f"+{300 - min(kept, 5)} more" in json.dumps(call.params)


def test_a_page_over_max_returned_is_cut_and_the_rest_comes_next_session(desk: Desk) -> None:
    rt = desk.runtime
    who = tenant(desk, "T100", "CBAD")
    co = company()
    co.generate(vendors=0, bills=260)
    co.page_size = 250  # a client that ignores MaxReturned
    before = capped("page")
    first = desk.session(who, co, deliver=False)
    assert first.ok and "<MaxReturned>100</MaxReturned>" in first.requests[0]
    taken = count_events(rt, object_type="Bill")
    assert taken == MAX_PAGE_OBJECTS + 10  # 100 of the first page of 250, then the last 10
    assert capped("page") == before + 150
    co.page_size = None
    assert desk.session(who, co, deliver=False).ok
    bills = [e for e in events(rt) if e.object_type == "Bill"]
    assert len(bills) == 260 == len({e.object_id for e in bills})


@pytest.mark.slow
def test_a_session_creates_at_most_its_cap_and_the_rest_comes_next_session(
    live_server,
) -> None:
    rt = live_server.runtime
    who = connect(rt)
    co = FakeCompany()
    co.generate(vendors=2, bills=MAX_SESSION_EVENTS + 98)
    before = capped("session")
    first = QBWCSimulator(live_server.qbwc, who.username, who.password, co).run()
    assert first.ok and first.close_message == f"{MAX_SESSION_EVENTS} changes queued for Slack"
    assert count_events(rt) == MAX_SESSION_EVENTS
    assert capped("session") == before + 100
    marks = {w.entity: w.value for w in _marks(rt, who)}
    newest = max(co.qb_time(r.time_modified) for r in co.records.values())
    assert marks["bill"] is not None and marks["bill"] < newest  # held before what waits
    second = QBWCSimulator(live_server.qbwc, who.username, who.password, co).run()
    assert second.ok and second.close_message == "100 changes queued for Slack"
    got = events(rt)
    assert len(got) == MAX_SESSION_EVENTS + 100 == len({e.object_id for e in got})
    assert {w.entity: w.value for w in _marks(rt, who)}["bill"] == newest


def _marks(rt: Runtime, who: Connected) -> list[Watermark]:
    with rt.transaction() as db:
        rows = list(
            db.scalars(select(Watermark).where(Watermark.connection_id == who.connection_id))
        )
        db.expunge_all()
    return rows


# -- finding 6: a PC clock set years ahead --------------------------------------------------------


def test_a_change_from_a_future_clock_is_posted_and_later_changes_still_seen(desk: Desk) -> None:
    rt = desk.runtime
    who = tenant(desk, "T100", "CBAD")
    co = company()
    assert desk.session(who, co).ok
    marks_before = {w.entity: w.value for w in _marks(rt, who)}
    real_now = co.now
    co.now = dt.datetime(2031, 5, 1, 9, 0, 0)  # somebody set the PC's clock to 2031
    co.add_bill("Acme Supply Co", "31.00", ref_number="FUTURE-1")
    assert desk.session(who, co).ok
    assert "New bill from Acme Supply Co · #FUTURE-1 · $31.00" in desk.texts("CBAD")
    conn = connection(rt, who.connection_id)
    assert conn.status == "ok" and "QuickBooks clock is in the future" in (conn.last_error or "")
    assert conn.clock_ahead and conn.clock_ahead.startswith("2031-05-01")
    check_health(rt)  # the managers are told once (a DM to the installer: no alerts route)
    check_health(rt)
    run_jobs(rt)
    [alert] = desk.fake.posts("UINSTALLER")
    assert "clock is in the future" in alert.params["text"]
    limit = dt.datetime.now(dt.UTC) + CLOCK_AHEAD
    for mark in _marks(rt, who):
        when = to_utc(mark.value)
        assert when is not None and when <= limit, (mark.entity, mark.value)
    # No watermark went to 2031 (there was none for bills before).
    assert {w.entity: w.value for w in _marks(rt, who)}.get("bill") == marks_before.get("bill")

    co.now = real_now + dt.timedelta(minutes=5)  # the clock is put right
    co.add_bill("Acme Supply Co", "32.00", ref_number="NOW-1")
    assert desk.session(who, co).ok
    assert "New bill from Acme Supply Co · #NOW-1 · $32.00" in desk.texts("CBAD")
    # The Web Connector said "US" (qbXMLCountry): amounts show the home currency's symbol.
    assert connection(rt, who.connection_id).qb_country == "US"
    assert [e.ref_number for e in posted(rt, who)].count("FUTURE-1") == 1  # not posted twice


def test_a_watermark_already_in_the_future_no_longer_hides_changes(desk: Desk) -> None:
    """A watermark kept in 2031 before the rule: the next session looks back again."""
    rt = desk.runtime
    who = tenant(desk, "T100", "CBAD")
    co = company()
    assert desk.session(who, co).ok
    with rt.transaction() as db:
        mark = db.get(Watermark, (who.connection_id, "bill"))
        if mark is None:
            db.add(Watermark(connection_id=who.connection_id, entity="bill", value=""))
            db.flush()
            mark = db.get(Watermark, (who.connection_id, "bill"))
        assert mark is not None
        mark.value = "2031-05-01T09:00:00-08:00"
    co.advance(60)
    co.add_bill("Acme Supply Co", "33.00", ref_number="SEEN-1")
    assert desk.session(who, co).ok
    assert "New bill from Acme Supply Co · #SEEN-1 · $33.00" in desk.texts("CBAD")
    bill_mark = {w.entity: w.value for w in _marks(rt, who)}["bill"]
    when = to_utc(bill_mark)
    assert when is not None and when <= dt.datetime.now(dt.UTC) + CLOCK_AHEAD
