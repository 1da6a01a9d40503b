"""QBWC sessions: one row per ticket, holding the state machine's position."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class QbwcSession(Base):
    """A QBWC session opened by authenticate; the ticket itself is stored only as a hash."""

    __tablename__ = "qbwc_sessions"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    # One row per connection: a new authenticate replaces the old session (upsert).
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True, unique=True
    )
    state: Mapped[str] = mapped_column(String(24))
    qbxml_version: Mapped[str | None] = mapped_column(String(8))
    # Queries still to send, iterator ids, highest times seen: see soap.session.
    plan: Mapped[dict | None] = mapped_column(JSON)
    last_request: Mapped[str | None] = mapped_column(Text)
    requests_sent: Mapped[int] = mapped_column(Integer, default=0)
    events_created: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_call_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    # Set by closeConnection; state keeps how the session ended (for its closing message).
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
