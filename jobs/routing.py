"""Which channel an event goes to, or why it stays in the outbox."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from jobs.enums import EventStatus
from jobs.models import Event
from tenants.enums import EventType
from tenants.installations import installer_user_id
from tenants.models import ALERTS_ROUTE, DEFAULT_ROUTE, OPT_IN_EVENT_TYPES, Route, Tenant
from tenants.routes import RouteMap, choose_route, route_map

# Routes loaded once per (tenant, connection) while routing a batch of events.
RouteCache = dict[tuple[int, int], RouteMap]


def channel_for(
    event: Event, *, db_session: Session, cache: RouteCache | None = None
) -> str | None:
    """The channel for an event by the route rules (None: no route applies)."""
    key = (event.tenant_id, event.connection_id)
    cache = {} if cache is None else cache
    if key not in cache:
        cache[key] = route_map(event.tenant_id, event.connection_id, db_session=db_session)
    routes = cache[key]
    if event.event_type == EventType.NOTICE:
        choice = choose_route(routes, event.connection_id, DEFAULT_ROUTE)
        if choice is not None:
            return choice.channel_id
        # No default channel: the first route that applies to this company file (its own
        # or the workspace's), never one routed only for another company; else it waits.
        return db_session.scalar(
            select(Route.channel_id)
            .where(
                Route.tenant_id == event.tenant_id,
                (Route.connection_id == event.connection_id) | Route.connection_id.is_(None),
                Route.event_type != ALERTS_ROUTE,
            )
            .order_by(Route.connection_id.is_(None), Route.id)
            .limit(1)
        )
    if event.event_type == EventType.ALERT:
        # The `alerts` route (the company's, else the workspace's), else a DM to the installer.
        choice = choose_route(routes, event.connection_id, ALERTS_ROUTE)
        if choice is not None:
            return choice.channel_id
        return installer_user_id(event.tenant_id, db_session=db_session)
    choice = choose_route(routes, event.connection_id, event.event_type)
    return choice.channel_id if choice else None


def route(
    event: Event, tenant: Tenant, *, db_session: Session, cache: RouteCache | None = None
) -> str | None:
    """Give a pending event its channel, or park it; returns the channel when routed."""
    if event.status != EventStatus.PENDING:
        return None
    if not tenant.is_active:
        event.status = EventStatus.PAUSED
        return None
    if event.channel_id:
        return event.channel_id
    channel = channel_for(event, db_session=db_session, cache=cache)
    if channel is None:
        # Opt-in types are only posted where a route names them; the rest wait for a route.
        event.status = (
            EventStatus.SKIPPED if event.event_type in OPT_IN_EVENT_TYPES else EventStatus.UNROUTED
        )
        event.last_error = "no route for this event type and no default channel"
        return None
    event.channel_id = channel
    return channel


def route_events(event_ids: list[int], *, db_session: Session) -> set[tuple[int, str]]:
    """Assign channels to pending events; returns the (tenant, channel) pairs to drain."""
    channels: set[tuple[int, str]] = set()
    # Only what routing reads: a page's payloads stay in the database.
    events = db_session.scalars(
        select(Event)
        .options(
            load_only(
                Event.id,
                Event.tenant_id,
                Event.connection_id,
                Event.event_type,
                Event.status,
                Event.channel_id,
            )
        )
        .where(Event.id.in_(event_ids), Event.status == EventStatus.PENDING)
    ).all()
    tenants: dict[int, Tenant] = {}
    cache: RouteCache = {}
    # No flush per event: the changed rows go out together (one executemany) at the end.
    with db_session.no_autoflush:
        for event in events:
            tenant = tenants.get(event.tenant_id) or db_session.get(Tenant, event.tenant_id)
            assert tenant is not None
            tenants[event.tenant_id] = tenant
            channel = route(event, tenant, db_session=db_session, cache=cache)
            if channel:
                channels.add((event.tenant_id, channel))
    return channels
