"""The QBWC calls: each loads its ticket, runs soap.session in its transaction, stores after.

Every call that changes the database follows the same order: the state machine's work
commits first, then the events it created are handed to delivery, then its ticket is
stored. A ticket never runs ahead of what the database holds: a call that failed, or a
process that died, leaves the ticket where the committed data is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from spyne import Fault
from sqlalchemy.orm import Session

from app.core.logs import log_context, ticket_prefix
from app.core.runtime import Runtime
from jobs.outbox import schedule_events as schedule
from soap import ending, session
from soap.client_versions import ClientVersions, client_version_answer
from soap.ending import CallResult
from soap.logins import VerifiedLogins
from soap.session import ticket_hash
from soap.tickets import Ticket, TicketStore

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Qbwc:
    """What the QBWC calls work with: the runtime and the stores its sessions share."""

    runtime: Runtime
    tickets: TicketStore
    logins: VerifiedLogins
    versions: ClientVersions

    @classmethod
    def for_runtime(cls, runtime: Runtime) -> Qbwc:
        """Stores in the runtime's Redis (in this process when there is none)."""
        return cls(
            runtime=runtime,
            tickets=TicketStore(runtime.redis),
            logins=VerifiedLogins(secret=runtime.settings.secret_key, redis=runtime.redis),
            versions=ClientVersions(runtime.redis),
        )

    def load(self, ticket: str | None) -> Ticket | None:
        """The live ticket, or None (unknown, replaced, closed or expired)."""
        return self.tickets.load(ticket_hash(ticket)) if ticket else None


@contextmanager
def _guarded(name: str, ticket: str | None) -> Iterator[None]:
    """Log records with the ticket's prefix; any failure becomes a short SOAP Fault."""
    with log_context(ticket=ticket_prefix(ticket)):
        try:
            yield
        except Fault:
            raise
        except Exception:
            # The traceback goes to our log; the client only learns that the server failed.
            log.exception("QBWC %s failed", name)
            raise Fault(
                faultcode="Server", faultstring="qbslack could not process this call"
            ) from None


def _run(qbwc: Qbwc, work: Callable[[Session], CallResult[T]], *, atomic: bool) -> T:
    """Run work(db_session) and commit, then hand over its events and store its ticket.

    atomic: in one transaction; else every statement commits on its own (a call that writes
    one row, or none, spares the BEGIN and COMMIT round trips).
    """
    runtime = qbwc.runtime
    with runtime.transaction() if atomic else runtime.autocommit() as db:
        result = work(db)
    return _committed(qbwc, result)


def _committed(qbwc: Qbwc, result: CallResult[T]) -> T:
    """After the commit: the new events go to delivery, then the ticket is stored."""
    if result.new_event_ids:
        schedule_events(qbwc.runtime, result.new_event_ids)
    if result.ticket is not None:  # after commit: a ticket never runs ahead of the data
        if result.opens:
            qbwc.tickets.open(result.ticket)
        else:
            qbwc.tickets.save(result.ticket)
    return result.value


def schedule_events(runtime: Runtime, event_ids: list[int]) -> None:
    """Hand committed events to delivery; a failure here loses nothing (the sweeper retries)."""
    try:
        schedule(runtime, event_ids)
    except Exception:
        log.exception("could not enqueue %d events; the sweeper will pick them up", len(event_ids))


def client_version(qbwc: Qbwc, caller: str, version: str | None) -> str:
    """clientVersion: remember the caller's version for its authenticate, and answer it."""
    if version:
        qbwc.versions.remember(caller, version)
    return client_version_answer(version)


def authenticate(
    qbwc: Qbwc, caller: str, username: str, password: str, *, source: str | None = None
) -> list[str]:
    """authenticate: [ticket, ""], [ticket, "none"] or ["", "nvu"]."""
    version = qbwc.versions.recall(caller)
    runtime, logins = qbwc.runtime, qbwc.logins
    with _guarded("authenticate", None):
        # A repeat poll of a recently verified login reads one row and writes none.
        with runtime.autocommit() as db:
            known = session.authenticate_known(
                username, password, db_session=db, logins=logins, client_version=version
            )
        if known is not None:
            return _committed(qbwc, known)
        return _run(
            qbwc,
            lambda db: session.authenticate(
                username,
                password,
                db_session=db,
                client_version=version,
                logins=logins,
                source=source,
            ),
            atomic=True,
        )


def send_request(
    qbwc: Qbwc,
    ticket: str | None,
    hcp_response: str | None,
    company_file: str | None,
    major: int | None,
    minor: int | None,
    country: str | None = None,
) -> str:
    """sendRequestXML: the next qbXML request, or ""."""
    with _guarded("sendRequestXML", ticket):
        t = qbwc.load(ticket)
        # The plan comes from the ticket; at most the connection's row is written: no
        # transaction.
        return _run(
            qbwc,
            lambda db: session.send_request(
                t, hcp_response, company_file, major, minor, db_session=db, country=country
            ),
            atomic=False,
        )


def receive_response(
    qbwc: Qbwc,
    ticket: str | None,
    response: str | None,
    hresult: str | None,
    message: str | None,
) -> int:
    """receiveResponseXML: progress 0..100, or negative after an error."""
    with _guarded("receiveResponseXML", ticket):
        answer = session.read_answer(qbwc.load(ticket), response, hresult, message)
        # Events and watermarks commit together; a page with neither updates one row.
        return _run(
            qbwc,
            lambda db: session.take_answer(answer, db_session=db),
            atomic=answer.needs_transaction,
        )


def connection_error(
    qbwc: Qbwc, ticket: str | None, hresult: str | None, message: str | None
) -> str:
    """connectionError: keep QuickBooks' error for App Home and answer "done"."""
    with _guarded("connectionError", ticket):
        t = qbwc.load(ticket)
        # One UPDATE of the connection's row at most: no transaction.
        return _run(
            qbwc,
            lambda db: ending.connection_error(t, hresult, message, db_session=db),
            atomic=False,
        )


def get_last_error(qbwc: Qbwc, ticket: str | None) -> str:
    """getLastError: the session's readable error ("" when there is none)."""
    with _guarded("getLastError", ticket):
        return ending.last_error(qbwc.load(ticket))


def close_connection(qbwc: Qbwc, ticket: str | None) -> str:
    """closeConnection: end the ticket; the text shows in QBWC's status column."""
    with _guarded("closeConnection", ticket):
        ended = qbwc.tickets.close(ticket_hash(ticket)) if ticket else None
        return ending.closing_text(ended)
