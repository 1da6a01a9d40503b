"""authenticate: credentials, lockout held in the database, tenant states, tickets."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from lxml import etree
from sqlalchemy import update

from app import create_app
from app.core.runtime import Runtime
from soap.simulator import FakeCompany, QBWCSimulator
from soap.tickets import KEY_PREFIX
from tenants import service
from tenants.models import Connection, LoginFailure, Tenant
from tests.support.soap import QBWC_NS, connect, connection, envelope, params, post


def test_wrong_password_unknown_user_and_empty_are_nvu(live_server, qbwc, caplog):
    c = connect(live_server.runtime)
    caplog.set_level(logging.INFO, logger="soap.auth")
    assert qbwc.authenticate(c.username, "wrong-password-123") == ["", "nvu"]
    assert qbwc.authenticate("qbs-nobody", c.password) == ["", "nvu"]
    assert qbwc.authenticate("", "") == ["", "nvu"]
    assert qbwc.authenticate(c.username.upper(), c.password) == ["", "nvu"]
    logged = caplog.text
    assert c.username in logged and "bad_password" in logged and "unknown_user" in logged
    assert "wrong-password-123" not in logged and c.password not in logged
    ticket, status = qbwc.authenticate(c.username, c.password)
    assert status == "" and len(ticket) >= 40
    assert connection(live_server.runtime, c.connection_id).failed_logins == 0


def test_ticket_is_random_and_stored_only_as_its_hash(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt)
    tickets = {qbwc.authenticate(c.username, c.password)[0] for _ in range(3)}
    assert len(tickets) == 3
    keys = rt.redis.keys(KEY_PREFIX + "*")
    assert len(keys) == 1  # a new authenticate replaces the connection's old session
    stored = keys[0].decode() + rt.redis.get(keys[0]).decode()
    assert not any(t in stored for t in tickets)
    assert any(
        KEY_PREFIX + hashlib.sha256(t.encode()).hexdigest() == keys[0].decode() for t in tickets
    )
    assert 29 * 60 < rt.redis.ttl(keys[0]) <= 30 * 60


def test_lockout_after_ten_failures_holds_across_two_app_instances(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt)
    other_rt = Runtime.from_settings(rt.settings, redis=rt.redis)  # its own engine and pool
    other = create_app(other_rt).test_client()

    def via_other(password: str) -> list[str]:
        body = envelope("authenticate", params(strUserName=c.username, strPassword=password))
        root = etree.fromstring(post(other, body).data)
        return [s.text or "" for s in root.iter(f"{{{QBWC_NS}}}string")]

    try:
        for i in range(10):  # failures alternate between the two "processes"
            answer = via_other("nope") if i % 2 else qbwc.authenticate(c.username, "nope")
            assert answer == ["", "nvu"]
        locked = connection(rt, c.connection_id)
        assert locked.locked_until is not None and locked.lock_source == "127.0.0.1"
        left = locked.locked_until - dt.datetime.now(dt.UTC)
        assert dt.timedelta(minutes=14) < left <= dt.timedelta(minutes=15)
        # Locked: the right password is refused too from that source, by either instance.
        assert qbwc.authenticate(c.username, c.password) == ["", "nvu"]
        assert via_other(c.password) == ["", "nvu"]
        with rt.transaction() as db:
            db.execute(
                update(LoginFailure)
                .where(LoginFailure.connection_id == c.connection_id)
                .values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
            )
            db.get(Connection, c.connection_id).locked_until -= dt.timedelta(minutes=15, seconds=1)
        ticket, status = via_other(c.password)
        assert ticket and status == ""
        after = connection(rt, c.connection_id)
        assert after.failed_logins == 0 and after.locked_until is None
    finally:
        other_rt.close()


def test_failures_older_than_the_window_do_not_count(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt)
    for _ in range(9):
        assert qbwc.authenticate(c.username, "nope")[1] == "nvu"
    with rt.transaction() as db:
        db.execute(
            update(LoginFailure)
            .where(LoginFailure.connection_id == c.connection_id)
            .values(first_failed_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
        )
    assert qbwc.authenticate(c.username, "nope")[1] == "nvu"  # a new window: 1 failure
    conn = connection(rt, c.connection_id)
    assert conn.locked_until is None and conn.failed_logins == 10  # the login's hourly count
    assert qbwc.authenticate(c.username, c.password)[1] == ""


def test_disabled_or_uninstalled_is_nvu_disconnected_is_none(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt)

    def set_state(tenant: str | None = None, conn: str | None = None) -> None:
        with rt.transaction() as db:
            if tenant:
                db.get(Tenant, c.tenant_id).status = tenant
            if conn:
                db.get(Connection, c.connection_id).status = conn

    set_state(conn="disabled")
    assert qbwc.authenticate(c.username, c.password) == ["", "nvu"]
    set_state(conn="ok", tenant="uninstalled")
    assert qbwc.authenticate(c.username, c.password) == ["", "nvu"]
    set_state(tenant="disabled")
    assert qbwc.authenticate(c.username, c.password) == ["", "nvu"]
    set_state(tenant="disconnected")
    ticket, status = qbwc.authenticate(c.username, c.password)
    assert ticket and status == "none"
    assert qbwc.send(ticket) == ""  # nothing is asked of QuickBooks
    assert "reinstall" in qbwc.text("closeConnection", ticket)
    conn = connection(rt, c.connection_id)
    assert conn.last_poll_at is not None and conn.failed_logins == 0
    set_state(tenant="active")
    assert qbwc.authenticate(c.username, c.password)[1] == ""


def test_password_reset_forgets_a_remembered_login(live_server, qbwc):
    rt = live_server.runtime
    c = connect(rt)
    assert qbwc.authenticate(c.username, c.password)[1] == ""
    assert qbwc.authenticate(c.username, c.password)[1] == ""  # remembered in this process
    with rt.transaction() as db:
        service.credentials(db.get(Connection, c.connection_id), reset=True, db_session=db)
    assert qbwc.authenticate(c.username, c.password) == ["", "nvu"]


def test_web_connector_version_is_recorded(live_server):
    rt = live_server.runtime
    c = connect(rt)
    report = QBWCSimulator(
        live_server.qbwc, c.username, c.password, FakeCompany(), client_version="2.3.0.215"
    ).run()
    assert report.ok and report.client_version_answer == ""
    assert (report.server_version or "").startswith("qbslack")
    assert connection(rt, c.connection_id).qbwc_version == "2.3.0.215"
    old = QBWCSimulator(
        live_server.qbwc, c.username, c.password, FakeCompany(), client_version="1.5.0.12"
    ).run()
    assert (old.client_version_answer or "").startswith("W:") and old.ok  # a warning only
    assert connection(rt, c.connection_id).qbwc_version == "1.5.0.12"


def test_a_remembered_login_after_a_failure_is_checked_in_full(live_server, qbwc):
    """The repeat-poll shortcut never skips the failure counter or the lockout."""
    rt = live_server.runtime
    c = connect(rt)
    assert qbwc.authenticate(c.username, c.password)[1] == ""  # verified, now remembered
    assert qbwc.authenticate(c.username, "wrong-password-123") == ["", "nvu"]
    assert connection(rt, c.connection_id).failed_logins == 1
    assert qbwc.authenticate(c.username, c.password)[1] == ""
    assert connection(rt, c.connection_id).failed_logins == 0  # reset, as a full check does
    for _ in range(10):
        qbwc.authenticate(c.username, "wrong-password-123")
    assert connection(rt, c.connection_id).locked_until is not None
    assert qbwc.authenticate(c.username, c.password) == ["", "nvu"]  # locked, remembered or not


def _login_from(client, c, password: str, address: str) -> list[str]:
    body = envelope("authenticate", params(strUserName=c.username, strPassword=password))
    root = etree.fromstring(post(client, body, **{"X-Forwarded-For": address}).data)
    return [s.text or "" for s in root.iter(f"{{{QBWC_NS}}}string")]


def test_a_stranger_cannot_lock_out_the_firms_web_connector(live_server):
    """Wrong passwords lock their source; the Web Connector that logged in before goes on."""
    rt = live_server.runtime
    c = connect(rt)
    client = create_app(rt).test_client()
    firm, stranger = "198.51.100.20", "203.0.113.66"
    assert _login_from(client, c, c.password, firm)[1] == ""  # the firm's PC, known from now
    for _ in range(12):
        assert _login_from(client, c, "guess", stranger) == ["", "nvu"]
    assert _login_from(client, c, c.password, stranger) == ["", "nvu"]  # that source: locked
    assert _login_from(client, c, c.password, firm)[1] == ""  # the firm: still working
    conn = connection(rt, c.connection_id)
    assert conn.lock_source == stranger and conn.locked_until is not None

    # Guesses from ever new addresses: after the hourly budget new sources are refused, but
    # a source that has logged in before is never refused by that rate.
    for i in range(60):
        _login_from(client, c, "guess", f"192.0.2.{i}")
    assert _login_from(client, c, c.password, "192.0.2.250") == ["", "nvu"]
    assert _login_from(client, c, c.password, firm)[1] == ""
    assert connection(rt, c.connection_id).lock_source == "many addresses"


def test_a_spoofed_forwarded_address_is_not_taken_for_the_source(live_server):
    """Behind our proxy (PROXY_HOPS=1) only the address it appended counts, not the client's."""
    rt = live_server.runtime
    c = connect(rt)
    client = create_app(rt).test_client()
    firm, attacker = "198.51.100.20", "203.0.113.66"
    assert _login_from(client, c, c.password, firm)[1] == ""
    # The attacker writes the firm's address; the proxy appends the one it really saw.
    for _ in range(12):
        assert _login_from(client, c, "guess", f"{firm}, {attacker}") == ["", "nvu"]
    assert connection(rt, c.connection_id).lock_source == attacker
    assert _login_from(client, c, c.password, firm)[1] == ""  # the firm is not locked out
