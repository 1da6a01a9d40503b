"""The QBWC SOAP service (spyne): thin methods that call soap.session in a transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from spyne import Application, Fault, Integer, ServiceBase, Unicode, rpc
from spyne.model.complex import Array
from spyne.protocol.soap import Soap11

from app.runtime import Runtime
from soap import session

log = logging.getLogger(__name__)

NS = "http://developer.intuit.com/"
SERVER_VERSION = "qbslack 0.1.0"
T = TypeVar("T")


def _run(ctx: Any, name: str, work: Callable[[Any], session.CallResult | T]) -> Any:
    """Run work(db_session) in a transaction; hand new events to delivery after commit."""
    runtime: Runtime = ctx.app.qbslack_runtime
    try:
        with runtime.transaction() as db:
            result = work(db)
    except Fault:
        raise
    except Exception:
        # Logged here with the traceback; the client only learns that the server failed.
        log.exception("QBWC %s failed", name)
        raise Fault(faultcode="Server", faultstring="qbslack could not process this call") from None
    if isinstance(result, session.CallResult):
        if result.new_event_ids:
            schedule_events(runtime, result.new_event_ids)
        return result.value
    return result


def schedule_events(runtime: Runtime, event_ids: list[int]) -> None:
    """Hand committed events to delivery; a failure here loses nothing (the sweeper retries)."""
    try:
        from jobs.delivery import schedule_events as schedule
    except ImportError:  # delivery not installed: events wait in the outbox
        return
    try:
        schedule(runtime, event_ids)
    except Exception:
        log.exception("could not enqueue %d events; the sweeper will pick them up",
                      len(event_ids))


class QBWebConnectorSvc(ServiceBase):
    """The operations of Intuit's QBWebConnectorSvc WSDL."""

    @rpc(Unicode, _returns=Unicode, _body_style="wrapped")
    def serverVersion(ctx, strVersion):  # noqa: N802,N803,N805 - names fixed by the WSDL
        return SERVER_VERSION

    @rpc(Unicode, _returns=Unicode)
    def clientVersion(ctx, strVersion):  # noqa: N802,N803,N805
        return session.client_version_answer(strVersion)

    @rpc(Unicode, Unicode, _returns=Array(Unicode, type_name="ArrayOfString"))
    def authenticate(ctx, strUserName, strPassword):  # noqa: N802,N803,N805
        return _run(ctx, "authenticate", lambda db: session.authenticate(
            strUserName or "", strPassword or "", db_session=db))

    @rpc(Unicode, Unicode, Unicode, Unicode, Integer, Integer, _returns=Unicode)
    def sendRequestXML(  # noqa: N802
        ctx, ticket, strHCPResponse, strCompanyFileName, qbXMLCountry,  # noqa: N803,N805
        qbXMLMajorVers, qbXMLMinorVers,  # noqa: N803
    ):
        return _run(ctx, "sendRequestXML", lambda db: session.send_request(
            ticket or "", strHCPResponse, strCompanyFileName, qbXMLMajorVers, qbXMLMinorVers,
            db_session=db))

    @rpc(Unicode, Unicode, Unicode, Unicode, _returns=Integer)
    def receiveResponseXML(ctx, ticket, response, hresult, message):  # noqa: N802,N805
        return _run(ctx, "receiveResponseXML", lambda db: session.receive_response(
            ticket or "", response, hresult, message, db_session=db))

    @rpc(Unicode, Unicode, Unicode, _returns=Unicode)
    def connectionError(ctx, ticket, hresult, message):  # noqa: N802,N805
        return _run(ctx, "connectionError", lambda db: session.connection_error(
            ticket or "", hresult, message, db_session=db))

    @rpc(Unicode, _returns=Unicode)
    def getLastError(ctx, ticket):  # noqa: N802,N805
        return _run(ctx, "getLastError", lambda db: session.get_last_error(
            ticket or "", db_session=db))

    @rpc(Unicode, _returns=Unicode)
    def closeConnection(ctx, ticket):  # noqa: N802,N805
        return _run(ctx, "closeConnection", lambda db: session.close(ticket or "",
                                                                      db_session=db))

    @rpc(Unicode, Unicode, _returns=Unicode)
    def getInteractiveURL(ctx, wcTicket, sessionID):  # noqa: N802,N803,N805
        return ""  # qbslack never asks for interactive mode

    @rpc(Unicode, _returns=Unicode)
    def interactiveDone(ctx, wcTicket):  # noqa: N802,N803,N805
        return "Done"

    @rpc(Unicode, Unicode, _returns=Unicode)
    def interactiveRejected(ctx, wcTicket, reason):  # noqa: N802,N803,N805
        return "Interactive mode is not used by qbslack."


def build_application(runtime: Runtime) -> Application:
    """The spyne Application for one runtime (carried on the app, not in a global)."""
    application = Application(
        [QBWebConnectorSvc],
        tns=NS,
        name="QBWebConnectorSvc",
        in_protocol=Soap11(validator=None),
        out_protocol=Soap11(),
    )
    application.qbslack_runtime = runtime
    return application
