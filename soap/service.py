"""The QBWC SOAP service (spyne): thin methods that call soap.session in a transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from spyne import Application, Fault, ServiceBase, Unicode, const, rpc
from spyne.model.complex import Array
from spyne.model.primitive import Integer32
from spyne.protocol.soap import Soap11

from app.core.logs import log_context, ticket_prefix
from app.core.runtime import Runtime
from jobs.outbox import schedule_events as schedule
from soap import session
from soap.client_versions import ClientVersions
from soap.logins import VerifiedLogins
from soap.tickets import TicketStore

log = logging.getLogger(__name__)

NS = "http://developer.intuit.com/"
try:
    SERVER_VERSION = f"qbslack {metadata.version('qbslack')}"
except metadata.PackageNotFoundError:  # running from a bare checkout
    SERVER_VERSION = "qbslack"
# The WSDL's ints are xs:int and required (minOccurs=1); strings stay optional.
Int = Integer32(min_occurs=1, nillable=False)
StringArray = Array(Unicode, type_name="ArrayOfString")
# soap.http parses every envelope with the hardened parser first and leaves the tree here.
PARSED_ENVELOPE = "qbslack.soap_envelope"


class PreParsedSoap11(Soap11):
    """SOAP 1.1 in-protocol that reuses soap.http's parse of the envelope (no second parse)."""

    def create_in_document(self, ctx: Any, charset: str | None = None) -> None:
        env = getattr(ctx.transport, "req_env", None) or {}
        envelope = env.get(PARSED_ENVELOPE)
        if envelope is None or ctx.transport.get_request_method() != "POST":
            super().create_in_document(ctx, charset)
            return
        # QBWC speaks document/literal: no SOAP-encoded multi-refs, so no ids to resolve.
        ctx.in_document = (envelope, {})


@dataclass(frozen=True)
class Qbwc:
    """What the QBWC service works with: the runtime and the stores its sessions share."""

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


def _qbwc(ctx: Any) -> Qbwc:
    qbwc: Qbwc = ctx.app.qbslack
    return qbwc


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


def _run(
    ctx: Any,
    name: str,
    work: Callable[[Any], Any],
    *,
    ticket: str | None = None,
    atomic: bool = True,
) -> Any:
    """Run work(db_session), then hand its new events to delivery and store its ticket.

    atomic: in one transaction; else every statement commits on its own (a call that writes
    one row, or none, spares the BEGIN and COMMIT round trips).
    """
    qbwc = _qbwc(ctx)
    runtime = qbwc.runtime
    with _guarded(name, ticket):
        with runtime.transaction() if atomic else runtime.autocommit() as db:
            result = work(db)
        if not isinstance(result, session.CallResult):
            return result
        if result.new_event_ids:
            schedule_events(runtime, result.new_event_ids)
        if result.ticket is not None:  # after commit: a ticket never runs ahead of the data
            store = qbwc.tickets
            if result.opens:
                store.open(result.ticket)
            else:
                store.save(result.ticket)
        return result.value


def schedule_events(runtime: Runtime, event_ids: list[int]) -> None:
    """Hand committed events to delivery; a failure here loses nothing (the sweeper retries)."""
    try:
        schedule(runtime, event_ids)
    except Exception:
        log.exception("could not enqueue %d events; the sweeper will pick them up", len(event_ids))


def _client_key(ctx: Any) -> str:
    """Who is calling, as well as HTTP tells: the first forwarded hop, or the peer."""
    env = getattr(ctx.transport, "req_env", None) or {}
    forwarded = str(env.get("HTTP_X_FORWARDED_FOR", "")).split(",")[0].strip()
    addr = forwarded or str(env.get("REMOTE_ADDR", ""))
    agent = str(env.get("HTTP_USER_AGENT", ""))[:200]
    return f"{addr}:{agent}"


class QBWebConnectorSvc(ServiceBase):
    """The operations of Intuit's QBWebConnectorSvc WSDL (names fixed by it)."""

    @rpc(Unicode, _returns=Unicode)
    def serverVersion(ctx, strVersion):  # noqa: N802,N803,N805
        return SERVER_VERSION

    @rpc(Unicode, _returns=Unicode)
    def clientVersion(ctx, strVersion):  # noqa: N802,N803,N805
        if strVersion:
            _qbwc(ctx).versions.remember(_client_key(ctx), strVersion)
        return session.client_version_answer(strVersion)

    @rpc(Unicode, Unicode, _returns=StringArray)
    def authenticate(ctx, strUserName, strPassword):  # noqa: N802,N803,N805
        qbwc = _qbwc(ctx)
        version = qbwc.versions.recall(_client_key(ctx))
        logins = qbwc.logins
        user, password = strUserName or "", strPassword or ""
        # A repeat poll of a recently verified login reads one row and writes none.
        answer = _run(
            ctx,
            "authenticate",
            lambda db: session.authenticate_known(
                user, password, db_session=db, logins=logins, client_version=version
            ),
            atomic=False,
        )
        if answer is not None:
            return answer
        return _run(
            ctx,
            "authenticate",
            lambda db: session.authenticate(
                user, password, db_session=db, client_version=version, logins=logins
            ),
        )

    @rpc(Unicode, Unicode, Unicode, Unicode, Int, Int, _returns=Unicode)
    def sendRequestXML(  # noqa: N802
        ctx,
        ticket,
        strHCPResponse,
        strCompanyFileName,
        qbXMLCountry,  # noqa: N803,N805
        qbXMLMajorVers,
        qbXMLMinorVers,  # noqa: N803
    ):
        tickets = _qbwc(ctx).tickets
        # The plan comes from the ticket; at most the connection's row is written: no transaction.
        return _run(
            ctx,
            "sendRequestXML",
            lambda db: session.send_request(
                ticket,
                strHCPResponse,
                strCompanyFileName,
                qbXMLMajorVers,
                qbXMLMinorVers,
                db_session=db,
                tickets=tickets,
            ),
            ticket=ticket,
            atomic=False,
        )

    @rpc(Unicode, Unicode, Unicode, Unicode, _returns=Int)
    def receiveResponseXML(ctx, ticket, response, hresult, message):  # noqa: N802,N805
        tickets = _qbwc(ctx).tickets
        with _guarded("receiveResponseXML", ticket):
            answer = session.read_answer(ticket, response, hresult, message, tickets=tickets)
        # Events and watermarks commit together; a page with neither updates one row.
        return _run(
            ctx,
            "receiveResponseXML",
            lambda db: session.take_answer(answer, db_session=db),
            ticket=ticket,
            atomic=answer.needs_transaction,
        )

    @rpc(Unicode, Unicode, Unicode, _returns=Unicode)
    def connectionError(ctx, ticket, hresult, message):  # noqa: N802,N805
        tickets = _qbwc(ctx).tickets
        return _run(
            ctx,
            "connectionError",
            lambda db: session.connection_error(
                ticket, hresult, message, db_session=db, tickets=tickets
            ),
            ticket=ticket,
            atomic=False,
        )

    @rpc(Unicode, _returns=Unicode)
    def getLastError(ctx, ticket):  # noqa: N802,N805
        tickets = _qbwc(ctx).tickets
        with _guarded("getLastError", ticket):
            return session.get_last_error(ticket, tickets=tickets)

    @rpc(Unicode, _returns=Unicode)
    def closeConnection(ctx, ticket):  # noqa: N802,N805
        tickets = _qbwc(ctx).tickets
        with _guarded("closeConnection", ticket):
            return session.close(ticket, tickets=tickets)

    @rpc(Unicode, Unicode, _returns=Unicode)
    def getInteractiveURL(ctx, wcTicket, sessionID):  # noqa: N802,N803,N805
        return ""  # qbslack never asks for interactive mode

    @rpc(Unicode, _returns=Unicode)
    def interactiveDone(ctx, wcTicket):  # noqa: N802,N803,N805
        return "Done"

    @rpc(Unicode, Unicode, _returns=Unicode)
    def interactiveRejected(ctx, wcTicket, reason):  # noqa: N802,N803,N805
        return ""  # nothing was asked, so nothing to do about a refusal


def build_application(qbwc: Qbwc) -> Application:
    """The spyne Application of one service (carried on the app, never in a global)."""
    # spyne runs a full gc.collect() at most once a second per process, to close uploaded
    # files early; we take no files, and in a process holding Flask, Bolt and SQLAlchemy
    # that collection cost a seventh of the CPU under load. Python's own GC still runs.
    const.MIN_GC_INTERVAL = float("inf")
    application = Application(
        [QBWebConnectorSvc],
        tns=NS,
        name="QBWebConnectorSvc",
        # Bodies are checked by soap.http first; these keep spyne's own parser hardened too.
        in_protocol=PreParsedSoap11(
            validator=None,
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            dtd_validation=False,
            huge_tree=False,
        ),
        out_protocol=Soap11(),
    )
    application.qbslack = qbwc
    return application
