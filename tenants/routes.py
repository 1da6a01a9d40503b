"""Routes: which Slack channel gets which event type, per workspace or per company."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tenants.models import (
    ALERTS_ROUTE,
    DEFAULT_ROUTE,
    EVENT_TYPES,
    OPT_IN_EVENT_TYPES,
    ROUTE_KEYS,
    Route,
)


@dataclass(frozen=True)
class RouteChoice:
    """The channel picked for an event, and the route that picked it."""

    channel_id: str
    route_key: str
    connection_scoped: bool


def set_route(
    tenant_id: int,
    event_type: str,
    channel_id: str,
    *,
    connection_id: int | None = None,
    user_id: str | None = None,
    db_session: Session,
) -> Route:
    """Create or replace the route of an event type (workspace-wide or one connection)."""
    if event_type not in ROUTE_KEYS:
        raise ValueError(f"unknown event type {event_type!r}; one of: {', '.join(ROUTE_KEYS)}")
    route = _find(tenant_id, connection_id, event_type, db_session=db_session)
    if route is None:
        route = Route(tenant_id=tenant_id, connection_id=connection_id, event_type=event_type)
        db_session.add(route)
    route.channel_id = channel_id
    route.updated_by = user_id
    db_session.flush()
    return route


def clear_route(
    tenant_id: int, event_type: str, *, connection_id: int | None = None, db_session: Session
) -> bool:
    """Remove a route; True if there was one."""
    route = _find(tenant_id, connection_id, event_type, db_session=db_session)
    if route is None:
        return False
    db_session.delete(route)
    db_session.flush()
    return True


def list_routes(tenant_id: int, *, db_session: Session) -> list[Route]:
    """All routes of a tenant, workspace-wide first."""
    stmt = select(Route).where(Route.tenant_id == tenant_id)
    routes = list(db_session.scalars(stmt))
    return sorted(routes, key=lambda r: (r.connection_id or 0, r.event_type))


# (connection id or None for workspace-wide, event type) -> channel id
RouteMap = dict[tuple[int | None, str], str]


def route_map(tenant_id: int, connection_id: int, *, db_session: Session) -> RouteMap:
    """Every route that applies to one connection (its own and the workspace's)."""
    rows = db_session.execute(
        select(Route.connection_id, Route.event_type, Route.channel_id).where(
            Route.tenant_id == tenant_id,
            (Route.connection_id == connection_id) | (Route.connection_id.is_(None)),
        )
    )
    return {(conn, event_type): channel for conn, event_type, channel in rows}


def choose_route(routes: RouteMap, connection_id: int, event_type: str) -> RouteChoice | None:
    """The route that applies: the connection's own, the workspace's, then the defaults."""
    order: list[tuple[int | None, str]] = [(connection_id, event_type), (None, event_type)]
    # Opt-in types (chart of accounts, employees) go only where a route names them, and
    # alerts never fall back to an event channel.
    if event_type not in OPT_IN_EVENT_TYPES and event_type != ALERTS_ROUTE:
        order += [(connection_id, DEFAULT_ROUTE), (None, DEFAULT_ROUTE)]
    for key in order:
        if key in routes:
            return RouteChoice(routes[key], key[1], key[0] is not None)
    return None


def effective_routes(
    tenant_id: int, connection_id: int, *, db_session: Session
) -> dict[str, RouteChoice | None]:
    """Where each route key of one company file goes now (its own route, the workspace's,
    the default channel), in ROUTE_KEYS order; None where nothing is posted."""
    routes = route_map(tenant_id, connection_id, db_session=db_session)
    return {key: choose_route(routes, connection_id, key) for key in ROUTE_KEYS}


def opt_in_query(tenant_id: Any, connection_id: Any) -> Select[Any]:
    """Which opt-in event types (account, employee) have a route for this connection.

    The ids are values or bind parameters (a statement built once and run many times).
    """
    return select(Route.event_type).where(
        Route.tenant_id == tenant_id,
        Route.event_type.in_(OPT_IN_EVENT_TYPES),
        (Route.connection_id == connection_id) | (Route.connection_id.is_(None)),
    )


def _find(
    tenant_id: int, connection_id: int | None, event_type: str, *, db_session: Session
) -> Route | None:
    scope = (
        Route.connection_id.is_(None)
        if connection_id is None
        else Route.connection_id == connection_id
    )
    return db_session.scalar(
        select(Route).where(Route.tenant_id == tenant_id, scope, Route.event_type == event_type)
    )


__all__ = [
    "EVENT_TYPES",
    "RouteChoice",
    "RouteMap",
    "choose_route",
    "clear_route",
    "effective_routes",
    "list_routes",
    "opt_in_query",
    "route_map",
    "set_route",
]
