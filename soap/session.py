"""The per-ticket QBWC state machine: what each SOAP call does and which call comes next.

Its functions take the call's loaded ticket and a database session, and return a CallResult
naming the ticket to store; soap.calls loads and stores tickets and owns the transactions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.core import metrics
from app.core.db import utcnow
from soap import ending, sync
from soap.auth import KnownLogin, check_credentials, known_login
from soap.binding import Bound, OpenFile, found_file_id, mismatch
from soap.ending import CallResult
from soap.envelope import QBXML_MAX_TAGS, tag_count_over
from soap.hresults import error_code, quickbooks_error
from soap.logins import VerifiedLogins
from soap.plan import Plan
from soap.qbxml.entities import COMPANY
from soap.qbxml.requests import MIN_VERSION, supported_version
from soap.qbxml.responses import QueryResult, parse_response
from soap.qbxml.safe_xml import QbxmlError
from soap.tickets import Ticket, TicketState
from tenants.enums import ConnectionStatus, TenantStatus
from tenants.models import Connection

log = logging.getLogger(__name__)

MAX_REQUESTS = 500  # a runaway session (a broken iterator...) ends with an error, never loops


@dataclass
class Answer:
    """A receiveResponseXML read before any database work: its ticket and parsed results."""

    ticket: Ticket | None
    hresult: str | None
    message: str | None
    results: list[QueryResult] | None = None
    unreadable: str | None = None  # why the response could not be parsed
    # The session's first answer: the company file it describes, and whether that is the
    # wrong one (the words for the bookkeeper) or could not be told (why not).
    open_file: OpenFile | None = None
    wrong_file: str | None = None
    unverified: str | None = None

    @property
    def needs_transaction(self) -> bool:
        """True when taking it writes more than the connection's status (events, marks)."""
        t = self.ticket
        if t is None or t.state != TicketState.AWAITING or t.plan is None or self.results is None:
            return False
        if self.wrong_file is not None:
            return False  # one UPDATE records what is open; nothing is taken
        if t.plan.baseline:
            return True  # the first sync ends with its notice event
        if t.plan.saw_objects():
            return True  # an iteration that saw objects moves its watermark when it ends
        return any(r.objects for r in self.results)


def ticket_hash(ticket: str) -> str:
    """The stored form of a ticket (a sha256: a leaked store yields no live tickets)."""
    return hashlib.sha256((ticket or "").encode()).hexdigest()


def authenticate_known(
    username: str,
    password: str,
    *,
    db_session: Session,
    logins: VerifiedLogins | None,
    client_version: str | None = None,
) -> CallResult[list[str]] | None:
    """The repeat poll of a login verified a moment ago: one read, no write; None otherwise."""
    known = known_login(username, password, db_session=db_session, logins=logins)
    if known is None or (client_version and known.qbwc_version != client_version[:32]):
        return None  # authenticate() checks it in full (and records what changed)
    return _opened(known, TicketState.AUTHENTICATED, db_session=db_session)


def authenticate(
    username: str,
    password: str,
    *,
    db_session: Session,
    now: dt.datetime | None = None,
    client_version: str | None = None,
    logins: VerifiedLogins | None = None,
    source: str | None = None,
) -> CallResult[list[str]]:
    """[ticket, bound path or ""], [ticket, "none"], or ["", "nvu"]."""
    now = now or utcnow()
    outcome = check_credentials(
        username, password, db_session=db_session, now=now, logins=logins, source=source
    )
    if not outcome.ok or outcome.connection is None:
        metrics.record_poll("nvu")
        return CallResult(["", "nvu"])
    conn = outcome.connection
    if client_version and conn.qbwc_version != client_version[:32]:
        conn.qbwc_version = client_version[:32]
    # A workspace whose Slack token was revoked cannot be posted to: nothing to do now, and
    # the watermarks keep our place in QuickBooks until it reconnects.
    if conn.tenant.status == TenantStatus.DISCONNECTED:
        conn.last_poll_at = now
        metrics.record_poll("none")
        return _opened(conn, TicketState.IDLE, db_session=db_session)
    return _opened(conn, TicketState.AUTHENTICATED, db_session=db_session)


def _opened(
    conn: Connection | KnownLogin, state: TicketState, *, db_session: Session
) -> CallResult[list[str]]:
    """A new ticket for the connection; it replaces the old one when the caller stores it.

    QBWC authenticates again only when it restarted the session: the old one is over, and
    the new one starts from the watermarks, read now (only this session can move them).
    A KnownLogin brings them along; for a Connection they are read here.
    """
    ticket = secrets.token_urlsafe(32)
    new = Ticket(
        hash=ticket_hash(ticket),
        connection_id=conn.id,
        tenant_id=conn.tenant_id,
        username=conn.qbwc_username,
        state=state,
        baseline_done=conn.baseline_done,
        backfill_days=conn.backfill_days,
        company_name=conn.qb_company_name,
        file_path=conn.qb_file_path if conn.bound_at is not None else None,
        file_id=conn.bound_file_id or conn.file_id,
        bound_company=conn.bound_company,
        bound=conn.bound_at is not None,
        label=conn.company_name,
        qb_country=conn.qb_country,
    )
    if isinstance(conn, KnownLogin):  # read with the login
        new.marks, new.opt_in = conn.marks, sorted(conn.opt_in)
    elif state != TicketState.IDLE:
        marks, opt_in = sync.plan_inputs(conn.id, conn.tenant_id, db_session=db_session)
        new.marks, new.opt_in = marks, sorted(opt_in)
    # A bound connection names its file, so QBWC opens it even with QuickBooks closed or
    # another file open; otherwise "" (whatever file is open: verified, then bound).
    answer = "none" if state == TicketState.IDLE else (new.file_path or "")
    return CallResult([ticket, answer], ticket=new, opens=True)


def send_request(
    t: Ticket | None,
    hcp_response: str | None,
    company_file: str | None,
    major: int | None,
    minor: int | None,
    *,
    db_session: Session,
    country: str | None = None,
) -> CallResult[str]:
    """The next qbXML request, or "" (then QBWC asks getLastError).

    t: the call's live ticket (None: unknown, replaced, closed or expired).
    """
    if t is None:
        return CallResult("")
    if t.state == TicketState.AWAITING and t.last_request:
        # Asked again before answering (the Guide: "you can simply resend" queries).
        return CallResult(t.last_request)
    if t.state != TicketState.AUTHENTICATED:
        t.last_error = t.last_error or "This session has nothing more to ask QuickBooks."
        return CallResult("", ticket=t)
    if t.plan is None:
        _note_country(t, country, db_session=db_session)
        version = supported_version(major or 0, minor or 0)
        if version is None:
            least = "{}.{}".format(*MIN_VERSION)
            return ending.fail(
                t,
                f"This QuickBooks supports qbXML {major or 0}.{minor or 0} at "
                f"most; qbslack needs qbXML {least} or newer (QuickBooks 2009 or "
                "later). Please update QuickBooks.",
                code="old_qbxml",
                db_session=db_session,
            )
        # strHCPResponse's CompanyQuery carries no data extension: the plan's first request
        # asks for the company with our OwnerID, and its answer is checked before any other.
        t.plan = Plan.new(
            t.marks,
            t.opt_in,
            baseline=not t.baseline_done,
            backfill_days=t.backfill_days,
            version=version,
            company_file=(company_file or "")[:1000] or None,
            company_name=None,
            ask_company=True,
            now=utcnow(),
        )
        t.marks, t.opt_in = {}, []  # in the plan now: not carried through every save
        t.qbxml_version = version
    if t.requests_sent >= MAX_REQUESTS:
        return ending.fail(
            t,
            f"Stopped after {MAX_REQUESTS} requests in one session; the next poll "
            "goes on from the last saved point.",
            code="runaway",
            db_session=db_session,
        )
    request = sync.next_request(t.plan, seq=t.requests_sent + 1)
    t.last_request = request
    t.requests_sent += 1
    t.state = TicketState.AWAITING
    return CallResult(request, ticket=t)


def read_answer(
    t: Ticket | None, response: str | None, hresult: str | None, message: str | None
) -> Answer:
    """receiveResponseXML's ticket and parsed response (no database work yet)."""
    answer = Answer(t, hresult, message)
    if t is None or t.state != TicketState.AWAITING or t.plan is None:
        return answer
    if (hresult or "").strip() or (message or "").strip():
        return answer
    if tag_count_over(response or "", QBXML_MAX_TAGS):
        answer.unreadable = "the response holds more XML elements than qbslack reads at once"
        return answer
    try:
        answer.results = parse_response(response or "")
    except QbxmlError as exc:
        answer.unreadable = str(exc)
        return answer
    if not t.plan.verified:
        _check_file(t, t.plan, answer, answer.results)
    return answer


def _check_file(t: Ticket, plan: Plan, answer: Answer, results: list[QueryResult]) -> None:
    """Tell from the first answer's CompanyQueryRs whether the open file is the bound one."""
    company = next((r for r in results if r.entity == COMPANY), None)
    if company is None or not company.ok:
        answer.unverified = (
            "QuickBooks did not say which company file is open, so qbslack read nothing. "
            "The next poll tries again."
        )
        return
    found = OpenFile(company.company_name, found_file_id(company), plan.company_file)
    bound = Bound(t.file_id, t.bound_company, t.file_path, t.label)
    answer.open_file, answer.wrong_file = found, mismatch(bound, found)


def take_answer(answer: Answer, *, db_session: Session) -> CallResult[int]:
    """Take QuickBooks' answer; progress 0..99 (more), 100 (done) or negative (error).

    In a transaction when answer.needs_transaction (events and watermarks commit together).
    """
    t = answer.ticket
    if t is None:
        return CallResult(-1)
    plan = t.plan
    if t.state != TicketState.AWAITING or plan is None:
        # An answer we were not waiting for (a resend after we took it): change nothing.
        if t.state == TicketState.DONE:
            return CallResult(100)
        if t.state == TicketState.AUTHENTICATED and plan is not None:
            return CallResult(plan.progress())
        t.last_error = t.last_error or "QuickBooks' answer came when none was expected."
        return CallResult(-1, ticket=t)
    if answer.results is None:
        if answer.unreadable is not None:
            ending.fail(
                t,
                f"QuickBooks' answer could not be read ({answer.unreadable}). The next "
                "poll tries again.",
                code="unreadable",
                db_session=db_session,
            )
            return CallResult(-102, ticket=t)
        ending.fail(
            t,
            quickbooks_error(answer.hresult, answer.message) + ". The next poll tries again.",
            code=error_code(answer.hresult, "message"),
            db_session=db_session,
        )
        return CallResult(-101, ticket=t)
    if answer.unverified is not None:
        ending.fail(t, answer.unverified, code="no_company", db_session=db_session)
        return CallResult(-103, ticket=t)
    if answer.wrong_file is not None and answer.open_file is not None:
        # 1, not an error code: QBWC asks sendRequestXML, which answers "", and getLastError
        # explains which file is open and whose this entry is. Nothing is taken; the health
        # checker (jobs.alerts) tells the managers.
        ending.wrong_file(t, answer.open_file, answer.wrong_file, db_session=db_session)
        return CallResult(1, ticket=t)
    if answer.open_file is not None:
        plan.verified = True
        plan.company_name = answer.open_file.company
        plan.found_file_id = answer.open_file.file_id
    conn = None
    if answer.needs_transaction:  # events to write: the connection's row, locked
        conn = db_session.get(Connection, t.connection_id, with_for_update=True)
        if conn is None:  # deleted during the session: its ticket ends with it
            return CallResult(-1)
    outcome = sync.apply_results(t, answer.results, conn, db_session=db_session)
    if outcome.stale:
        # An old answer resent: ignored; QBWC asks for the request again and gets it resent.
        log.warning(
            "QBWC sent a stale answer for %s; ignored",
            t.username,
            extra={"tenant": t.tenant_id, "connection": t.connection_id},
        )
        return CallResult(plan.progress())
    t.events_created += outcome.new_events
    t.changes_queued += len(outcome.new_pending_ids)
    done = plan.progress()
    new_ids = list(outcome.new_pending_ids)
    if done < 100:
        t.state = TicketState.AUTHENTICATED
        return CallResult(done, new_ids, ticket=t)
    new_ids += _finish(t, conn, plan, db_session=db_session)
    return CallResult(100, new_ids, ticket=t)


def clock_warning(stamped: str) -> str:
    """What the connection shows when QuickBooks stamped a change days ahead of now."""
    return (
        f"QuickBooks clock is in the future: a change was stamped {stamped}, more than a day "
        "ahead. The change was posted; check the date and time of the PC that runs "
        "QuickBooks."
    )


COUNTRIES = frozenset({"US", "CA", "UK", "AU"})  # the editions QBWC names in qbXMLCountry


def _note_country(t: Ticket, country: str | None, *, db_session: Session) -> None:
    """Remember the edition's country (messages show the home currency's symbol by it)."""
    code = (country or "").strip().upper()
    if code in COUNTRIES and code != t.qb_country:
        ending.update_connection(t, db_session=db_session, qb_country=code)
        t.qb_country = code


def _finish(t: Ticket, conn: Connection | None, plan: Plan, *, db_session: Session) -> list[int]:
    """Close out a completed cycle: status for App Home, binding, the first sync's notice.

    conn is the connection's row when this is a transaction (always so for a first sync).
    """
    now = utcnow()
    t.state = TicketState.DONE
    values: dict[str, object] = {"last_poll_at": now}
    if plan.company_name:
        values["qb_company_name"] = plan.company_name[:255]
    if not t.bound:
        # The first complete sync binds the connection to the file it verified.
        values.update(
            bound_at=now,
            bound_company=(plan.company_name or "")[:255] or None,
            bound_file_id=plan.found_file_id,
            qb_file_path=plan.company_file,
        )
    elif plan.company_file and plan.company_file != t.file_path:
        values["qb_file_path"] = plan.company_file  # the bound file, verified, moved
    values.update(open_company=None, open_file_id=None, open_file_path=None)
    values["clock_ahead"] = (plan.clock_ahead or "")[:40] or None  # the health check's alert
    errors = plan.errors()
    failed_with: str | None = None
    new_ids: list[int] = []
    # A warning, not an error: the session worked and its changes are posted; App Home and
    # `qbslack tenants` show it as the connection's last error until a session without it.
    warning = clock_warning(plan.clock_ahead) if plan.clock_ahead else None
    if errors:
        # Those entities keep their watermarks and are asked again at the next poll.
        t.last_error = "; ".join(errors)[:2000]
        shown = "; ".join([t.last_error, warning]) if warning else t.last_error
        values.update(status=ConnectionStatus.ERROR, last_error=shown, last_error_at=now)
        failed_with = "query_errors"
        metrics.record_poll("partial")
    else:
        values.update(status=ConnectionStatus.OK, last_error=None, error_code=None, error_streak=0)
        if warning:
            values.update(last_error=warning, last_error_at=now)
        if plan.baseline and conn is not None:
            values.update(baseline_done=True, backfill_days=None)
            new_ids += sync.connected_notice(conn, plan, db_session=db_session)
        metrics.record_poll("ok")
    ending.update_connection(t, db_session=db_session, failed_with=failed_with, **values)
    return new_ids
