"""QBWC authenticate: password check in constant time and a lockout held in the database."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.db import utcnow
from soap.logins import VerifiedLogins
from tenants.credentials import verify_password
from tenants.models import CONNECTION_DISABLED, TENANT_DISABLED, TENANT_UNINSTALLED, Connection

log = logging.getLogger(__name__)

MAX_FAILURES = 10
FAILURE_WINDOW = dt.timedelta(minutes=15)
LOCK_TIME = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class AuthOutcome:
    """Who logged in, or why not (the reason is logged, never told to the client)."""

    connection: Connection | None
    reason: str  # ok, unknown_user, bad_password, locked, disabled, uninstalled

    @property
    def ok(self) -> bool:
        """True when the credentials are good and the tenant may poll."""
        return self.connection is not None and self.reason == "ok"


def check_credentials(
    username: str, password: str, *, db_session: Session, now: dt.datetime | None = None,
    logins: VerifiedLogins | None = None,
) -> AuthOutcome:
    """Check QBWC credentials and update the failure counters (the caller commits).

    A login verified a moment ago (logins) skips scrypt; the lockout check still runs first.
    """
    now = now or utcnow()
    username = (username or "").strip()[:64]
    # FOR UPDATE: concurrent logins from several web processes count every failure.
    conn = db_session.scalar(
        select(Connection)
        .options(joinedload(Connection.tenant))
        .where(Connection.qbwc_username == username)
        .with_for_update(of=Connection)
    )
    if conn is None:
        verify_password(password or "", None)  # spend the same time as a real check
        return _fail(None, "unknown_user", username)
    if conn.locked_until is not None and conn.locked_until > now:
        verify_password(password or "", None)  # a locked name answers no faster
        return _fail(None, "locked", username)
    if not _password_ok(conn.qbwc_username, password or "", conn.password_hash, logins):
        if conn.first_failed_at is None or now - conn.first_failed_at > FAILURE_WINDOW:
            conn.first_failed_at = now
            conn.failed_logins = 0
        conn.failed_logins += 1
        if conn.failed_logins >= MAX_FAILURES:
            conn.locked_until = now + LOCK_TIME
            conn.failed_logins = 0
            conn.first_failed_at = None
            log.warning("QBWC user %s locked for 15 minutes after %d failures",
                        username, MAX_FAILURES)
        return _fail(None, "bad_password", username)
    if conn.failed_logins or conn.locked_until:
        conn.failed_logins, conn.first_failed_at, conn.locked_until = 0, None, None
    tenant = conn.tenant
    if tenant.status == TENANT_UNINSTALLED:
        return _fail(None, "uninstalled", username)
    if tenant.status == TENANT_DISABLED or conn.status == CONNECTION_DISABLED:
        return _fail(None, "disabled", username)
    return AuthOutcome(conn, "ok")


def _password_ok(
    username: str, password: str, stored: str, logins: VerifiedLogins | None
) -> bool:
    """verify_password, unless this login was verified within the last minutes."""
    if logins is not None and logins.known(username, password, stored):
        return True
    if not verify_password(password, stored):
        return False
    if logins is not None:
        logins.remember(username, password, stored)
    return True


def _fail(conn: Connection | None, reason: str, username: str) -> AuthOutcome:
    log.info("QBWC authenticate refused for %s: %s", username, reason,
             extra={"connection": username})
    from app.metrics import AUTH_FAILURES

    AUTH_FAILURES.labels(reason).inc()
    return AuthOutcome(conn, reason)
