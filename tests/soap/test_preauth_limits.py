"""Before authentication a post costs little: big bodies need a live ticket, trees have a budget.

Finding 2 of the hostile-tenant review: any POST to /qbwc up to the body limit was parsed
whole before any ticket or password was checked.
"""

from __future__ import annotations

import urllib.error
import urllib.request

from soap.envelope import PREAUTH_MAX_BYTES, peek
from tests.support.soap import (
    LiveServer,
    Qbwc,
    connect,
    count_events,
    envelope,
    fault_string,
    params,
)


def _post(server: LiveServer, body: bytes) -> tuple[int, bytes]:
    req = urllib.request.Request(
        server.qbwc, data=body, headers={"Content-Type": "text/xml"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _vendors_response(status_message: str) -> str:
    return (
        '<?xml version="1.0"?><QBXML><QBXMLMsgsRs><CompanyQueryRs requestID="company.1" '
        'statusCode="1" statusSeverity="Info" statusMessage="none"/>'
        f'<VendorQueryRs requestID="vendor.1" statusCode="1" statusSeverity="Info" '
        f'statusMessage="{status_message}"/></QBXMLMsgsRs></QBXML>'
    )


def test_calls_before_login_refuse_big_bodies_before_parsing(live_server: LiveServer) -> None:
    junk = "<a/>" * (PREAUTH_MAX_BYTES // 4 + 10)
    for method, inner in (
        ("authenticate", params(strUserName="x", strPassword="y") + junk),
        ("clientVersion", params(strVersion="2.3.0.36") + junk),
        ("serverVersion", junk),
    ):
        status, data = _post(live_server, envelope(method, inner).encode())
        assert status == 413 and "too large" in (fault_string(data) or "")


def test_a_big_body_with_an_unknown_ticket_is_refused(live_server: LiveServer) -> None:
    inner = params(ticket="not-a-ticket", response="x" * 200_000, hresult="", message="")
    status, data = _post(live_server, envelope("receiveResponseXML", inner).encode())
    assert status == 413 and "too large" in (fault_string(data) or "")


def test_a_live_session_may_send_a_big_response(live_server: LiveServer, qbwc: Qbwc) -> None:
    c = connect(live_server.runtime)
    ticket, _ = qbwc.authenticate(c.username, c.password)
    assert "VendorQueryRq" in qbwc.send(ticket)
    assert qbwc.receive(ticket, _vendors_response("m" * 300_000)) >= 0


def test_a_response_with_too_many_elements_is_refused_unparsed(
    live_server: LiveServer, qbwc: Qbwc
) -> None:
    c = connect(live_server.runtime)
    ticket, _ = qbwc.authenticate(c.username, c.password)
    assert "VendorQueryRq" in qbwc.send(ticket)
    flood = _vendors_response("x").replace("</QBXMLMsgsRs>", "<a/>" * 450_000 + "</QBXMLMsgsRs>")
    assert qbwc.receive(ticket, flood) < 0
    assert "more XML elements" in qbwc.text("getLastError", ticket)
    assert count_events(live_server.runtime) == 0


def test_an_envelope_with_too_many_elements_is_a_fault(live_server: LiveServer) -> None:
    inner = params(strUserName="x", strPassword="y") + "<a/>" * 5_000
    status, data = _post(live_server, envelope("authenticate", inner).encode())
    assert status == 500 and "too many XML elements" in (fault_string(data) or "")


def test_peek_reads_the_operation_and_ticket_from_the_start_only() -> None:
    body = envelope("receiveResponseXML", params(ticket="abc", response="<" * 10)).encode()
    assert (peek(body).operation, peek(body).ticket) == ("receiveResponseXML", "abc")
    assert peek(b"<junk").operation is None
    assert peek(b'<!DOCTYPE x [<!ENTITY e "y">]><x/>').operation is None
