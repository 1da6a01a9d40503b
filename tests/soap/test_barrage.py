"""After a good sync, a barrage of hostile requests (a 50 MB body too) loses nothing."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import select

from app.core.runtime import Runtime
from jobs.models import Event
from soap.simulator import FakeCompany, QBWCSimulator
from tests.soap.test_hostile import hostile_envelopes
from tests.support.soap import (
    connect,
    envelope,
    fault_string,
    params,
    post,
    result_of,
    soap_app,
    watermarks,
)

FIFTY_MB = 50 * 1024 * 1024


def _post(url: str, body: bytes) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request(
            "POST", parts.path, body=body, headers={"Content-Type": "text/xml; charset=utf-8"}
        )
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _raw_post(
    url: str, pieces: Iterable[bytes], *, chunked: bool, length: int | None = None
) -> bytes:
    """POST /qbwc over a bare socket, streamed (chunked) or with a Content-Length; the answer."""
    parts = urlsplit(url)
    head = b"POST /qbwc HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nConnection: close\r\n" + (
        b"Transfer-Encoding: chunked\r\n\r\n"
        if chunked
        else b"Content-Length: %d\r\n\r\n" % (length or 0)
    )
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=30) as sock:
        try:
            sock.sendall(head)
            for piece in pieces:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed before taking it all: as it should
        answer = b""
        while b"</soap11env:Envelope>" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return answer


def _post_50mb(url: str, *, chunked: bool) -> bytes:
    """50 MB of envelope, announced (Content-Length) or streamed (chunked); the answer."""
    chunk = b"<a>" + b"x" * (1024 * 1024 - 7) + b"</a>"
    return _raw_post(
        url, (chunk for _ in range(FIFTY_MB // len(chunk))), chunked=chunked, length=FIFTY_MB
    )


def _events(rt) -> set[tuple[str, str, str]]:
    with rt.transaction() as db:
        return {(e.object_id, e.edit_sequence, e.status) for e in db.scalars(select(Event))}


def test_hostile_barrage_after_a_sync_loses_nothing_and_the_server_stays_up(live_server):
    rt = live_server.runtime
    c = connect(rt)
    company = FakeCompany("Steady Books")
    company.add_vendor("Acme Supply Co")
    company.add_bill("Acme Supply Co", "1250.00", ref_number="B-1")
    first = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert first.ok
    before, marks = _events(rt), watermarks(rt, c.connection_id)
    assert len(before) >= 2 and marks
    for chunked in (False, True):
        answer = _post_50mb(live_server.qbwc, chunked=chunked)
        assert answer.split(b" ", 2)[1] == b"413", answer[:300]
        assert b"Traceback" not in answer
    for body in hostile_envelopes():
        status, data = _post(live_server.qbwc, body if isinstance(body, bytes) else body.encode())
        assert status == 500 and fault_string(data), (body, data[:300])
        assert b"Traceback" not in data
    # Still up, nothing lost or changed, and the next poll syncs as before (no duplicates).
    assert _events(rt) == before and watermarks(rt, c.connection_id) == marks
    company.add_bill("Acme Supply Co", "80.00", ref_number="B-2")
    again = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert again.ok and (again.server_version or "").startswith("qbslack")
    after = _events(rt)
    assert before < after and len(after - before) == 1


def test_a_chunked_envelope_is_read_whole(live_server):
    """QBWC announces a length, but a proxy may stream: small chunks make one envelope."""
    body = envelope("clientVersion", params(strVersion="2.3.0.215" + " " * 5000)).encode()
    answer = _raw_post(
        live_server.qbwc, (body[i : i + 100] for i in range(0, len(body), 100)), chunked=True
    )
    status, _, rest = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 200"), answer[:300]
    assert result_of(rest, "clientVersion") is not None


def test_a_large_answer_under_the_limit_is_taken(live_server, qbwc):
    """A page of big objects may run to megabytes: up to our limit, spyne must take it too."""
    c = connect(live_server.runtime)
    ticket, _ = qbwc.authenticate(c.username, c.password)
    assert "VendorQueryRq" in qbwc.send(ticket)
    padding = " " * 3_000_000  # above spyne's own 2 MB default, below our 20 MB limit
    response = (
        '<?xml version="1.0"?><QBXML><QBXMLMsgsRs><CompanyQueryRs requestID="company.1" '
        'statusCode="1" statusSeverity="Info" statusMessage="none"/>'
        f"{padding}</QBXMLMsgsRs></QBXML>"
    )
    body = envelope(
        "receiveResponseXML", params(ticket=ticket, response=response, hresult="", message="")
    ).encode()
    status, data = _post(live_server.qbwc, body)
    assert status == 200, data[:300]
    result = result_of(data, "receiveResponseXML")
    assert result is not None and fault_string(data) is None


def test_with_redis_down_a_poll_gets_a_clean_fault_and_loses_nothing(live_server):
    """Live tickets are in Redis: without it QBWC is told to retry, and nothing is lost."""
    rt = live_server.runtime
    c = connect(rt)
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # No retries: redis-py's default backoff would only make each refused call slower.
    dead = Redis(
        host="127.0.0.1",
        port=port,
        socket_connect_timeout=0.5,
        socket_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
    )
    down = Runtime.from_settings(rt.settings, engine=rt.engine, redis=dead)
    client = soap_app(down).test_client()
    resp = post(
        client, envelope("authenticate", params(strUserName=c.username, strPassword=c.password))
    )
    assert resp.status_code == 500
    assert fault_string(resp.data) == "qbslack could not process this call"
    assert b"Traceback" not in resp.data and str(port).encode() not in resp.data
    company = FakeCompany()
    company.add_bill("Acme Supply Co", "80.00", ref_number="B-9")
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert report.ok and len(_events(rt)) >= 1  # Redis back: the next poll goes on
