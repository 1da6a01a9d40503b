"""Iterators, resends, stale answers, status 3391 and the runaway cap: always an end."""

from __future__ import annotations

import re

from lxml import etree

from soap.session import MAX_REQUESTS
from soap.simulator import FakeCompany, QBWCSimulator
from tests.support.qbxml_schema import assert_valid_qbxml
from tests.support.soap import connect, connection, count_events, events, paged_session, watermarks


def _queries(request: str) -> list[tuple[str, str | None]]:
    """(query element, iterator attribute) of each query in a request."""
    root = etree.fromstring(request.split("\n", 2)[2].encode())
    return [(rq.tag, rq.get("iterator")) for rq in root.find("QBXMLMsgsRq")]


def test_iterators_over_hundreds_of_objects(live_server):
    rt = live_server.runtime
    c = connect(rt)
    company = FakeCompany()
    company.generate(vendors=120, bills=260)
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert report.ok, report
    assert len(report.requests) == 3  # bills 100 + 100 + 60, vendors 100 + 20
    for request in report.requests:
        assert_valid_qbxml(request)
        assert request.count("<MaxReturned>100</MaxReturned>") >= 1
    assert ("VendorQueryRq", "Start") in _queries(report.requests[0])
    assert _queries(report.requests[1]) == [
        ("VendorQueryRq", "Continue"),
        ("BillQueryRq", "Continue"),
    ]
    assert _queries(report.requests[2]) == [("BillQueryRq", "Continue")]
    # A Continue repeats the Start's criteria.
    window = re.findall(r"<FromModifiedDate>([^<]+)</FromModifiedDate>", report.requests[2])
    assert window and window[0] in report.requests[0]
    assert report.progress[-1] == 100
    assert report.progress[:-1] == sorted(report.progress[:-1])
    assert all(0 <= p < 100 for p in report.progress[:-1])
    assert count_events(rt, object_type="Bill") == 260
    assert count_events(rt, object_type="Vendor") == 120
    assert {"bill", "vendor"} <= set(watermarks(rt, c.connection_id))


def test_resent_response_creates_no_second_event(live_server, qbwc):
    rt = live_server.runtime
    c, company, answerer, ticket = paged_session(rt, qbwc, bills=130)
    page1 = answerer.answer(qbwc.send(ticket))
    progress = qbwc.receive(ticket, page1)
    assert 0 <= progress < 100
    count = count_events(rt)
    assert qbwc.receive(ticket, page1) == progress  # resent: acknowledged, nothing added
    assert count_events(rt) == count
    page2 = answerer.answer(qbwc.send(ticket))
    assert qbwc.receive(ticket, page2) == 100
    total = count_events(rt)
    assert qbwc.receive(ticket, page2) == 100 and count_events(rt) == total == 130 + 2
    assert qbwc.text("closeConnection", ticket) == f"{total} changes queued for Slack"


def test_a_stale_answer_to_an_earlier_request_is_ignored(live_server, qbwc):
    rt = live_server.runtime
    c, company, answerer, ticket = paged_session(rt, qbwc, bills=130)
    page1 = answerer.answer(qbwc.send(ticket))
    assert qbwc.receive(ticket, page1) < 100
    count = count_events(rt)
    second = qbwc.send(ticket)
    # The answer to request 1 arrives again while request 2 is pending: ignored.
    assert 0 <= qbwc.receive(ticket, page1) < 100
    assert count_events(rt) == count and "bill" not in watermarks(rt, c.connection_id)
    assert qbwc.send(ticket) == second  # and request 2 is simply asked again
    assert qbwc.receive(ticket, answerer.answer(second)) == 100
    assert count_events(rt, object_type="Bill") == 130


def test_iterator_gone_restarts_once_then_the_entity_fails_alone(live_server, qbwc):
    rt = live_server.runtime
    c, company, answerer, ticket = paged_session(rt, qbwc, bills=150)
    assert qbwc.receive(ticket, answerer.answer(qbwc.send(ticket))) < 100
    company.expire_iterators()  # QuickBooks forgot the iterator: status 3391
    assert qbwc.receive(ticket, answerer.answer(qbwc.send(ticket))) < 100
    restart = qbwc.send(ticket)
    assert _queries(restart) == [("BillQueryRq", "Start")]
    assert qbwc.receive(ticket, answerer.answer(restart)) < 100
    company.expire_iterators()  # a second 3391 in the same session: bills give up
    assert qbwc.receive(ticket, answerer.answer(qbwc.send(ticket))) == 100
    assert "3391" in (connection(rt, c.connection_id).last_error or "")
    assert "bill" not in watermarks(rt, c.connection_id)  # asked again next time
    assert "vendor" in watermarks(rt, c.connection_id)  # the others went on
    qbwc.text("closeConnection", ticket)
    company.expire_iterators()
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert report.ok
    bills = events(rt, object_type="Bill")
    assert len(bills) == 150 == len({e.object_id for e in bills})
    assert connection(rt, c.connection_id).last_error is None


def _endless(request: str) -> str:
    """An answer whose vendor iterator never ends (a broken QuickBooks)."""
    out = ['<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>']
    for tag, _ in _queries(request):
        found = re.search(rf'<{tag} requestID="([^"]+)"', request)
        assert found is not None
        rid = found.group(1)
        rs = tag[:-2] + "Rs"
        if tag == "VendorQueryRq":
            out.append(
                f'<{rs} requestID="{rid}" statusCode="1" statusSeverity="Info" '
                'statusMessage="none" iteratorRemainingCount="5" iteratorID="{X}"/>'
            )
        else:
            out.append(
                f'<{rs} requestID="{rid}" statusCode="1" statusSeverity="Info" '
                'statusMessage="none"/>'
            )
    return "".join(out) + "</QBXMLMsgsRs></QBXML>"


def test_a_runaway_session_ends_with_an_error(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt)
    ticket = qbwc.authenticate(c.username, c.password)[0]
    progress = []
    for _ in range(MAX_REQUESTS + 5):
        request = qbwc.send(ticket)
        if request == "":
            break
        progress.append(qbwc.receive(ticket, _endless(request)))
    assert len(progress) == MAX_REQUESTS and all(0 <= p < 100 for p in progress)
    assert "Stopped after 500 requests" in qbwc.text("getLastError", ticket)
    assert "vendor" not in watermarks(rt, c.connection_id)
    assert connection(rt, c.connection_id).status == "error"
    assert qbwc.text("closeConnection", ticket).startswith("Finished with an error")
