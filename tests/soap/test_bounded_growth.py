"""What a client sends cannot grow our state without bound: metric labels, keys, stored text."""

from __future__ import annotations

import urllib.request

from prometheus_client import REGISTRY

from app.core.runtime import Runtime
from soap.client_versions import KEY_PREFIX
from tests.support.soap import LiveServer, Qbwc, connect, connection, envelope, params


def _errors(label: str) -> float:
    return REGISTRY.get_sample_value("qbslack_qbwc_errors_total", {"hresult": label}) or 0.0


def test_made_up_hresults_are_counted_as_other_and_stored_short(
    live_server: LiveServer, qbwc: Qbwc
) -> None:
    c = connect(live_server.runtime)
    other = _errors("other")
    for i in range(20):
        ticket, _ = qbwc.authenticate(c.username, c.password)
        code = f"0x{0xDEAD0000 + i:08x}"  # looks like an hresult, known to nobody
        qbwc.text("connectionError", ticket, hresult=code, message="m" * 100_000)
    assert _errors("other") == other + 20
    assert _errors("0xdead0001") == 0.0  # no label was made from the client's text
    known = _errors("0x80040408")
    ticket, _ = qbwc.authenticate(c.username, c.password)
    qbwc.text("connectionError", ticket, hresult="0x80040408", message="QuickBooks closed")
    assert _errors("0x80040408") == known + 1
    ticket, _ = qbwc.authenticate(c.username, c.password)
    qbwc.text("connectionError", ticket, hresult="0x80040408" + "f" * 5_000, message="m" * 9_000)
    conn = connection(live_server.runtime, c.connection_id)
    assert len(conn.last_error or "") < 500 and "fffffffffffffff" not in (conn.last_error or "")


def test_client_version_keys_have_a_fixed_size_whatever_the_caller_says(
    live_server: LiveServer,
) -> None:
    rt: Runtime = live_server.runtime
    assert rt.redis is not None
    body = envelope("clientVersion", params(strVersion="2.3.0.215")).encode()
    req = urllib.request.Request(
        live_server.qbwc,
        data=body,
        method="POST",
        headers={
            "Content-Type": "text/xml",
            "X-Forwarded-For": "203.0.113.7" + "9" * 6_000,
            "User-Agent": "a" * 6_000,
        },
    )
    urllib.request.urlopen(req, timeout=10).close()
    keys = [k.decode() if isinstance(k, bytes) else k for k in rt.redis.keys(KEY_PREFIX + "*")]
    assert keys and all(len(k) == len(KEY_PREFIX) + 32 for k in keys)
