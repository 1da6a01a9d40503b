"""The per-ticket QBWC state machine: what each SOAP call does and which call comes next."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from app.core import metrics
from app.core.db import utcnow
from soap import sync
from soap.auth import KnownLogin, check_credentials, known_login
from soap.ingest import connected_notice
from soap.logins import VerifiedLogins
from soap.qbxml.requests import MIN_VERSION, supported_version
from soap.qbxml.responses import QueryResult, parse_company, parse_response
from soap.qbxml.safe_xml import QbxmlError
from soap.tickets import Ticket, TicketStore
from tenants.enums import ConnectionStatus, TenantStatus
from tenants.models import Connection

log = logging.getLogger(__name__)

MAX_REQUESTS = 500  # a runaway session (a broken iterator...) ends with an error, never loops
# The Programmer's Guide we implement is the one for QBWC 2.0 (May 2009), the release that
# added serverVersion, getLastError's "NoOp" and clientVersion's "O:" answer. A 1.x Web
# Connector predates that protocol: warn ("W:" lets the user go on) rather than refuse.
MIN_QBWC = (2, 0)

# States: which call is expected next.
AUTHENTICATED = "authenticated"  # sendRequestXML
AWAITING = "awaiting_response"  # receiveResponseXML (a repeated sendRequestXML gets a resend)
DONE = "done"  # receiveResponseXML returned 100: closeConnection
FAILED = "failed"  # "" or a negative number was returned: getLastError, closeConnection
IDLE = "idle"  # authenticate said "none": closeConnection
# closeConnection ends the ticket; its last state words the closing message.

# Plain words for the hresults QuickBooks' request processor reports through QBWC.
HRESULT_TEXT = {
    "0x80040400": "QuickBooks could not read qbslack's request",
    "0x80040401": "QuickBooks could not be accessed",
    "0x80040402": "QuickBooks hit an unexpected error (see qbsdklog.txt on its computer)",
    "0x80040403": "QuickBooks could not open the company file",
    "0x80040408": "QuickBooks could not be started or the company file is not open",
    "0x8004040a": "QuickBooks has a different company file open",
    "0x80040410": "the company file is open in a mode that does not allow qbslack in",
    "0x80040414": "a dialog box is open in QuickBooks: close it and the next poll goes on",
    "0x80040416": "QuickBooks is not running and no company file was named",
    "0x8004041a": "qbslack has no permission for this company file: allow it in "
    "QuickBooks (Edit > Preferences > Integrated Applications)",
    "0x80040420": "the QuickBooks user refused qbslack access",
    "0x80040424": "QuickBooks has not finished starting up",
}
_HRESULT = re.compile(r"0x[0-9a-f]{8}")
_UPDATE_CONNECTION = update(Connection).where(Connection.id == bindparam("b_id"))


@dataclass
class CallResult:
    """The answer to a SOAP call, the ticket to keep and the events to hand to delivery.

    The caller commits first, then hands over the events and stores the ticket: a ticket
    never runs ahead of what the database holds.
    """

    value: object
    new_event_ids: list[int] = field(default_factory=list)
    ticket: Ticket | None = None  # to store after commit
    opens: bool = False  # a new ticket (authenticate), replacing the connection's old one


@dataclass
class Answer:
    """A receiveResponseXML read before any database work: its ticket and parsed results."""

    ticket: Ticket | None
    hresult: str | None
    message: str | None
    results: list[QueryResult] | None = None
    unreadable: str | None = None  # why the response could not be parsed

    @property
    def needs_transaction(self) -> bool:
        """True when taking it writes more than the connection's status (events, marks)."""
        t = self.ticket
        if t is None or t.state != AWAITING or t.plan is None or self.results is None:
            return False
        if t.plan.get("baseline"):
            return True  # the first sync ends with its notice event
        if any(st.get("max") for st in t.plan["entities"].values()):
            return True  # an iteration that saw objects moves its watermark when it ends
        return any(r.objects for r in self.results)


def ticket_hash(ticket: str) -> str:
    """The stored form of a ticket (a sha256: a leaked store yields no live tickets)."""
    return hashlib.sha256((ticket or "").encode()).hexdigest()


def client_version_answer(version: str | None) -> str:
    """ "" for a supported QBWC, or "W:..." asking an older one to upgrade."""
    try:
        parts = tuple(int(p) for p in (version or "").strip().split("."))
    except ValueError:
        return ""  # unreadable: let it try rather than block a working connector
    if parts < MIN_QBWC:
        return (
            f"W:This QuickBooks Web Connector ({version}) is older than 2.0, the version "
            "qbslack is built for. Please install the current Web Connector from Intuit."
        )
    return ""


def quickbooks_error(hresult: str | None, message: str | None) -> str:
    """A readable text for an hresult and message that QBWC passed on from QuickBooks."""
    code = (hresult or "").strip().lower()
    words = HRESULT_TEXT.get(code, "QuickBooks reported an error")
    said = (message or "").strip()[:300]
    text = f"{words} ({hresult.strip()})" if hresult and hresult.strip() else words
    return f"{text}: {said}" if said else text


def authenticate_known(
    username: str,
    password: str,
    *,
    db_session: Session,
    logins: VerifiedLogins | None,
    client_version: str | None = None,
) -> CallResult | None:
    """The repeat poll of a login verified a moment ago: one read, no write; None otherwise."""
    known = known_login(username, password, db_session=db_session, logins=logins)
    if known is None or (client_version and known.qbwc_version != client_version[:32]):
        return None  # authenticate() checks it in full (and records what changed)
    return _opened(known, AUTHENTICATED, db_session=db_session)


def authenticate(
    username: str,
    password: str,
    *,
    db_session: Session,
    now: dt.datetime | None = None,
    client_version: str | None = None,
    logins: VerifiedLogins | None = None,
) -> CallResult:
    """[ticket, ""] to use the open company file, [ticket, "none"], or ["", "nvu"]."""
    now = now or utcnow()
    outcome = check_credentials(username, password, db_session=db_session, now=now, logins=logins)
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
        return _opened(conn, IDLE, db_session=db_session)
    return _opened(conn, AUTHENTICATED, db_session=db_session)


def _opened(conn: Connection | KnownLogin, state: str, *, db_session: Session) -> CallResult:
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
        file_path=conn.qb_file_path,
    )
    if isinstance(conn, KnownLogin):  # read with the login
        new.marks, new.opt_in = conn.marks, sorted(conn.opt_in)
    elif state != IDLE:
        marks, opt_in = sync.plan_inputs(conn.id, conn.tenant_id, db_session=db_session)
        new.marks, new.opt_in = marks, sorted(opt_in)
    return CallResult([ticket, "none" if state == IDLE else ""], ticket=new, opens=True)


def _load(ticket: str | None, tickets: TicketStore) -> Ticket | None:
    """The live ticket, or None (unknown, replaced, closed or expired)."""
    return tickets.load(ticket_hash(ticket)) if ticket else None


def send_request(
    ticket: str | None,
    hcp_response: str | None,
    company_file: str | None,
    major: int | None,
    minor: int | None,
    *,
    db_session: Session,
    tickets: TicketStore,
) -> CallResult:
    """The next qbXML request, or "" (then QBWC asks getLastError)."""
    t = _load(ticket, tickets)
    if t is None:
        return CallResult("")
    if t.state == AWAITING and t.last_request:
        # Asked again before answering (the Guide: "you can simply resend" queries).
        return CallResult(t.last_request)
    if t.state != AUTHENTICATED:
        t.last_error = t.last_error or "This session has nothing more to ask QuickBooks."
        return CallResult("", ticket=t)
    if t.plan is None:
        version = supported_version(major or 0, minor or 0)
        if version is None:
            least = "{}.{}".format(*MIN_VERSION)
            return _fail(
                t,
                f"This QuickBooks supports qbXML {major or 0}.{minor or 0} at "
                f"most; qbslack needs qbXML {least} or newer (QuickBooks 2009 or "
                "later). Please update QuickBooks.",
                code="old_qbxml",
                db_session=db_session,
            )
        company_name = _hcp_company(hcp_response)
        t.plan = sync.new_plan(
            t.marks,
            t.opt_in,
            baseline=not t.baseline_done,
            backfill_days=t.backfill_days,
            version=version,
            company_file=company_file or None,
            company_name=company_name,
            ask_company=company_name is None and not (t.baseline_done and t.company_name),
        )
        t.marks, t.opt_in = {}, []  # in the plan now: not carried through every save
        t.qbxml_version = version
        if company_file and t.file_path != company_file[:1000]:
            t.file_path = company_file[:1000]
            _update_connection(t, db_session=db_session, qb_file_path=t.file_path)
    if t.requests_sent >= MAX_REQUESTS:
        return _fail(
            t,
            f"Stopped after {MAX_REQUESTS} requests in one session; the next poll "
            "goes on from the last saved point.",
            code="runaway",
            db_session=db_session,
        )
    request = sync.next_request(t.plan, seq=t.requests_sent + 1)
    t.last_request = request
    t.requests_sent += 1
    t.state = AWAITING
    return CallResult(request, ticket=t)


def read_answer(
    ticket: str | None,
    response: str | None,
    hresult: str | None,
    message: str | None,
    *,
    tickets: TicketStore,
) -> Answer:
    """receiveResponseXML's ticket and parsed response (no database work yet)."""
    answer = Answer(_load(ticket, tickets), hresult, message)
    t = answer.ticket
    if t is None or t.state != AWAITING or t.plan is None:
        return answer
    if (hresult or "").strip() or (message or "").strip():
        return answer
    try:
        answer.results = parse_response(response or "")
    except QbxmlError as exc:
        answer.unreadable = str(exc)
    return answer


def take_answer(answer: Answer, *, db_session: Session) -> CallResult:
    """Take QuickBooks' answer; progress 0..99 (more), 100 (done) or negative (error).

    In a transaction when answer.needs_transaction (events and watermarks commit together).
    """
    t = answer.ticket
    if t is None:
        return CallResult(-1)
    plan = t.plan
    if t.state != AWAITING or plan is None:
        # An answer we were not waiting for (a resend after we took it): change nothing.
        if t.state == DONE:
            return CallResult(100)
        if t.state == AUTHENTICATED and plan is not None:
            return CallResult(sync.progress(plan))
        t.last_error = t.last_error or "QuickBooks' answer came when none was expected."
        return CallResult(-1, ticket=t)
    if answer.results is None:
        if answer.unreadable is not None:
            _fail(
                t,
                f"QuickBooks' answer could not be read ({answer.unreadable}). The next "
                "poll tries again.",
                code="unreadable",
                db_session=db_session,
            )
            return CallResult(-102, ticket=t)
        code = (answer.hresult or "").strip().lower()
        _fail(
            t,
            quickbooks_error(answer.hresult, answer.message) + ". The next poll tries again.",
            code=code if _HRESULT.fullmatch(code) else "message",
            db_session=db_session,
        )
        return CallResult(-101, ticket=t)
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
        return CallResult(sync.progress(plan))
    t.events_created += outcome.new_events
    done = sync.progress(plan)
    new_ids = list(outcome.new_pending_ids)
    if done < 100:
        t.state = AUTHENTICATED
        return CallResult(done, new_ids, ticket=t)
    new_ids += _finish(t, conn, plan, db_session=db_session)
    return CallResult(100, new_ids, ticket=t)


def _finish(t: Ticket, conn: Connection | None, plan: dict, *, db_session: Session) -> list[int]:
    """Close out a completed cycle: status for App Home, the first sync's notice.

    conn is the connection's row when this is a transaction (always so for a first sync).
    """
    now = utcnow()
    t.state = DONE
    values: dict[str, object] = {"last_poll_at": now}
    company = plan.get("company_name")
    if company:
        values["qb_company_name"] = company[:255]
    errors = sync.plan_errors(plan)
    new_ids: list[int] = []
    if errors:
        # Those entities keep their watermarks and are asked again at the next poll.
        t.last_error = "; ".join(errors)[:2000]
        values.update(status=ConnectionStatus.ERROR, last_error=t.last_error, last_error_at=now)
        metrics.record_poll("partial")
    else:
        values.update(status=ConnectionStatus.OK, last_error=None)
        if plan.get("baseline") and conn is not None:
            values.update(baseline_done=True, backfill_days=None)
            created = connected_notice(
                conn, company or conn.company_name, plan.get("company_file"), db_session=db_session
            )
            new_ids += [c.id for c in created]
        metrics.record_poll("ok")
    _update_connection(t, db_session=db_session, **values)
    return new_ids


def _fail(t: Ticket, text: str, *, code: str, db_session: Session) -> CallResult:
    """End the session with an error, kept on the ticket and on the connection (App Home)."""
    log.warning(
        "QBWC session for %s failed (%s): %s",
        t.username,
        code,
        text,
        extra={"tenant": t.tenant_id, "connection": t.connection_id},
    )
    metrics.record_qbwc_error(code)
    now = utcnow()
    t.state, t.last_error = FAILED, text
    _update_connection(
        t,
        db_session=db_session,
        status=ConnectionStatus.ERROR,
        last_error=text,
        last_error_at=now,
        last_poll_at=now,
    )
    metrics.record_poll("error")
    return CallResult("", ticket=t)


def _update_connection(t: Ticket, *, db_session: Session, **values: object) -> None:
    """Write some of the ticket's connection's columns (one UPDATE, nothing read first)."""
    # The SET clause comes from the parameters' names: one statement, compiled once per set.
    db_session.connection().execute(_UPDATE_CONNECTION, {"b_id": t.connection_id, **values})


def connection_error(
    ticket: str | None,
    hresult: str | None,
    message: str | None,
    *,
    db_session: Session,
    tickets: TicketStore,
) -> CallResult:
    """QBWC could not open QuickBooks: keep the error for App Home and stop ("done")."""
    t = _load(ticket, tickets)
    if t is not None:
        code = (hresult or "").strip().lower()
        _fail(
            t,
            quickbooks_error(hresult, message) + ". The next poll tries again.",
            code=code if _HRESULT.fullmatch(code) else "connection",
            db_session=db_session,
        )
    # We always ask for the open company file (""), so trying another one cannot help.
    return CallResult("done", ticket=t)


def get_last_error(ticket: str | None, *, tickets: TicketStore) -> str:
    """The readable error of this session ("" when there is none)."""
    t = _load(ticket, tickets)
    if t is None:
        return "The session has expired or is unknown; the next poll starts a new one."
    return t.last_error or ""


def close(ticket: str | None, *, tickets: TicketStore) -> str:
    """End the session; the text shows in QBWC's status column."""
    ended = tickets.close(ticket_hash(ticket)) if ticket else None
    if ended is None:
        return "OK"
    if ended.state == IDLE:
        return "Nothing to do: reconnect qbslack in Slack to resume (no change is lost)."
    if ended.state == DONE and not ended.last_error:
        return f"OK: {ended.events_created} change(s) sent to Slack"
    return "Finished with an error: see qbslack's App Home in Slack"


def _hcp_company(hcp: str | None) -> str | None:
    """The company name in strHCPResponse (HostQuery, CompanyQuery, PreferencesQuery)."""
    if not hcp:
        return None
    try:
        return parse_company(parse_response(hcp))
    except QbxmlError:
        return None
