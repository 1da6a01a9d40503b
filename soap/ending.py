"""How QBWC sessions end: errors kept for App Home, the wrong company file, closing words."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy import bindparam, case, update
from sqlalchemy.orm import Session

from app.core import metrics
from app.core.db import utcnow
from soap.binding import OpenFile
from soap.hresults import PATH_FAILURES, error_code, metric_label, quickbooks_error
from soap.tickets import Ticket, TicketState
from tenants.enums import ConnectionStatus
from tenants.models import Connection

log = logging.getLogger(__name__)

T = TypeVar("T")

# A connection the operator disabled keeps that status, whatever a live session still says.
_UPDATE_CONNECTION = update(Connection).where(
    Connection.id == bindparam("b_id"), Connection.status != ConnectionStatus.DISABLED
)
# A failed session: the same error code as the last session's lengthens the streak (the
# right-hand sides read the row's old values), another code starts a new one.
_FAILED_SESSION = _UPDATE_CONNECTION.values(
    error_streak=case(
        (Connection.error_code == bindparam("b_code"), Connection.error_streak + 1), else_=1
    ),
    error_code=bindparam("b_code"),
)


@dataclass
class CallResult(Generic[T]):
    """The answer to a SOAP call, the ticket to keep and the events to hand to delivery.

    The caller commits first, then hands over the events and stores the ticket: a ticket
    never runs ahead of what the database holds.
    """

    value: T
    new_event_ids: list[int] = field(default_factory=list)
    ticket: Ticket | None = None  # to store after commit
    opens: bool = False  # a new ticket (authenticate), replacing the connection's old one


def fail(t: Ticket, text: str, *, code: str, db_session: Session) -> CallResult[str]:
    """End the session with an error, kept on the ticket and on the connection (App Home)."""
    log.warning(
        "QBWC session for %s failed (%s): %s",
        t.username,
        code,
        text,
        extra={"tenant": t.tenant_id, "connection": t.connection_id},
    )
    metrics.record_qbwc_error(metric_label(code))
    now = utcnow()
    t.state, t.last_error = TicketState.FAILED, text
    update_connection(
        t,
        db_session=db_session,
        failed_with=code,
        status=ConnectionStatus.ERROR,
        last_error=text,
        last_error_at=now,
        last_poll_at=now,
    )
    metrics.record_poll("error")
    return CallResult("", ticket=t)


def update_connection(
    t: Ticket, *, db_session: Session, failed_with: str | None = None, **values: object
) -> None:
    """Write some of the ticket's connection's columns (one UPDATE, nothing read first).

    failed_with: the session failed with this error code (counts the streak of sessions).
    """
    # The SET clause comes from the parameters' names: one statement, compiled once per set.
    if failed_with is None:
        db_session.connection().execute(_UPDATE_CONNECTION, {"b_id": t.connection_id, **values})
        return
    params = {"b_id": t.connection_id, "b_code": failed_with[:32], **values}
    db_session.connection().execute(_FAILED_SESSION, params)


def connection_error(
    t: Ticket | None, hresult: str | None, message: str | None, *, db_session: Session
) -> CallResult[str]:
    """QBWC could not open QuickBooks: try the open file once, else keep the error and stop.

    A bound connection names its file in authenticate. When QBWC cannot open that path
    (moved, QuickBooks busy with another file), "" lets it try the file that is open: the
    session's first answer then tells whether that is the bound file (moved) or not.
    """
    code = (hresult or "").strip().lower()
    if t is not None and t.file_path and not t.tried_open_file and code in PATH_FAILURES:
        t.tried_open_file = True
        log.info(
            "QBWC could not open %s (%s); trying the open company file",
            t.file_path,
            code,
            extra={"tenant": t.tenant_id, "connection": t.connection_id},
        )
        return CallResult("", ticket=t)
    if t is not None:
        fail(
            t,
            quickbooks_error(hresult, message) + ". The next poll tries again.",
            code=error_code(hresult, "connection"),
            db_session=db_session,
        )
    return CallResult("done", ticket=t)


def wrong_file(t: Ticket, found: OpenFile, text: str, *, db_session: Session) -> None:
    """QBWC opened another company file: record what is open (the checker alerts), take nothing."""
    log.warning(
        "QBWC session for %s has the wrong company file open: %s",
        t.username,
        found.company,
        extra={"tenant": t.tenant_id, "connection": t.connection_id},
    )
    metrics.record_poll("wrong_file")
    t.state, t.last_error = TicketState.FAILED, text
    now = utcnow()
    update_connection(
        t,
        db_session=db_session,
        status=ConnectionStatus.WRONG_FILE,
        last_error=text,
        last_error_at=now,
        last_poll_at=now,  # the Web Connector came by: not stale
        open_company=(found.company or "")[:255] or None,
        open_file_id=found.file_id,
        open_file_path=found.path,
    )


def last_error(t: Ticket | None) -> str:
    """The readable error of this session ("" when there is none)."""
    if t is None:
        return "The session has expired or is unknown; the next poll starts a new one."
    return t.last_error or ""


CLOSING_MAX = 60  # QBWC's status column shows a short line


def closing_text(ended: Ticket | None) -> str:
    """The closeConnection text of an ended session: what happened, for QBWC's status column."""
    if ended is None:
        return "OK"
    if ended.state == TicketState.IDLE:
        text = "Paused: reinstall qbslack in Slack (nothing is lost)"
    elif ended.state != TicketState.DONE or ended.last_error:
        text = "Finished with an error: see qbslack in Slack"
    elif ended.plan is not None and ended.plan.baseline:
        text = "Connected: baseline recorded, nothing posted"
    elif ended.changes_queued == 0:
        text = "Nothing new"
    elif ended.changes_queued == 1:
        text = "1 change queued for Slack"
    else:
        text = f"{ended.changes_queued} changes queued for Slack"
    return text[:CLOSING_MAX]
