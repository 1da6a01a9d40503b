"""QBWC login lockout: per (login, source), plus a slow rate per login that spares known sources.

Usernames are not secret (they are in the Web Connector and in App Home), so a lockout keyed
by username alone let anyone lock a firm's Web Connector out for good. Wrong passwords now
lock the source that sent them (10 in 15 minutes lock that source for 15 minutes); all
sources together may fail LOGIN_MAX_FAILURES times an hour before new sources are refused
too, and a source that has logged in with the right password before is never refused by
that rate. Sources are kept as hashes; the connection keeps the last locked address (shown
to managers) and when the lock ends (what the health alert reads).
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from soap.client_versions import caller_key
from tenants.models import Connection, LoginFailure

log = logging.getLogger(__name__)

MAX_FAILURES = 10  # wrong passwords from one source within FAILURE_WINDOW lock that source
FAILURE_WINDOW = dt.timedelta(minutes=15)
LOCK_TIME = dt.timedelta(minutes=15)
LOGIN_MAX_FAILURES = 50  # from all sources within LOGIN_WINDOW: new sources are refused
LOGIN_WINDOW = dt.timedelta(hours=1)
KNOWN_SOURCES = 10  # sources remembered per login as having logged in well


def source_key(address: str | None) -> str:
    """A fixed-size key for a caller's address (what the tables keep)."""
    return caller_key(address or "unknown")


def refused(
    conn: Connection, address: str | None, *, now: dt.datetime, db_session: Session
) -> bool:
    """True when this source may not try a password for this login now."""
    key = source_key(address)
    failure = db_session.get(LoginFailure, (conn.id, key))
    if failure is not None and failure.locked_until is not None and failure.locked_until > now:
        return True
    return _rate_exceeded(conn, now) and key not in (conn.known_sources or [])


def _rate_exceeded(conn: Connection, now: dt.datetime) -> bool:
    return (
        conn.first_failed_at is not None
        and now - conn.first_failed_at <= LOGIN_WINDOW
        and conn.failed_logins >= LOGIN_MAX_FAILURES
    )


def record_failure(
    conn: Connection, address: str | None, *, now: dt.datetime, db_session: Session
) -> None:
    """Count a wrong password against its source and the login; lock what is over its limit."""
    key = source_key(address)
    failure = db_session.get(LoginFailure, (conn.id, key))
    if failure is None:
        failure = LoginFailure(connection_id=conn.id, source=key, failures=0, first_failed_at=now)
        db_session.add(failure)
    elif now - failure.first_failed_at > FAILURE_WINDOW:
        failure.failures, failure.first_failed_at, failure.locked_until = 0, now, None
    failure.failures += 1
    if failure.failures >= MAX_FAILURES:
        failure.locked_until = now + LOCK_TIME
        failure.failures, failure.first_failed_at = 0, now
        _note_lock(conn, failure.locked_until, address or "an unknown address")
    if conn.first_failed_at is None or now - conn.first_failed_at > LOGIN_WINDOW:
        conn.first_failed_at, conn.failed_logins = now, 0
    conn.failed_logins += 1
    if conn.failed_logins == LOGIN_MAX_FAILURES:
        _note_lock(conn, conn.first_failed_at + LOGIN_WINDOW, "many addresses")


def _note_lock(conn: Connection, until: dt.datetime, source: str) -> None:
    """What App Home and the health alert show: the latest lock and where it came from."""
    if conn.locked_until is None or until > conn.locked_until:
        conn.locked_until = until
    conn.lock_source = source[:64]
    log.warning(
        "QBWC login %s locked for %s until %s after wrong passwords",
        conn.qbwc_username,
        conn.lock_source,
        until.isoformat(timespec="seconds"),
        extra={"tenant": conn.tenant_id, "connection": conn.id},
    )


def record_success(
    conn: Connection, address: str | None, *, now: dt.datetime, db_session: Session
) -> None:
    """The right password: this source is known from now on, its failures forgotten."""
    key = source_key(address)
    failure = db_session.get(LoginFailure, (conn.id, key))
    if failure is not None:
        db_session.delete(failure)
    known = conn.known_sources or []
    if not known or known[0] != key:
        conn.known_sources = [key, *(k for k in known if k != key)][:KNOWN_SOURCES]
    if conn.failed_logins and not _rate_exceeded(conn, now):
        conn.failed_logins, conn.first_failed_at = 0, None  # a typo or two: forgotten
    if conn.locked_until is not None and conn.locked_until <= now:
        conn.locked_until, conn.lock_source = None, None
