"""The per-ticket QBWC state machine: what each SOAP call does and which call comes next."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from app import metrics
from app.db import utcnow
from soap import ingest, sync
from soap.auth import check_credentials
from soap.models import QbwcSession
from soap.qbxml.requests import MIN_VERSION, supported_version
from soap.qbxml.responses import parse_company, parse_response
from soap.qbxml.safe_xml import QbxmlError
from tenants.models import (
    CONNECTION_ERROR,
    CONNECTION_OK,
    TENANT_DISCONNECTED,
    Connection,
)
from tenants.routes import routes_opt_in

log = logging.getLogger(__name__)

TICKET_TTL = dt.timedelta(minutes=30)
MAX_REQUESTS = 500  # a runaway session (e.g. a broken iterator) ends with an error
MIN_QBWC = (2, 1, 0, 30)  # older Web Connectors lack fixes for long responses

# States: which call is expected next.
AUTHENTICATED = "authenticated"  # expect sendRequestXML
AWAITING = "awaiting_response"  # expect receiveResponseXML
DONE = "done"  # returned 100: expect closeConnection
FAILED = "failed"  # returned a negative number or "": expect getLastError, closeConnection
CLOSED = "closed"

HRESULT_TEXT = {
    "0x80040408": "QuickBooks could not be started (is it installed and licensed?)",
    "0x80040410": "the QuickBooks company file is open in single-user mode by someone else",
    "0x80040416": "QuickBooks is open with a different company file than this connection's",
    "0x80040417": "no company file is open in QuickBooks and none was specified",
    "0x80040418": "QuickBooks cannot be reached: the company file is not open",
    "0x80040420": "QuickBooks refused access: allow qbslack in Edit > Preferences > "
    "Integrated Applications",
    "0x80040422": "QuickBooks needs an update to answer this request",
    "0x80040400": "QuickBooks could not read our request (malformed qbXML)",
    "0x8004041a": "qbslack is not authorised in QuickBooks: approve the certificate "
    "for this application",
}


@dataclass
class CallResult:
    """The answer to a SOAP call plus the events to hand to delivery after commit."""

    value: object
    new_event_ids: list[int] = field(default_factory=list)


def ticket_hash(ticket: str) -> str:
    """The stored form of a ticket (a sha256: a database leak yields no live tickets)."""
    return hashlib.sha256((ticket or "").encode()).hexdigest()


def client_version_answer(version: str | None) -> str:
    """"" for a supported QBWC, or "W:..." asking an old one to upgrade."""
    try:
        parts = tuple(int(p) for p in (version or "").split("."))
    except ValueError:
        return ""
    if parts and parts < MIN_QBWC:
        return (
            f"W:This QuickBooks Web Connector ({version}) is older than 2.1.0.30; "
            "please upgrade it "
            "from Intuit's site for reliable syncing with qbslack."
        )
    return ""


def authenticate(
    username: str, password: str, *, db_session: Session, now: dt.datetime | None = None
) -> list[str]:
    """[ticket, ""] to use the open company file, [ticket, "none"], or ["", "nvu"]."""
    now = now or utcnow()
    outcome = check_credentials(username, password, db_session=db_session, now=now)
    if not outcome.ok or outcome.connection is None:
        metrics.record_poll("nvu")
        return ["", "nvu"]
    conn = outcome.connection
    # A new authenticate ends any earlier session of this connection: QBWC restarted.
    db_session.execute(
        update(QbwcSession)
        .where(QbwcSession.connection_id == conn.id, QbwcSession.state != CLOSED)
        .values(state=CLOSED, closed_at=now)
    )
    ticket = secrets.token_urlsafe(32)
    db_session.add(
        QbwcSession(
            ticket_hash=ticket_hash(ticket),
            tenant_id=conn.tenant_id,
            connection_id=conn.id,
            state=AUTHENTICATED,
            created_at=now,
            last_call_at=now,
            expires_at=now + TICKET_TTL,
        )
    )
    db_session.flush()
    if conn.tenant.status == TENANT_DISCONNECTED:
        # Slack is unreachable for this workspace: nothing can be posted, and the
        # watermarks keep our place until it reconnects.
        metrics.record_poll("none")
        return [ticket, "none"]
    return [ticket, ""]


def load(
    ticket: str, *, db_session: Session, now: dt.datetime | None = None
) -> QbwcSession | None:
    """The live session of a ticket (locked for this call), or None."""
    now = now or utcnow()
    if not ticket:
        return None
    row = db_session.execute(
        select(QbwcSession, Connection)
        .join(Connection, Connection.id == QbwcSession.connection_id)
        .where(QbwcSession.ticket_hash == ticket_hash(ticket))
        .with_for_update(of=QbwcSession)
    ).first()
    if row is None:
        return None
    sess = row[0]
    if sess.state == CLOSED or sess.expires_at <= now:
        return None
    # Refresh the sliding expiry only when it matters, to spare a write per call.
    if sess.expires_at - now < TICKET_TTL - dt.timedelta(minutes=1):
        sess.expires_at = now + TICKET_TTL
    sess.last_call_at = now
    return sess


def send_request(
    ticket: str, hcp_response: str | None, company_file: str | None, major: int | None,
    minor: int | None, *, db_session: Session,
) -> CallResult:
    """The next qbXML request, or "" (then QBWC asks getLastError)."""
    sess = load(ticket, db_session=db_session)
    if sess is None:
        return CallResult("")
    if sess.state == AWAITING and sess.last_request:
        # QBWC asked again before answering: send the same request, nothing is lost.
        return CallResult(sess.last_request)
    if sess.state != AUTHENTICATED:
        sess.last_error = sess.last_error or "This session is finished; QBWC will close it."
        return CallResult("")
    conn = db_session.get(Connection, sess.connection_id)
    assert conn is not None
    if sess.plan is None:
        version = supported_version(major or 0, minor or 0)
        if version is None:
            return _fail(sess, conn, "This QuickBooks speaks qbXML {}.{}; qbslack needs qbXML "
                         "{}.{} or newer (QuickBooks 2009 or later). Please update QuickBooks."
                         .format(major, minor, *MIN_VERSION), code="old_qbxml")
        company_name = _hcp_company(hcp_response)
        sess.qbxml_version = version
        sess.plan = sync.new_plan(
            conn, version=version, opt_in=routes_opt_in(conn.tenant_id, conn.id,
                                                         db_session=db_session),
            company_file=(company_file or None), company_name=company_name,
            db_session=db_session,
        )
        if company_file:
            conn.qb_file_path = company_file[:1000]
    if sess.requests_sent >= MAX_REQUESTS:
        return _fail(sess, conn, f"Stopped after {MAX_REQUESTS} requests in one session; "
                     "the next poll continues from the last saved point.", code="runaway")
    plan = sess.plan
    request = sync.next_request(plan)
    flag_modified(sess, "plan")
    sess.last_request = request
    sess.requests_sent += 1
    sess.state = AWAITING
    return CallResult(request)


def receive_response(
    ticket: str, response: str | None, hresult: str | None, message: str | None,
    *, db_session: Session,
) -> CallResult:
    """Take QuickBooks' answer; progress 0..99 (more), 100 (done) or negative (error)."""
    sess = load(ticket, db_session=db_session)
    if sess is None:
        return CallResult(-1)
    conn = db_session.get(Connection, sess.connection_id)
    assert conn is not None
    if sess.state != AWAITING or sess.plan is None:
        # A repeated answer after we already took it: acknowledge, change nothing.
        return CallResult(100 if sess.state == DONE else (-1 if sess.state == FAILED else 0))
    if hresult or message:
        code = (hresult or "").strip().lower()
        words = HRESULT_TEXT.get(code, "QuickBooks reported an error")
        metrics.record_qbwc_error(code or "message")
        _fail(sess, conn, f"{words} ({hresult or 'no code'}): {(message or '').strip()[:300]}",
              code=code or "message")
        return CallResult(-101)
    try:
        results = parse_response(response or "")
    except QbxmlError as exc:
        metrics.record_qbwc_error("unreadable")
        _fail(sess, conn, f"QuickBooks' answer could not be read: {exc}", code="unreadable")
        return CallResult(-102)
    plan = sess.plan
    outcome = sync.apply_results(plan, results, conn, db_session=db_session)
    if outcome.company_name and not plan.get("company_name"):
        plan["company_name"] = outcome.company_name
    sess.events_created += outcome.new_events
    flag_modified(sess, "plan")
    done = sync.progress(plan)
    new_ids = list(outcome.new_pending_ids)
    if done < 100:
        sess.state = AUTHENTICATED
        return CallResult(done, new_ids)
    new_ids += _finish(sess, conn, plan, db_session=db_session)
    return CallResult(100, new_ids)


def _finish(sess: QbwcSession, conn: Connection, plan: dict, *, db_session: Session) -> list[int]:
    """Close out a completed cycle: status for App Home, baseline notice."""
    now = utcnow()
    sess.state = DONE
    conn.last_poll_at = now
    errors = sync.plan_errors(plan)
    new_ids: list[int] = []
    company = plan.get("company_name")
    if company:
        conn.qb_company_name = company[:255]
    if errors:
        conn.status, conn.last_error, conn.last_error_at = CONNECTION_ERROR, "; ".join(errors), now
        sess.last_error = conn.last_error
        metrics.record_poll("partial")
        return new_ids
    conn.status, conn.last_error = CONNECTION_OK, None
    if plan.get("baseline"):
        conn.baseline_done = True
        conn.backfill_days = None
        created = ingest.connected_notice(
            conn, company or conn.company_name, plan.get("company_file"), db_session=db_session
        )
        new_ids += [i for i, _ in created]
    metrics.record_poll("ok")
    return new_ids


def _fail(sess: QbwcSession, conn: Connection, text: str, *, code: str) -> CallResult:
    log.warning("QBWC session for %s failed (%s): %s", conn.qbwc_username, code, text,
                extra={"tenant": conn.tenant_id, "connection": conn.id,
                       "ticket": sess.ticket_hash[:8]})
    sess.state = FAILED
    sess.last_error = text
    conn.status, conn.last_error, conn.last_error_at = CONNECTION_ERROR, text, utcnow()
    conn.last_poll_at = utcnow()
    metrics.record_poll("error")
    return CallResult("")


def connection_error(ticket: str, hresult: str | None, message: str | None,
                     *, db_session: Session) -> str:
    """QBWC could not reach QuickBooks: store the error for App Home; we are done."""
    sess = load(ticket, db_session=db_session)
    if sess is not None:
        conn = db_session.get(Connection, sess.connection_id)
        assert conn is not None
        code = (hresult or "").strip().lower()
        words = HRESULT_TEXT.get(code, "QuickBooks could not be reached")
        metrics.record_qbwc_error(code or "connection")
        _fail(sess, conn, f"{words} ({hresult or 'no code'}): {(message or '').strip()[:300]}",
              code=code or "connection")
    return "done"


def get_last_error(ticket: str, *, db_session: Session) -> str:
    """The readable error of this session ("" when none)."""
    sess = load(ticket, db_session=db_session)
    if sess is None:
        return "The session has expired or is unknown; it will restart at the next poll."
    return sess.last_error or ""


def close(ticket: str, *, db_session: Session) -> str:
    """End the session; the message shows in QBWC's status column."""
    sess = load(ticket, db_session=db_session)
    if sess is None:
        return "OK"
    state, sess.state, sess.closed_at = sess.state, CLOSED, utcnow()
    if state == DONE:
        return f"OK: {sess.events_created} change(s) sent to Slack"
    return "Finished with an error: see qbslack's App Home in Slack"


def _hcp_company(hcp: str | None) -> str | None:
    if not hcp:
        return None
    try:
        return parse_company(parse_response(hcp))
    except QbxmlError:
        return None
