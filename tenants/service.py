"""Tenant and connection service functions; callers own the transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.core.db import utcnow
from tenants.credentials import generate_password, generate_username, hash_password
from tenants.enums import ConnectionStatus, TenantStatus
from tenants.models import Connection, Tenant

# The most company files one workspace connects: App Home's design size (pages of 20, a
# search), and a bound on what one workspace's polls and App Home cost.
MAX_CONNECTIONS = 500
MAX_NAME = 120  # characters of a company name
CAP_REACHED = (
    f"This workspace already has {MAX_CONNECTIONS} company files, the most qbslack serves "
    "in one workspace: ask qbslack's support to remove one you no longer use "
    "(`qbslack remove TEAM_ID --company NAME`)."
)


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
    """Create a tenant, or reactivate and rename an existing one (reinstall keeps data).

    A tenant the operator disabled stays disabled: only the operator switches it back on.
    """
    tenant = get_tenant(team_id, db_session=db_session)
    if tenant is None:
        tenant = Tenant(team_id=team_id, team_name=team_name or team_id)
        db_session.add(tenant)
    else:
        tenant.team_name = team_name or tenant.team_name
    if tenant.status != TenantStatus.DISABLED:
        tenant.status = TenantStatus.ACTIVE
        tenant.status_reason = None
    db_session.flush()
    return tenant


def add_connection(tenant: Tenant, company_name: str, *, db_session: Session) -> NewCredentials:
    """Add a company-file connection with fresh QBWC credentials.

    ValueError, with a sentence to show as it is (App Home's modal, `qbslack connect`), when
    the name is empty, too long or taken, or the workspace has MAX_CONNECTIONS already.
    """
    company_name = " ".join(company_name.split())
    if not company_name:
        raise ValueError("Type the company's name, as you want to see it in Slack.")
    if len(company_name) > MAX_NAME:
        raise ValueError(f"A company name is at most {MAX_NAME} characters: shorten it.")
    # One add at a time per workspace: the cap and the name check see each other's rows.
    db_session.execute(select(Tenant.id).where(Tenant.id == tenant.id).with_for_update())
    if count_connections(tenant.id, db_session=db_session) >= MAX_CONNECTIONS:
        raise ValueError(CAP_REACHED)
    existing = find_connection(tenant, company_name, db_session=db_session)
    if existing is not None:
        raise ValueError(
            f"This workspace already has a company file named “{existing.company_name}”: "
            "choose another name."
        )
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


def count_connections(tenant_id: int, *, db_session: Session) -> int:
    """How many company files a workspace has."""
    count = db_session.scalar(
        select(func.count()).select_from(Connection).where(Connection.tenant_id == tenant_id)
    )
    return int(count or 0)


def tenant_connection(tenant: Tenant, value: object, *, db_session: Session) -> Connection | None:
    """The connection whose id a button or option carried, if it is this workspace's.

    `value` comes from a Slack payload: anything but this tenant's own id is None.
    """
    text = str(value or "")
    if not text.isdigit() or len(text) > 12:
        return None
    conn = db_session.get(Connection, int(text))
    return conn if conn is not None and conn.tenant_id == tenant.id else None


def search_connections(
    tenant_id: int, text: str, *, limit: int, db_session: Session
) -> list[Connection]:
    """A workspace's company files whose name contains `text` (any case), names that start
    with it first, then alphabetically; at most `limit`. An empty text lists the first ones.
    """
    wanted = " ".join(text.split()).lower()[:MAX_NAME]  # as SQL's lower() sees it
    name = func.lower(Connection.company_name)
    stmt = select(Connection).where(Connection.tenant_id == tenant_id)
    if wanted:
        stmt = stmt.where(name.contains(wanted, autoescape=True))
        starts = name.startswith(wanted, autoescape=True)
        stmt = stmt.order_by(case((starts, 0), else_=1))
    stmt = stmt.order_by(name, Connection.id).limit(max(0, limit))
    return list(db_session.scalars(stmt))


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
        what = f"company file named “{company_name}”" if company_name else "company file"
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


def has_several_companies(tenant_id: int, *, db_session: Session) -> bool:
    """True when a workspace has more than one company file (messages name the company)."""
    return count_connections(tenant_id, db_session=db_session) > 1


def rebind(conn: Connection, *, db_session: Session) -> None:
    """Bind a connection to the company file its QBWC found open last (a manager's choice).

    ValueError when no session has found another file open since the last binding.
    """
    if conn.open_company is None and conn.open_file_id is None and conn.open_file_path is None:
        raise ValueError(
            f"{conn.company_name}'s Web Connector has not found another company file open: "
            "there is nothing to re-bind to"
        )
    conn.bound_company, conn.bound_file_id = conn.open_company, conn.open_file_id
    conn.qb_file_path, conn.bound_at = conn.open_file_path, utcnow()
    conn.open_company = conn.open_file_id = conn.open_file_path = None
    if conn.status == ConnectionStatus.WRONG_FILE:
        # The next session is verified against the new binding and says how it went.
        conn.status, conn.last_error = ConnectionStatus.OK, None
    db_session.flush()
