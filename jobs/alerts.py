"""Health alerts: find each company file's conditions; open, remind and resolve their alerts.

One run reads a bounded number of indexed queries whatever the number of connections: the
failed and unrouted events per connection, the open alerts, and the connections that could
have a condition (polled long enough ago to be stale, in error, wrong file, locked, or with
an open alert or parked events). Each condition has at most one open alert per connection
(a partial unique index), so concurrent checkers cannot open two; the alert's messages are
outbox events whose dedupe key is the alert and its phase, so none is posted twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Row, false, func, select, union, update
from sqlalchemy.orm import Session

from app.core.db import dialect_insert
from app.core.runtime import Runtime
from app.core.settings import Settings
from jobs.enums import AlertKind, AlertPhase, EventAction, EventStatus
from jobs.models import Event, HealthAlert
from jobs.outbox import EventRow, add_events, schedule_events
from tenants.enums import ConnectionStatus, EventType, TenantStatus
from tenants.health import ERROR_SESSIONS, MIN_STALE_AFTER, Health, health_now, vitals_from_row
from tenants.models import ALERTS_ROUTE, Connection, Manager, Route, Tenant

log = logging.getLogger(__name__)

CHECK_EVERY = 30.0  # seconds between checks (the background loop)
REMIND_AFTER = dt.timedelta(days=1)  # one reminder a day at most while a condition lasts
# A lock that ended less than this ago still counts: a login locked again and again makes
# one alert, not one per lock.
LOCK_HOLD = dt.timedelta(hours=1)

Detail = dict[str, Any]


@dataclass
class CheckReport:
    """What one run did."""

    checked: int = 0  # connections looked at closely
    opened: list[tuple[int, str]] = field(default_factory=list)  # (connection, kind)
    reminded: list[tuple[int, str]] = field(default_factory=list)
    resolved: list[tuple[int, str]] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)


def check_health(runtime: Runtime) -> CheckReport:
    """One run of the checks, committed; then the alert messages go to delivery."""
    with runtime.transaction() as db:
        report = run_checks(now=runtime.clock.now(), settings=runtime.settings, db_session=db)
    schedule_events(runtime, report.event_ids)
    return report


def run_checks(*, now: dt.datetime, settings: Settings, db_session: Session) -> CheckReport:
    """Compare every connection's conditions now with its open alerts (the caller commits)."""
    report = CheckReport()
    parked = _parked_events(db_session)
    open_alerts: dict[int, dict[str, HealthAlert]] = {}
    for alert in db_session.scalars(select(HealthAlert).where(HealthAlert.resolved_at.is_(None))):
        open_alerts.setdefault(alert.connection_id, {})[alert.kind] = alert
    rows = _candidates(now, settings, set(parked) | set(open_alerts), db_session)
    events: list[EventRow] = []
    for row in rows:
        report.checked += 1
        wanted = conditions(row, parked.get(row.id, {}), now=now, settings=settings)
        _settle(row, wanted, open_alerts.get(row.id, {}), now, report, events, db_session)
    events += _to_added_managers(events, db_session)
    report.event_ids = [c.id for c in add_events(events, db_session=db_session)]
    return report


def _to_added_managers(events: list[EventRow], db_session: Session) -> list[EventRow]:
    """Copies of the alerts for the managers a manager added, where no `alerts` route exists.

    Without an alerts route an alert is a DM to the installer (routing); the people the
    managers added get their own DM, already routed to them, each in its own thread.
    """
    tenant_ids = {e["tenant_id"] for e in events}
    if not tenant_ids:
        return []
    routed = {
        (tenant_id, connection_id)
        for tenant_id, connection_id in db_session.execute(
            select(Route.tenant_id, Route.connection_id).where(
                Route.tenant_id.in_(tenant_ids), Route.event_type == ALERTS_ROUTE
            )
        )
    }
    added: dict[int, list[str]] = {}
    for tenant_id, user_id in db_session.execute(
        select(Manager.tenant_id, Manager.user_id)
        .where(Manager.tenant_id.in_(tenant_ids))
        .order_by(Manager.user_id)
    ):
        added.setdefault(tenant_id, []).append(user_id)
    copies: list[EventRow] = []
    for event in events:
        tenant, conn = event["tenant_id"], event["connection_id"]
        if (tenant, conn) in routed or (tenant, None) in routed:
            continue  # the alerts channel: one message for everybody
        for user_id in added.get(tenant, []):
            copy = cast(EventRow, dict(event))
            copy["edit_sequence"] = f"{event['edit_sequence']}:{user_id}"[:64]
            copy["channel_id"] = user_id
            copies.append(copy)
    return copies


def _settle(
    row: Any,
    wanted: Mapping[str, Detail],
    have: Mapping[str, HealthAlert],
    now: dt.datetime,
    report: CheckReport,
    events: list[EventRow],
    db: Session,
) -> None:
    """Open what started, remind what lasts a day more, resolve what cleared."""
    # Slack cannot be reached: the logs (and App Home) are all that is left.
    quiet = row.tenant_status != TenantStatus.ACTIVE
    for kind, detail in wanted.items():
        current = have.get(kind)
        if current is None:
            alert_id = _open(row, kind, detail, now, db)
            if alert_id is not None:
                report.opened.append((row.id, kind))
                _tell(events, row, kind, alert_id, AlertPhase.OPENED, detail, now, now, quiet)
        elif now - current.reminded_at >= REMIND_AFTER and _remind(current, detail, now, db):
            report.reminded.append((row.id, kind))
            phase = AlertPhase.REMINDER
            _tell(events, row, kind, current.id, phase, detail, current.opened_at, now, quiet)
    for kind, alert in have.items():
        if kind not in wanted and _resolve(alert, now, db):
            report.resolved.append((row.id, kind))
            phase = AlertPhase.RESOLVED
            hush = quiet or kind == AlertKind.SLACK_DISCONNECTED  # it was never posted
            _tell(events, row, kind, alert.id, phase, alert.detail, alert.opened_at, now, hush)


# The columns a check reads of a connection and its workspace.
_COLUMNS = (
    Connection.id,
    Connection.tenant_id,
    Connection.company_name,
    Connection.qbwc_username,
    Connection.status,
    Connection.last_poll_at,
    Connection.run_every_minutes,
    Connection.error_streak,
    Connection.error_code,
    Connection.last_error,
    Connection.locked_until,
    Connection.lock_source,
    Connection.bound_company,
    Connection.qb_file_path,
    Connection.open_company,
    Connection.open_file_path,
    Connection.clock_ahead,
    Tenant.status.label("tenant_status"),
    Tenant.team_id,
)


def _candidates(
    now: dt.datetime, settings: Settings, also: set[int], db_session: Session
) -> list[Row[Any]]:
    """The connections that may have a condition: one indexed query."""
    # No threshold is shorter than this one, so older polls are the only stale candidates.
    soonest = (
        dt.timedelta(minutes=settings.stale_after_minutes)
        if settings.stale_after_minutes is not None
        else MIN_STALE_AFTER
    )
    # A union of lookups, each by its own index: an OR across the join would scan them all.
    ids = union(
        select(Connection.id).where(Connection.last_poll_at < now - soonest),
        select(Connection.id).where(
            Connection.status.in_([ConnectionStatus.ERROR, ConnectionStatus.WRONG_FILE])
        ),
        select(Connection.id).where(Connection.locked_until > now - LOCK_HOLD),
        select(Connection.id).where(Connection.clock_ahead.is_not(None)),
        select(Connection.id)
        .join(Tenant, Tenant.id == Connection.tenant_id)
        .where(Tenant.status.in_([TenantStatus.DISCONNECTED, TenantStatus.UNINSTALLED])),
        select(Connection.id).where(Connection.id.in_(sorted(also)) if also else false()),
    )
    query = (
        select(*_COLUMNS)
        .join(Tenant, Tenant.id == Connection.tenant_id)
        .where(Connection.id.in_(ids.scalar_subquery()))
        .order_by(Connection.id)
    )
    return list(db_session.execute(query))


def _parked_events(db_session: Session) -> dict[int, dict[str, Detail]]:
    """Per connection: its failed events (count, latest channel and error) and unrouted ones."""
    found: dict[int, dict[str, Detail]] = {}
    parked = (EventStatus.FAILED, EventStatus.UNROUTED)
    counts = db_session.execute(
        select(
            Event.connection_id,
            Event.status,
            func.count(),
            func.max(Event.id),
            func.array_agg(Event.event_type.distinct())
            if db_session.get_bind().dialect.name == "postgresql"
            else func.group_concat(Event.event_type.distinct()),
        )
        .where(Event.status.in_(parked), Event.event_type != EventType.ALERT)
        .group_by(Event.connection_id, Event.status)
    ).all()
    latest: dict[int, tuple[str | None, str | None]] = {}
    failed_ids = [r[3] for r in counts if r[1] == EventStatus.FAILED]
    if failed_ids:
        latest = {
            r.id: (r.channel_id, r.last_error)
            for r in db_session.execute(
                select(Event.id, Event.channel_id, Event.last_error).where(Event.id.in_(failed_ids))
            )
        }
    for connection_id, status, count, last_id, types in counts:
        if isinstance(types, str):
            types = types.split(",")
        if status == EventStatus.FAILED:
            channel, error = latest.get(last_id, (None, None))
            detail: Detail = {"count": count, "channel": channel, "error": error}
            found.setdefault(connection_id, {})[AlertKind.DELIVERY_FAILED] = detail
        else:
            detail = {"count": count, "types": sorted(types or [])}
            found.setdefault(connection_id, {})[AlertKind.UNROUTED] = detail
    return found


def conditions(
    row: Any, parked: Mapping[str, Detail], *, now: dt.datetime, settings: Settings
) -> dict[str, Detail]:
    """The conditions of one connection now, each with what its alert says."""
    if row.tenant_status == TenantStatus.DISABLED or row.status == ConnectionStatus.DISABLED:
        return {}  # switched off by the operator: nothing to tell anyone
    # The same function and thresholds as App Home, `qbslack tenants` and /metrics.
    health = health_now(vitals_from_row(row), now=now, settings=settings)
    found: dict[str, Detail] = dict(parked)
    if row.tenant_status != TenantStatus.ACTIVE:
        found[AlertKind.SLACK_DISCONNECTED] = {"workspace": row.tenant_status}
    if health.state == Health.STALE:
        found[AlertKind.STALE] = {
            "last_poll_at": row.last_poll_at.isoformat() if row.last_poll_at else None,
            "seconds_since_poll": health.seconds_since_poll,
            "stale_minutes": round(health.stale_after.total_seconds() / 60, 1),
            "every_minutes": row.run_every_minutes or settings.qbwc_run_every_minutes,
        }
    if row.status == ConnectionStatus.WRONG_FILE:
        found[AlertKind.WRONG_FILE] = {
            "bound_company": row.bound_company,
            "bound_path": row.qb_file_path,
            "open_company": row.open_company,
            "open_path": row.open_file_path,
            "text": row.last_error,
        }
    if row.status == ConnectionStatus.ERROR and row.error_streak >= ERROR_SESSIONS:
        found[AlertKind.QUICKBOOKS_ERROR] = {
            "error": row.last_error,
            "code": row.error_code,
            "sessions": row.error_streak,
        }
    if row.clock_ahead:
        found[AlertKind.CLOCK_AHEAD] = {"stamped": row.clock_ahead}
    if row.locked_until is not None and row.locked_until > now - LOCK_HOLD:
        found[AlertKind.LOGIN_LOCKED] = {
            "username": row.qbwc_username,
            "source": row.lock_source,
            "locked_until": row.locked_until.isoformat(),
        }
    return found


def _open(row: Any, kind: str, detail: Detail, now: dt.datetime, db: Session) -> int | None:
    """Insert the open alert; None when another checker opened it first."""
    stmt = (
        dialect_insert(db)(HealthAlert)
        .values(
            tenant_id=row.tenant_id,
            connection_id=row.id,
            kind=kind,
            opened_at=now,
            reminded_at=now,
            detail=detail,
        )
        .on_conflict_do_nothing(
            index_elements=["connection_id", "kind"], index_where=HealthAlert.resolved_at.is_(None)
        )
        .returning(HealthAlert.id)
    )
    alert_id = db.scalar(stmt)
    return int(alert_id) if alert_id is not None else None


def _remind(alert: HealthAlert, detail: Detail, now: dt.datetime, db: Session) -> bool:
    """Move the alert's reminder on, unless another checker did it first."""
    result = db.execute(
        update(HealthAlert)
        .where(HealthAlert.id == alert.id, HealthAlert.reminded_at == alert.reminded_at)
        .values(reminded_at=now, detail=detail)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def _resolve(alert: HealthAlert, now: dt.datetime, db: Session) -> bool:
    """Close the alert, unless another checker did it first."""
    result = db.execute(
        update(HealthAlert)
        .where(HealthAlert.id == alert.id, HealthAlert.resolved_at.is_(None))
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def _tell(
    events: list[EventRow],
    row: Any,
    kind: str,
    alert_id: int,
    phase: AlertPhase,
    detail: Mapping[str, Any],
    opened_at: dt.datetime,
    now: dt.datetime,
    quiet: bool,
) -> None:
    """Queue the alert's message for the managers (or only log it, with Slack unreachable)."""
    log.warning(
        "health alert %s %s for %s (%s)",
        kind,
        phase,
        row.company_name,
        row.team_id,
        extra={"tenant": row.tenant_id, "connection": row.id},
    )
    if quiet:
        return
    # The reminder of a day is its own message; the opening and the resolution happen once.
    version = f"{phase}:{now:%Y%m%d}" if phase == AlertPhase.REMINDER else str(phase)
    events.append(
        {
            "tenant_id": row.tenant_id,
            "connection_id": row.id,
            "event_type": EventType.ALERT,
            "action": EventAction.ALERT,
            "object_type": "Alert",
            # One thread per alert: the opening is its parent, reminders and "resolved" reply.
            "object_id": f"{kind}:{alert_id}",
            "edit_sequence": version,
            "counterparty": row.company_name[:255],
            "payload": {
                "kind": kind,
                "phase": phase,
                "company": row.company_name,
                "connection_id": row.id,
                "opened_at": opened_at.isoformat(),
                "detail": dict(detail),
                "action": EventAction.ALERT,
                "object_type": "Alert",
            },
            "status": EventStatus.PENDING,
            "sort_key": now,
            "created_at": now,
            "updated_at": now,
        }
    )
