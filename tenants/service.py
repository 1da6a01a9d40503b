"""Tenant and connection service functions; callers own the transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenants.credentials import generate_password, generate_username, hash_password
from tenants.models import TENANT_ACTIVE, Connection, Tenant


class NotFound(LookupError):
    """The tenant or connection asked for does not exist."""


@dataclass(frozen=True)
class NewCredentials:
    """QBWC credentials of a connection; the password exists only here, shown once."""

    team_id: str
    company: str
    username: str
    password: str | None

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form (password omitted when not freshly set)."""
        data = {"team_id": self.team_id, "company": self.company, "username": self.username}
        if self.password is not None:
            data["password"] = self.password
        return data


def get_tenant(team_id: str, *, db_session: Session) -> Tenant | None:
    """The tenant of a Slack workspace, if it installed the app."""
    return db_session.scalar(select(Tenant).where(Tenant.team_id == team_id))


def require_tenant(team_id: str, *, db_session: Session) -> Tenant:
    """The tenant of a workspace, or NotFound."""
    tenant = get_tenant(team_id, db_session=db_session)
    if tenant is None:
        raise NotFound(f"no workspace with team id {team_id}")
    return tenant


def upsert_tenant(team_id: str, team_name: str, *, db_session: Session) -> Tenant:
    """Create a tenant, or reactivate and rename an existing one (reinstall keeps data)."""
    tenant = get_tenant(team_id, db_session=db_session)
    if tenant is None:
        tenant = Tenant(team_id=team_id, team_name=team_name or team_id)
        db_session.add(tenant)
    else:
        tenant.team_name = team_name or tenant.team_name
    tenant.status = TENANT_ACTIVE
    tenant.status_reason = None
    db_session.flush()
    return tenant


def add_connection(tenant: Tenant, company_name: str, *, db_session: Session) -> NewCredentials:
    """Add a company-file connection with fresh QBWC credentials."""
    company_name = " ".join(company_name.split())
    if not company_name:
        raise ValueError("a company name is needed")
    if len(company_name) > 120:
        raise ValueError("a company name is at most 120 characters")
    existing = find_connection(tenant, company_name, db_session=db_session)
    if existing is not None:
        raise ValueError(f"this workspace already has a company named {company_name!r}")
    password = generate_password()
    conn = Connection(
        tenant=tenant,
        company_name=company_name,
        qbwc_username=generate_username(),
        password_hash=hash_password(password),
    )
    db_session.add(conn)
    db_session.flush()
    return NewCredentials(tenant.team_id, company_name, conn.qbwc_username, password)


def find_connection(
    tenant: Tenant, company_name: str | None, *, db_session: Session
) -> Connection | None:
    """A tenant's connection by company name (case-insensitive), or its first one."""
    stmt = select(Connection).where(Connection.tenant_id == tenant.id).order_by(Connection.id)
    conns = list(db_session.scalars(stmt))
    if company_name is None:
        return conns[0] if conns else None
    wanted = company_name.strip().casefold()
    return next((c for c in conns if c.company_name.casefold() == wanted), None)


def require_connection(
    team_id: str, company_name: str | None, *, db_session: Session
) -> Connection:
    """A workspace's connection by company name (or its first), or NotFound."""
    tenant = require_tenant(team_id, db_session=db_session)
    conn = find_connection(tenant, company_name, db_session=db_session)
    if conn is None:
        what = f"company {company_name!r}" if company_name else "company file"
        raise NotFound(f"workspace {team_id} has no {what}")
    return conn


def credentials(conn: Connection, *, reset: bool, db_session: Session) -> NewCredentials:
    """A connection's username, with a new password when reset is asked for."""
    password = None
    if reset:
        password = generate_password()
        conn.password_hash = hash_password(password)
        conn.failed_logins = 0
        conn.first_failed_at = None
        conn.locked_until = None
        db_session.flush()
    return NewCredentials(conn.tenant.team_id, conn.company_name, conn.qbwc_username, password)


def request_backfill(conn: Connection, days: int, *, db_session: Session) -> list[int]:
    """Post the last `days` days of changes: on the first sync, or now from the baseline.

    Before the first sync the connection asks QuickBooks for that many days and posts them;
    after it, events recorded as the baseline within those days become pending again.
    Returns the event ids to schedule (after commit).
    """
    import datetime as dt

    from jobs.models import BASELINE, PENDING, Event

    if not 1 <= days <= 365:
        raise ValueError("a backfill is 1 to 365 days")
    if not conn.baseline_done:
        conn.backfill_days = days
        return []
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    events = db_session.scalars(select(Event).where(
        Event.connection_id == conn.id, Event.status == BASELINE, Event.sort_key >= since
    ).order_by(Event.sort_key)).all()
    for event in events:
        event.status = PENDING
    db_session.flush()
    return [e.id for e in events]


def list_tenants(*, db_session: Session) -> list[Tenant]:
    """Every tenant, oldest first."""
    return list(db_session.scalars(select(Tenant).order_by(Tenant.id)))
