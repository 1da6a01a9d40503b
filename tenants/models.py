"""Tenants (Slack workspaces), their installation, company-file connections and routes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, UTCDateTime, utcnow
from tenants.enums import ConnectionStatus, EventType, TenantStatus

# Routing keys: the event types posted by default, those posted only where a route names
# them, and `default` (the channel for any type without a route of its own).
EVENT_TYPES: tuple[str, ...] = (
    EventType.VENDOR,
    EventType.BILL,
    EventType.PURCHASE_ORDER,
    EventType.BILL_PAYMENT,
    EventType.PAYMENT_RECEIVED,
    EventType.INVOICE,
)
OPT_IN_EVENT_TYPES: tuple[str, ...] = (EventType.ACCOUNT, EventType.EMPLOYEE)
DEFAULT_ROUTE = "default"
# Where health alerts go (never the default channel: without it they are a DM).
ALERTS_ROUTE = "alerts"
ROUTE_KEYS: tuple[str, ...] = (*EVENT_TYPES, *OPT_IN_EVENT_TYPES, DEFAULT_ROUTE, ALERTS_ROUTE)


def new_file_id() -> str:
    """A QBWC FileID: a GUID in braces."""
    return "{" + str(uuid.uuid4()).upper() + "}"


class Tenant(Base):
    """One Slack workspace that installed qbslack."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), unique=True)
    team_name: Mapped[str] = mapped_column(String(255), default="")
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=TenantStatus.ACTIVE, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    installation: Mapped[Installation | None] = relationship(
        back_populates="tenant", uselist=False, cascade="all, delete-orphan"
    )
    connections: Mapped[list[Connection]] = relationship(
        back_populates="tenant", order_by="Connection.id", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:
        """True when the workspace may poll and post."""
        return self.status == TenantStatus.ACTIVE


class Installation(Base):
    """The Slack app installation of a tenant; tokens are stored encrypted."""

    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), unique=True
    )
    app_id: Mapped[str | None] = mapped_column(String(32))
    bot_id: Mapped[str | None] = mapped_column(String(32))
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    bot_scopes: Mapped[str] = mapped_column(Text, default="")
    bot_token_encrypted: Mapped[str | None] = mapped_column(Text)
    bot_refresh_token_encrypted: Mapped[str | None] = mapped_column(Text)
    bot_token_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    installer_user_id: Mapped[str | None] = mapped_column(String(32))
    user_scopes: Mapped[str | None] = mapped_column(Text)
    user_token_encrypted: Mapped[str | None] = mapped_column(Text)
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean, default=False)
    installed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant: Mapped[Tenant] = relationship(back_populates="installation")


class Connection(Base):
    """One QuickBooks company file of a tenant, with its own QBWC credentials."""

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("tenant_id", "company_name"),
        # The health checker's candidates, each found by its own index (jobs.alerts).
        Index("ix_connections_last_poll_at", "last_poll_at"),
        Index("ix_connections_status", "status"),
        Index("ix_connections_locked_until", "locked_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    company_name: Mapped[str] = mapped_column(String(255))
    qb_company_name: Mapped[str | None] = mapped_column(String(255))  # as QuickBooks reports it
    # The company file this connection is bound to (its first complete sync): its path as
    # QBWC reported it, QuickBooks' company name and the FileID data extension QBWC wrote
    # into it under our OwnerID (None where QBWC wrote none: before 2.0, a restored file).
    qb_file_path: Mapped[str | None] = mapped_column(Text)
    bound_company: Mapped[str | None] = mapped_column(String(255))
    bound_file_id: Mapped[str | None] = mapped_column(String(64))
    bound_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The file QBWC had open when a session found the wrong one: what a re-bind binds to.
    open_company: Mapped[str | None] = mapped_column(String(255))
    open_file_id: Mapped[str | None] = mapped_column(String(64))
    open_file_path: Mapped[str | None] = mapped_column(Text)
    qbwc_username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    file_id: Mapped[str] = mapped_column(String(40), default=new_file_id)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(32), default=ConnectionStatus.NEW)
    baseline_done: Mapped[bool] = mapped_column(Boolean, default=False)
    backfill_days: Mapped[int | None] = mapped_column(Integer)
    last_poll_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    qbwc_version: Mapped[str | None] = mapped_column(String(32))
    # The edition's country QBWC reports in sendRequestXML (US, CA, UK, AU): amounts in a
    # file without multicurrency are in its home currency.
    qb_country: Mapped[str | None] = mapped_column(String(8))
    # The RunEveryNMinutes of the .qwc last handed out (None: the deployment's default).
    run_every_minutes: Mapped[int | None] = mapped_column(Integer)
    # The last session's QuickBooks error code and how many sessions in a row ended with it.
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_streak: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Where the wrong passwords that locked the QBWC login came from.
    lock_source: Mapped[str | None] = mapped_column(String(64))
    # A TimeModified the last session saw more than a day ahead of the server (a PC clock set
    # wrong): posted, but no watermark moved to it. None once a session no longer sees one.
    clock_ahead: Mapped[str | None] = mapped_column(String(40))
    # Hashes of the sources that logged in with the right password (most recent first).
    known_sources: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant: Mapped[Tenant] = relationship(back_populates="connections")
    watermarks: Mapped[list[Watermark]] = relationship(
        back_populates="connection", cascade="all, delete-orphan"
    )


class Route(Base):
    """Which channel gets an event type, workspace-wide or for one connection."""

    __tablename__ = "routes"
    __table_args__ = (
        # NULL connection_id means "the workspace's route"; coalesce makes it unique too.
        Index(
            "uq_routes_scope_event_type",
            "tenant_id",
            func.coalesce(text("connection_id"), 0),
            "event_type",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    updated_by: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Watermark(Base):
    """How far a connection has synced one entity, in QuickBooks' own clock text."""

    __tablename__ = "watermarks"

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    entity: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The raw QuickBooks TimeModified/TimeDeleted text, offset and all: never the server clock.
    value: Mapped[str | None] = mapped_column(String(40))
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    connection: Mapped[Connection] = relationship(back_populates="watermarks")


class OAuthState(Base):
    """A pending Slack OAuth state, kept server-side until used or expired."""

    __tablename__ = "oauth_states"

    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class SlackEventReceipt(Base):
    """A Slack event id already handled, so a retried delivery has no second effect."""

    __tablename__ = "slack_event_receipts"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Manager(Base):
    """Someone a manager made a manager of a workspace (admins and the installer need not be)."""

    __tablename__ = "managers"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    added_by: Mapped[str | None] = mapped_column(String(32))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginFailure(Base):
    """Wrong QBWC passwords from one source for one login: what locks that source out."""

    __tablename__ = "login_failures"

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(64), primary_key=True)  # a hash of the address
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
