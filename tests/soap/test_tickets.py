"""Tickets: one connection each; expired, closed, unknown and replaced tickets touch nothing."""

from __future__ import annotations

from soap.session import ticket_hash
from soap.simulator import FakeCompany, QBWCSimulator
from soap.simulator.qbxml_answer import Answerer
from soap.tickets import KEY_PREFIX, Ticket, TicketState, TicketStore
from tests.support.soap import connect, connection, count_events, events, watermarks


def _company(tag: str) -> FakeCompany:
    company = FakeCompany(f"{tag} LLC")
    company.add_vendor(f"{tag} Vendor")
    company.add_bill(f"{tag} Vendor", "10.00", ref_number=f"{tag}-1")
    return company


def _key(ticket: str) -> str:
    return KEY_PREFIX + ticket_hash(ticket)


def _stored(rt, ticket: str) -> Ticket:
    return Ticket.loads(rt.redis.get(_key(ticket)))


def test_tickets_never_cross_connections_or_tenants(live_server, qbwc):
    rt = live_server.runtime
    a = connect(rt, "TA", "A Books")
    a2 = connect(rt, "TA", "A Second File")  # same workspace, another company file
    b = connect(rt, "TB", "B Books")  # another workspace
    ticket_a = qbwc.authenticate(a.username, a.password)[0]
    ticket_a2 = qbwc.authenticate(a2.username, a2.password)[0]
    ticket_b = qbwc.authenticate(b.username, b.password)[0]
    # Each connection's authenticate left the others' sessions alone.
    for ticket, conn in ((ticket_a, a), (ticket_a2, a2), (ticket_b, b)):
        row = _stored(rt, ticket)
        assert row.connection_id == conn.connection_id and row.tenant_id == conn.tenant_id
    # Whatever the answer contains, a ticket only ever writes to its own connection.
    for ticket, tag in ((ticket_a, "A"), (ticket_a2, "A2"), (ticket_b, "B")):
        request = qbwc.send(ticket)
        assert qbwc.receive(ticket, Answerer(_company(tag)).answer(request)) == 100
    for conn, tag in ((a, "A"), (a2, "A2"), (b, "B")):
        got = events(rt, connection_id=conn.connection_id)
        assert {e.ref_number for e in got if e.object_type == "Bill"} == {f"{tag}-1"}
        assert {e.tenant_id for e in got} == {conn.tenant_id}
        assert {e.payload["company"] for e in got} == {conn.company}
        assert set(watermarks(rt, conn.connection_id)) >= {"bill", "vendor"}


def test_unknown_closed_and_expired_tickets_are_refused_without_touching_data(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt)
    company = _company("X")
    ticket = qbwc.authenticate(c.username, c.password)[0]
    request = qbwc.send(ticket)
    response = Answerer(company).answer(request)
    for bad in ("made-up-ticket", ticket + "x", ""):
        assert qbwc.send(bad) == ""
        assert qbwc.receive(bad, response) < 0
        assert "expired or is unknown" in qbwc.text("getLastError", bad)
        assert qbwc.text("connectionError", bad, hresult="0x80040408", message="x") == "done"
        assert qbwc.text("closeConnection", bad) == "OK"
    assert count_events(rt) == 0 and watermarks(rt, c.connection_id) == {}
    assert connection(rt, c.connection_id).last_error is None
    # Expired: the same answer is refused once the ticket's 30 minutes are over.
    assert rt.redis.expire(_key(ticket), 0)  # its time is up
    assert qbwc.receive(ticket, response) < 0
    assert count_events(rt) == 0 and watermarks(rt, c.connection_id) == {}
    # Closed: the same.
    ticket = qbwc.authenticate(c.username, c.password)[0]
    request = qbwc.send(ticket)
    assert qbwc.text("closeConnection", ticket).startswith("Finished")
    assert qbwc.receive(ticket, Answerer(company).answer(request)) < 0
    assert qbwc.send(ticket) == ""
    assert count_events(rt) == 0


def test_each_call_slides_the_expiry(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt)
    ticket = qbwc.authenticate(c.username, c.password)[0]
    assert rt.redis.expire(_key(ticket), 60)  # 29 minutes later...
    assert "VendorQueryRq" in qbwc.send(ticket)
    assert rt.redis.ttl(_key(ticket)) > 29 * 60


def test_sendrequest_while_a_response_is_pending_resends_the_same_request(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt)
    company = FakeCompany()
    company.generate(vendors=2, bills=150)
    ticket = qbwc.authenticate(c.username, c.password)[0]
    first = qbwc.send(ticket)
    assert qbwc.send(ticket) == first  # asked again before answering: the same request
    answerer = Answerer(company)
    assert 0 <= qbwc.receive(ticket, answerer.answer(first)) < 100
    second = qbwc.send(ticket)
    assert 'iterator="Continue"' in second and qbwc.send(ticket) == second
    assert qbwc.receive(ticket, answerer.answer(second)) == 100
    assert count_events(rt, object_type="Bill") == 150
    assert _stored(rt, ticket).requests_sent == 2


def test_reauthentication_mid_session_restarts_from_the_watermarks(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt)
    company = FakeCompany()
    company.generate(vendors=2, bills=150)
    answerer = Answerer(company)
    old = qbwc.authenticate(c.username, c.password)[0]
    first = qbwc.send(old)
    page1 = answerer.answer(first)
    assert 0 <= qbwc.receive(old, page1) < 100  # page 1 of 2 taken
    pending = qbwc.send(old)
    assert 'iterator="Continue"' in pending
    # QBWC restarts (network failure, user clicked Update again): a new authenticate.
    new = qbwc.authenticate(c.username, c.password)[0]
    assert rt.redis.keys(KEY_PREFIX + "*") == [_key(new).encode()]
    assert qbwc.receive(old, answerer.answer(pending)) < 0  # the old session is over
    assert "expired or is unknown" in qbwc.text("getLastError", old)
    restart = qbwc.send(new)
    assert 'iterator="Start"' in restart and 'iterator="Continue"' not in restart
    assert "bill" not in watermarks(rt, c.connection_id)  # the bills never finished
    company.expire_iterators()
    progress = qbwc.receive(new, answerer.answer(restart))
    while progress < 100:
        progress = qbwc.receive(new, answerer.answer(qbwc.send(new)))
    bills = events(rt, object_type="Bill")
    assert len(bills) == 150 and len({e.object_id for e in bills}) == 150
    assert "bill" in watermarks(rt, c.connection_id)
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert report.ok and count_events(rt, object_type="Bill") == 150


def test_a_call_in_flight_at_a_new_login_cannot_revive_the_old_ticket(live_server, qbwc):
    """QBWC restarted while our answer to its last call was still being written."""
    rt = live_server.runtime
    c = connect(rt)
    old = qbwc.authenticate(c.username, c.password)[0]
    in_flight = _stored(rt, old)  # what a slow call read before the new login
    new = qbwc.authenticate(c.username, c.password)[0]
    in_flight.state = TicketState.DONE
    assert TicketStore(rt.redis).save(in_flight) is False
    assert qbwc.send(old) == "" and "VendorQueryRq" in qbwc.send(new)
