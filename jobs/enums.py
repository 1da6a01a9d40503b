"""The outbox's vocabularies: an event's delivery status and what happened to its object."""

from enum import StrEnum


class EventStatus(StrEnum):
    """Where an event is on its way to Slack."""

    PENDING = "pending"  # committed, waiting for a delivery job
    POSTED = "posted"
    FAILED = "failed"  # permanent Slack error or retries exhausted; replayable
    UNROUTED = "unrouted"  # no route and no default; replayable once one exists
    PAUSED = "paused"  # tenant disconnected (token revoked); resumes on reinstall
    SKIPPED = "skipped"  # opt-in type with no route naming it: kept, never posted
    BASELINE = "baseline"  # seen during the first sync: recorded, not posted


class EventAction(StrEnum):
    """What the event says happened to its QuickBooks object."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    CONNECTED = "connected"  # the "connected to <company>" notice of a first sync
    ALERT = "alert"  # a health alert about the connection (its payload says which)


class AlertKind(StrEnum):
    """Which health condition an alert event is about (its object_id)."""

    WRONG_FILE = "wrong_company_file"  # QBWC had another company file open
