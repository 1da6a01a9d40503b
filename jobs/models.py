"""The events outbox, its delivery audit trail, and Slack thread parents."""

from __future__ import annotations

import datetime as dt
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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, UTCDateTime, utcnow
from jobs.enums import EventStatus


class Event(Base):
    """One change seen in QuickBooks: the outbox row and its audit record."""

    __tablename__ = "events"
    __table_args__ = (
        # The dedupe key: the same object version can never become two events.
        UniqueConstraint("tenant_id", "connection_id", "object_type", "object_id", "edit_sequence"),
        Index("ix_events_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_events_connection_object", "connection_id", "object_id"),
        Index("ix_events_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(32))  # routing key: bill, vendor, ...
    action: Mapped[str] = mapped_column(String(16))  # created, updated, deleted, connected
    object_type: Mapped[str] = mapped_column(String(48))  # QuickBooks type: Bill, Vendor, ...
    object_id: Mapped[str] = mapped_column(String(64))  # TxnID or ListID
    edit_sequence: Mapped[str] = mapped_column(String(64))
    ref_number: Mapped[str | None] = mapped_column(String(64), index=True)
    counterparty: Mapped[str | None] = mapped_column(String(255))
    amount: Mapped[str | None] = mapped_column(String(32))
    qb_time_modified: Mapped[str | None] = mapped_column(String(40))
    sort_key: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.PENDING)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Why it failed, as a code: Slack's error (channel_not_found…) or gave_up; None otherwise.
    failure_code: Mapped[str | None] = mapped_column(String(40))
    replay_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When the current run of transient failures began: the event fails only after
    # DELIVERY_GIVE_UP_HOURS of them.
    failing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    attempts_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="event", order_by="DeliveryAttempt.id", cascade="all, delete-orphan"
    )


class DeliveryAttempt(Base):
    """One try at posting an event (or a replay request): the audit trail."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    result: Mapped[str] = mapped_column(String(24))  # posted, ratelimited, retry, failed, ...
    channel_id: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    replay: Mapped[bool] = mapped_column(Boolean, default=False)

    event: Mapped[Event] = relationship(back_populates="attempts_log")


class SlackThread(Base):
    """The first message about a QuickBooks object in a channel: later events reply to it."""

    __tablename__ = "slack_threads"
    __table_args__ = (UniqueConstraint("connection_id", "object_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    object_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(32))
    parent_ts: Mapped[str] = mapped_column(String(32))
    parent_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL")
    )
    state: Mapped[str | None] = mapped_column(String(32))  # e.g. "Paid", "Deleted"
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class HealthAlert(Base):
    """One episode of a health condition of a company file, from its alert to "resolved"."""

    __tablename__ = "health_alerts"
    __table_args__ = (
        # At most one open alert per condition per connection, however many checkers run.
        Index(
            "uq_health_alerts_open",
            "connection_id",
            "kind",
            unique=True,
            postgresql_where=text("resolved_at IS NULL"),
            sqlite_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # AlertKind
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reminded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # the last post about it
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
