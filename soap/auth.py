"""QBWC authenticate: password check in constant time; the lockout (soap.lockout) in the DB."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from app.core.db import utcnow
from app.core.metrics import AUTH_FAILURES
from soap import lockout
from soap.logins import VerifiedLogins
from tenants.credentials import verify_password
from tenants.enums import ConnectionStatus, TenantStatus
from tenants.models import OPT_IN_EVENT_TYPES, Connection, Route, Tenant, Watermark
from tenants.routes import opt_in_query

log = logging.getLogger(__name__)


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
    username: str,
    password: str,
    *,
    db_session: Session,
    now: dt.datetime | None = None,
    logins: VerifiedLogins | None = None,
    source: str | None = None,
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
    if lockout.refused(conn, source, now=now, db_session=db_session):
        verify_password(password or "", None)  # a locked source answers no faster
        return _fail(None, "locked", username)
    if not _password_ok(conn.qbwc_username, password or "", conn.password_hash, logins):
        lockout.record_failure(conn, source, now=now, db_session=db_session)
        return _fail(None, "bad_password", username)
    lockout.record_success(conn, source, now=now, db_session=db_session)
    tenant = conn.tenant
    if tenant.status == TenantStatus.UNINSTALLED:
        return _fail(None, "uninstalled", username)
    if tenant.status == TenantStatus.DISABLED or conn.status == ConnectionStatus.DISABLED:
        return _fail(None, "disabled", username)
    return AuthOutcome(conn, "ok")


@dataclass(frozen=True)
class KnownLogin:
    """What a repeat poll needs of its connection: a ticket's columns and the plan's inputs."""

    id: int
    tenant_id: int
    qbwc_username: str
    company_name: str
    qbwc_version: str | None
    qb_country: str | None
    baseline_done: bool
    backfill_days: int | None
    qb_company_name: str | None
    qb_file_path: str | None
    file_id: str
    bound_file_id: str | None
    bound_company: str | None
    bound_at: dt.datetime | None
    marks: dict[str, str | None] = field(default_factory=dict)  # watermarks by entity
    opt_in: list[str] = field(default_factory=list)  # opt-in event types with a route


def _opt_in_route(event_type: str) -> Any:
    """Whether the connection (or its workspace) routes this opt-in event type somewhere."""
    # The routes' own rule, correlated with the connection row of the outer query.
    return (
        opt_in_query(Connection.tenant_id, Connection.id)
        .where(Route.event_type == event_type)
        .exists()
        .label(f"opt_in_{event_type}")
    )


# Built once: every repeat poll runs it. One row per watermark (or one without), each with
# the connection's columns: the login and the plan's inputs in one round trip.
_LOGIN = (
    select(
        Connection.id,
        Connection.tenant_id,
        Connection.qbwc_username,
        Connection.company_name,
        Connection.qbwc_version,
        Connection.qb_country,
        Connection.baseline_done,
        Connection.backfill_days,
        Connection.qb_company_name,
        Connection.qb_file_path,
        Connection.file_id,
        Connection.bound_file_id,
        Connection.bound_company,
        Connection.bound_at,
        Connection.password_hash,
        Connection.failed_logins,
        Connection.locked_until,
        Connection.status,
        Tenant.status.label("tenant_status"),
        Watermark.entity.label("mark_entity"),
        Watermark.value.label("mark_value"),
        *(_opt_in_route(t) for t in OPT_IN_EVENT_TYPES),
    )
    .join(Tenant, Tenant.id == Connection.tenant_id)
    .outerjoin(Watermark, Watermark.connection_id == Connection.id)
    .where(Connection.qbwc_username == bindparam("username"))
)
_CONNECTION_FIELDS = tuple(f.name for f in fields(KnownLogin) if f.name not in ("marks", "opt_in"))


def known_login(
    username: str,
    password: str,
    *,
    db_session: Session,
    logins: VerifiedLogins | None,
) -> KnownLogin | None:
    """The connection of a login verified a moment ago, with nothing to record; else None.

    One read without a lock: a repeat poll with good credentials changes no counter. A login
    with failures, a lock, a workspace that is not active or no recent proof gets None and
    goes through check_credentials, which counts and locks.
    """
    if logins is None:
        return None
    rows = (
        db_session.connection().execute(_LOGIN, {"username": (username or "").strip()[:64]}).all()
    )
    row = rows[0] if rows else None
    if row is None or row.failed_logins or row.locked_until is not None:
        return None
    if row.status == ConnectionStatus.DISABLED or row.tenant_status != TenantStatus.ACTIVE:
        return None
    if not logins.known(row.qbwc_username, password or "", row.password_hash):
        return None
    return KnownLogin(
        **{name: getattr(row, name) for name in _CONNECTION_FIELDS},
        marks={r.mark_entity: r.mark_value for r in rows if r.mark_entity is not None},
        opt_in=[t for t in OPT_IN_EVENT_TYPES if getattr(row, f"opt_in_{t}")],
    )


def _password_ok(username: str, password: str, stored: str, logins: VerifiedLogins | None) -> bool:
    """verify_password, unless this login was verified within the last minutes."""
    if logins is not None and logins.known(username, password, stored):
        return True
    if not verify_password(password, stored):
        return False
    if logins is not None:
        logins.remember(username, password, stored)
    return True


def _fail(conn: Connection | None, reason: str, username: str) -> AuthOutcome:
    log.info(
        "QBWC authenticate refused for %s: %s", username, reason, extra={"connection": username}
    )
    AUTH_FAILURES.labels(reason).inc()
    return AuthOutcome(conn, reason)
