"""Hostile and malformed input: a SOAP Fault (HTTP 500) or 413; no traceback, nothing resolved."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import make_settings
from tests.support.soap import (
    connect,
    count_events,
    envelope,
    fault_string,
    params,
    post,
    result_of,
    soap_app,
    watermarks,
)

XXE_FILE = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
XXE_NET = '<!DOCTYPE x [<!ENTITY e SYSTEM "http://127.0.0.1:9/leak">]>'
LAUGHS = (
    '<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]>'
)
PARAM_ENTITY = '<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'


def hostile_envelopes() -> list[bytes | str]:
    inner = params(strVersion="2.3.0.215").replace("2.3.0.215", "&e;")
    return [
        b"<garbage",
        b"",
        b"not xml at all",
        b"\x00\x01\x02",
        XXE_FILE + envelope("clientVersion", inner, declaration=False),
        XXE_NET + envelope("clientVersion", inner, declaration=False),
        LAUGHS + envelope("clientVersion", "<strVersion>&d;</strVersion>", declaration=False),
        PARAM_ENTITY + envelope("serverVersion", declaration=False),
        envelope(
            "clientVersion",
            '<strVersion><xi:include xmlns:xi="http://www.w3.org/2001/'
            'XInclude" href="/etc/passwd" parse="text"/></strVersion>',
        ),
        "\ufeff<a>".encode("utf-16"),  # UTF-16
        '<?xml version="1.0" encoding="ISO-8859-1"?><a>caf\xe9</a>'.encode("latin-1"),
        "<a>caf\xe9</a>".encode("latin-1"),  # undeclared, not UTF-8
        "<Envelope/>",  # not SOAP
        envelope("noSuchMethod"),
        envelope("authenticate", params(strUserName="x")).replace(
            "http://developer.intuit.com/", "urn:wrong"
        ),
        envelope("sendRequestXML", params(ticket="t", qbXMLMajorVers="thirteen")),
        "<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'>" + "<a>" * 300,
    ]


def test_malformed_and_hostile_envelopes_get_a_short_soap_fault(client):
    for body in hostile_envelopes():
        resp = post(client, body)
        text = resp.get_data(as_text=True)
        assert resp.status_code == 500, (body, text)
        assert resp.mimetype == "text/xml"
        message = fault_string(resp.data)
        assert message and len(message) <= 200, (body, text)
        for leak in ("Traceback", "root:", 'File "', "thirteen", "noSuchMethod", "aaaaaaaaaa"):
            assert leak not in text, (body, text)


def test_entities_are_refused_before_any_parser_resolves_them(client):
    resp = post(
        client,
        XXE_FILE + envelope("clientVersion", "<strVersion>&e;</strVersion>", declaration=False),
    )
    assert "DOCTYPE" in (fault_string(resp.data) or "")
    # A harmless version of the same call works: the refusal was about the DOCTYPE.
    ok = post(client, envelope("clientVersion", params(strVersion="2.3.0.215")))
    assert ok.status_code == 200 and result_of(ok.data, "clientVersion") is not None


def test_no_external_entity_is_ever_fetched(live_server, qbwc):
    """A listening socket named by SYSTEM entities sees no connection, envelope or response."""
    with socket.create_server(("127.0.0.1", 0)) as trap:
        trap.setblocking(False)
        port = trap.getsockname()[1]
        doctype = f'<!DOCTYPE x [<!ENTITY e SYSTEM "http://127.0.0.1:{port}/x">]>'
        body = doctype + envelope(
            "clientVersion", "<strVersion>&e;</strVersion>", declaration=False
        )
        assert post(soap_app(live_server.runtime).test_client(), body).status_code == 500
        c = connect(live_server.runtime)
        ticket = qbwc.authenticate(c.username, c.password)[0]
        qbwc.send(ticket)
        response = doctype.replace("DOCTYPE x", "DOCTYPE QBXML") + (
            '<QBXML><QBXMLMsgsRs><VendorQueryRs requestID="vendor.1" statusCode="0" '
            'statusSeverity="Info" statusMessage="&e;"/></QBXMLMsgsRs></QBXML>'
        )
        assert qbwc.receive(ticket, response) < 0
        with pytest.raises(BlockingIOError):
            trap.accept()


def test_missing_parameters_are_clean_answers(client):
    resp = post(client, envelope("authenticate"))
    assert resp.status_code == 200
    result = result_of(resp.data, "authenticate")
    assert result is not None
    assert [s.text or "" for s in result] == ["", "nvu"]
    resp = post(client, envelope("sendRequestXML", params(ticket="nope")))
    assert resp.status_code == 200
    result = result_of(resp.data, "sendRequestXML")
    assert result is not None and (result.text or "") == ""
    resp = post(client, envelope("receiveResponseXML"))
    assert resp.status_code == 200
    result = result_of(resp.data, "receiveResponseXML")
    assert result is not None and int(result.text) < 0


@pytest.fixture
def settings():
    """This module's app accepts SOAP bodies up to 50 KB."""
    return make_settings(max_soap_body_bytes=50_000)


def test_oversized_body_is_413(client):
    big = envelope("clientVersion", params(strVersion="a" * 60_000))
    resp = post(client, big)
    assert resp.status_code == 413 and "too large" in (fault_string(resp.data) or "")
    fits = envelope("clientVersion", params(strVersion="2.3." + "1" * 40_000))
    assert post(client, fits).status_code == 200


def test_oversized_body_without_content_length_is_413(live_server):
    """A chunked upload has no Content-Length: the read stops at the limit."""
    limit = live_server.runtime.settings.max_soap_body_bytes
    host, port = live_server.url.removeprefix("http://").split(":")
    chunk = b"a" * 65536
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /qbwc HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        try:
            for _ in range(limit // len(chunk) + 2):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before the whole body is sent
        answer = b""
        while b"</soap11env:Envelope>" not in answer:  # the server may keep the socket open
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    assert answer.startswith(b"HTTP/1.1 413") or answer.startswith(b"HTTP/1.0 413"), answer[:200]
    assert b"Fault" in answer and b"Traceback" not in answer


def test_hostile_qbxml_in_response_is_refused_and_touches_nothing(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt)
    qbxml_laughs = LAUGHS.replace("<!DOCTYPE l", "<!DOCTYPE QBXML")
    cases = [
        XXE_FILE.replace("<!DOCTYPE x", "<!DOCTYPE QBXML") + "<QBXML><QBXMLMsgsRs>"
        '<VendorQueryRs requestID="vendor.1" statusCode="0" statusSeverity="Info" '
        'statusMessage="&e;"/></QBXMLMsgsRs></QBXML>',
        qbxml_laughs + '<QBXML><QBXMLMsgsRs><VendorQueryRs requestID="vendor.1" '
        'statusCode="0" statusSeverity="Info" statusMessage="&d;"/></QBXMLMsgsRs></QBXML>',
        PARAM_ENTITY.replace("<!DOCTYPE x", "<!DOCTYPE QBXML") + "<QBXML/>",
        '<QBXML><QBXMLMsgsRs><VendorQueryRs requestID="vendor.1" statusCode="0" '
        'statusSeverity="Info" statusMessage="ok"><xi:include xmlns:xi="http://www.w3.org/'
        '2001/XInclude" href="/etc/passwd" parse="text"/></VendorQueryRs></QBXMLMsgsRs>'
        "</QBXML>",
        "<QBXML><QBXMLMsgsRs>",  # truncated
        "not xml",
    ]
    for response in cases:
        ticket, status = qbwc.authenticate(c.username, c.password)
        assert status == ""
        assert "VendorQueryRq" in qbwc.send(ticket)
        assert qbwc.receive(ticket, response) < 0
        error = qbwc.text("getLastError", ticket)
        assert "could not be read" in error and "root:" not in error
        assert "aaaaaaaaaa" not in error
        assert qbwc.text("closeConnection", ticket).startswith("Finished with an error")
    assert count_events(rt) == 0
    assert watermarks(rt, c.connection_id) == {}
