"""The per-ticket QBWC state machine: what each SOAP call does and which call comes next."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import null, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from app import metrics
from app.db import dialect_insert, utcnow
from soap import sync
from soap.auth import check_credentials
from soap.ingest import connected_notice
from soap.logins import VerifiedLogins
from soap.models import QbwcSession
from soap.qbxml.requests import MIN_VERSION, supported_version
from soap.qbxml.responses import parse_company, parse_response
from soap.qbxml.safe_xml import QbxmlError
from tenants.models import CONNECTION_ERROR, CONNECTION_OK, TENANT_DISCONNECTED, Connection

log = logging.getLogger(__name__)

TICKET_TTL = dt.timedelta(minutes=30)  # sliding: the session's calls keep extending it
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
# closeConnection sets closed_at and leaves the state as it ended.

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


@dataclass
class CallResult:
    """The answer to a SOAP call plus the events to hand to delivery after commit."""

    value: object
    new_event_ids: list[int] = field(default_factory=list)


def ticket_hash(ticket: str) -> str:
    """The stored form of a ticket (a sha256: a database leak yields no live tickets)."""
    return hashlib.sha256((ticket or "").encode()).hexdigest()


def client_version_answer(version: str | None) -> str:
    """"" for a supported QBWC, or "W:..." asking an older one to upgrade."""
    try:
        parts = tuple(int(p) for p in (version or "").strip().split("."))
    except ValueError:
        return ""  # unreadable: let it try rather than block a working connector
    if parts < MIN_QBWC:
        return (f"W:This QuickBooks Web Connector ({version}) is older than 2.0, the version "
                "qbslack is built for. Please install the current Web Connector from Intuit.")
    return ""


def quickbooks_error(hresult: str | None, message: str | None) -> str:
    """A readable text for an hresult and message that QBWC passed on from QuickBooks."""
    code = (hresult or "").strip().lower()
    words = HRESULT_TEXT.get(code, "QuickBooks reported an error")
    said = (message or "").strip()[:300]
    text = f"{words} ({hresult.strip()})" if hresult and hresult.strip() else words
    return f"{text}: {said}" if said else text


def authenticate(
    username: str, password: str, *, db_session: Session, now: dt.datetime | None = None,
    client_version: str | None = None, logins: VerifiedLogins | None = None,
) -> list[str]:
    """[ticket, ""] to use the open company file, [ticket, "none"], or ["", "nvu"]."""
    now = now or utcnow()
    outcome = check_credentials(username, password, db_session=db_session, now=now,
                                logins=logins)
    if not outcome.ok or outcome.connection is None:
        metrics.record_poll("nvu")
        return ["", "nvu"]
    conn = outcome.connection
    if client_version and conn.qbwc_version != client_version[:32]:
        conn.qbwc_version = client_version[:32]
    ticket = secrets.token_urlsafe(32)
    # A workspace whose Slack token was revoked cannot be posted to: nothing to do now, and
    # the watermarks keep our place in QuickBooks until it reconnects.
    idle = conn.tenant.status == TENANT_DISCONNECTED
    _open_session(conn, ticket, IDLE if idle else AUTHENTICATED, now, db_session=db_session)
    if idle:
        conn.last_poll_at = now
        metrics.record_poll("none")
        return [ticket, "none"]
    return [ticket, ""]


def _open_session(
    conn: Connection, ticket: str, state: str, now: dt.datetime, *, db_session: Session
) -> None:
    """Replace the connection's session row with a fresh one for this ticket (one upsert).

    QBWC authenticates again only when it restarted the session: the old one is over, and
    the new one starts from the watermarks; its ticket is refused from now on.
    """
    values = {
        "ticket_hash": ticket_hash(ticket), "tenant_id": conn.tenant_id,
        "connection_id": conn.id, "state": state, "qbxml_version": None, "plan": null(),
        "last_request": None, "requests_sent": 0, "events_created": 0, "last_error": None,
        "created_at": now, "last_call_at": now, "expires_at": now + TICKET_TTL,
        "closed_at": None,
    }
    insert = dialect_insert(db_session)(QbwcSession).values(values)
    db_session.execute(insert.on_conflict_do_update(
        index_elements=[QbwcSession.connection_id],
        set_={key: insert.excluded[key] for key in values if key != "connection_id"},
    ))


def _load(
    ticket: str | None, *, db_session: Session, now: dt.datetime | None = None
) -> tuple[QbwcSession, Connection] | None:
    """The live session of a ticket and its connection (locked for this call), or None."""
    if not ticket:
        return None
    now = now or utcnow()
    row = db_session.execute(
        select(QbwcSession, Connection)
        .join(Connection, Connection.id == QbwcSession.connection_id)
        .where(QbwcSession.ticket_hash == ticket_hash(ticket))
        # The connection row is the lock: authenticate takes it too, before it replaces the
        # session row, so both lock in the same order and cannot deadlock; and with one
        # session row per connection it serialises every call about that session.
        .with_for_update(of=Connection)
    ).first()
    if row is None:
        return None
    sess, conn = row
    if sess.closed_at is not None or sess.expires_at <= now:
        return None  # refused without touching anything
    # Slide the expiry (and note the call) once a minute: spares a write on most calls.
    if now - sess.last_call_at >= dt.timedelta(minutes=1):
        sess.expires_at = now + TICKET_TTL
        sess.last_call_at = now
    return sess, conn


def send_request(
    ticket: str | None, hcp_response: str | None, company_file: str | None,
    major: int | None, minor: int | None, *, db_session: Session,
) -> CallResult:
    """The next qbXML request, or "" (then QBWC asks getLastError)."""
    found = _load(ticket, db_session=db_session)
    if found is None:
        return CallResult("")
    sess, conn = found
    if sess.state == AWAITING and sess.last_request:
        # Asked again before answering (the Guide: "you can simply resend" queries).
        return CallResult(sess.last_request)
    if sess.state != AUTHENTICATED:
        sess.last_error = sess.last_error or "This session has nothing more to ask QuickBooks."
        return CallResult("")
    if sess.plan is None:
        version = supported_version(major or 0, minor or 0)
        if version is None:
            least = "{}.{}".format(*MIN_VERSION)
            return _fail(sess, conn, f"This QuickBooks supports qbXML {major or 0}."
                         f"{minor or 0} at most; qbslack needs qbXML {least} or newer "
                         "(QuickBooks 2009 or later). Please update QuickBooks.",
                         code="old_qbxml")
        company_name = _hcp_company(hcp_response)
        with db_session.no_autoflush:  # one UPDATE of the session row at commit, not two
            plan = sync.new_plan(
                conn, version=version,
                company_file=company_file or None, company_name=company_name,
                ask_company=company_name is None and not (conn.baseline_done
                                                          and conn.qb_company_name),
                db_session=db_session,
            )
        sess.qbxml_version, sess.plan = version, plan
        if company_file and conn.qb_file_path != company_file[:1000]:
            conn.qb_file_path = company_file[:1000]
    if sess.requests_sent >= MAX_REQUESTS:
        return _fail(sess, conn, f"Stopped after {MAX_REQUESTS} requests in one session; the "
                     "next poll goes on from the last saved point.", code="runaway")
    request = sync.next_request(sess.plan, seq=sess.requests_sent + 1)
    flag_modified(sess, "plan")
    sess.last_request = request
    sess.requests_sent += 1
    sess.state = AWAITING
    return CallResult(request)


def receive_response(
    ticket: str | None, response: str | None, hresult: str | None, message: str | None,
    *, db_session: Session,
) -> CallResult:
    """Take QuickBooks' answer; progress 0..99 (more), 100 (done) or negative (error)."""
    found = _load(ticket, db_session=db_session)
    if found is None:
        return CallResult(-1)
    sess, conn = found
    plan = sess.plan
    if sess.state != AWAITING or plan is None:
        # An answer we were not waiting for (a resend after we took it): change nothing.
        if sess.state == DONE:
            return CallResult(100)
        if sess.state == AUTHENTICATED and plan is not None:
            return CallResult(sync.progress(plan))
        sess.last_error = sess.last_error or "QuickBooks' answer came when none was expected."
        return CallResult(-1)
    if (hresult or "").strip() or (message or "").strip():
        code = (hresult or "").strip().lower()
        _fail(sess, conn, quickbooks_error(hresult, message) + ". The next poll tries again.",
              code=code if _HRESULT.fullmatch(code) else "message")
        return CallResult(-101)
    try:
        results = parse_response(response or "")
    except QbxmlError as exc:
        _fail(sess, conn, f"QuickBooks' answer could not be read ({exc}). The next poll tries "
              "again.", code="unreadable")
        return CallResult(-102)
    outcome = sync.apply_results(plan, results, conn, seq=sess.requests_sent,
                                 db_session=db_session)
    flag_modified(sess, "plan")
    if outcome.stale:
        # An old answer resent: ignored; QBWC asks for the request again and gets it resent.
        log.warning("QBWC sent a stale answer for %s; ignored", conn.qbwc_username,
                    extra={"tenant": conn.tenant_id, "connection": conn.id})
        return CallResult(sync.progress(plan))
    sess.events_created += outcome.new_events
    done = sync.progress(plan)
    new_ids = list(outcome.new_pending_ids)
    if done < 100:
        sess.state = AUTHENTICATED
        return CallResult(done, new_ids)
    new_ids += _finish(sess, conn, plan, db_session=db_session)
    return CallResult(100, new_ids)


def _finish(sess: QbwcSession, conn: Connection, plan: dict, *, db_session: Session) -> list[int]:
    """Close out a completed cycle: status for App Home, the first sync's notice."""
    now = utcnow()
    sess.state = DONE
    conn.last_poll_at = now
    company = plan.get("company_name")
    if company:
        conn.qb_company_name = company[:255]
    errors = sync.plan_errors(plan)
    if errors:
        # Those entities keep their watermarks and are asked again at the next poll.
        sess.last_error = "; ".join(errors)[:2000]
        conn.status, conn.last_error, conn.last_error_at = CONNECTION_ERROR, sess.last_error, now
        metrics.record_poll("partial")
        return []
    conn.status, conn.last_error = CONNECTION_OK, None
    new_ids: list[int] = []
    if plan.get("baseline"):
        conn.baseline_done = True
        conn.backfill_days = None
        created = connected_notice(conn, company or conn.company_name, plan.get("company_file"),
                                   db_session=db_session)
        new_ids += [c.id for c in created]
    metrics.record_poll("ok")
    return new_ids


def _fail(sess: QbwcSession, conn: Connection, text: str, *, code: str) -> CallResult:
    log.warning("QBWC session for %s failed (%s): %s", conn.qbwc_username, code, text,
                extra={"tenant": conn.tenant_id, "connection": conn.id})
    metrics.record_qbwc_error(code)
    now = utcnow()
    sess.state, sess.last_error = FAILED, text
    conn.status, conn.last_error, conn.last_error_at = CONNECTION_ERROR, text, now
    conn.last_poll_at = now
    metrics.record_poll("error")
    return CallResult("")


def connection_error(
    ticket: str | None, hresult: str | None, message: str | None, *, db_session: Session
) -> str:
    """QBWC could not open QuickBooks: keep the error for App Home and stop ("done")."""
    found = _load(ticket, db_session=db_session)
    if found is not None:
        sess, conn = found
        code = (hresult or "").strip().lower()
        _fail(sess, conn, quickbooks_error(hresult, message) + ". The next poll tries again.",
              code=code if _HRESULT.fullmatch(code) else "connection")
    # We always ask for the open company file (""), so trying another one cannot help.
    return "done"


def get_last_error(ticket: str | None, *, db_session: Session) -> str:
    """The readable error of this session ("" when there is none)."""
    found = _load(ticket, db_session=db_session)
    if found is None:
        return "The session has expired or is unknown; the next poll starts a new one."
    return found[0].last_error or ""


def close(ticket: str | None, *, db_session: Session) -> str:
    """End the session (one UPDATE); the text shows in QBWC's status column."""
    if not ticket:
        return "OK"
    now = utcnow()
    ended = db_session.execute(
        update(QbwcSession)
        .where(QbwcSession.ticket_hash == ticket_hash(ticket), QbwcSession.closed_at.is_(None),
               QbwcSession.expires_at > now)
        .values(closed_at=now)
        .returning(QbwcSession.state, QbwcSession.events_created, QbwcSession.last_error),
        execution_options={"synchronize_session": False},
    ).first()
    if ended is None:
        return "OK"
    state, events_created, last_error = ended
    if state == IDLE:
        return "Nothing to do: reconnect qbslack in Slack to resume (no change is lost)."
    if state == DONE and not last_error:
        return f"OK: {events_created} change(s) sent to Slack"
    return "Finished with an error: see qbslack's App Home in Slack"


def _hcp_company(hcp: str | None) -> str | None:
    """The company name in strHCPResponse (HostQuery, CompanyQuery, PreferencesQuery)."""
    if not hcp:
        return None
    try:
        return parse_company(parse_response(hcp))
    except QbxmlError:
        return None
