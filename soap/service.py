"""The QBWC SOAP service (spyne): the WSDL's operations, each calling one of soap.calls."""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from typing import Any

from spyne import Application, ServiceBase, Unicode, const
from spyne import rpc as spyne_rpc
from spyne.model.complex import Array
from spyne.model.primitive import Integer32
from spyne.protocol.soap import Soap11

from soap import calls
from soap.calls import Qbwc

NS = "http://developer.intuit.com/"
try:
    SERVER_VERSION = f"qbslack {metadata.version('qbslack')}"
except metadata.PackageNotFoundError:  # running from a bare checkout
    SERVER_VERSION = "qbslack"
# The WSDL's ints are xs:int and required (minOccurs=1); strings stay optional.
Int = Integer32(min_occurs=1, nillable=False)
StringArray = Array(Unicode, type_name="ArrayOfString")
# spyne ships no types, so its `@rpc` is Any and strict mypy rejects every operation it
# decorates (untyped-decorator). Typed once here instead: rpc(*types, **options) gives a
# decorator that swaps the method for spyne's own explainer, which ServiceBase's metaclass
# turns into the operation; only spyne calls the result, hence Callable[..., Any].
rpc: Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]] = spyne_rpc
# soap.http parses every envelope with the hardened parser first and leaves the tree here.
PARSED_ENVELOPE = "qbslack.soap_envelope"


class PreParsedSoap11(Soap11):  # type: ignore[misc]  # spyne ships no types
    """SOAP 1.1 in-protocol that reuses soap.http's parse of the envelope (no second parse)."""

    def create_in_document(self, ctx: Any, charset: str | None = None) -> None:
        env = getattr(ctx.transport, "req_env", None) or {}
        envelope = env.get(PARSED_ENVELOPE)
        if envelope is None or ctx.transport.get_request_method() != "POST":
            super().create_in_document(ctx, charset)
            return
        # QBWC speaks document/literal: no SOAP-encoded multi-refs, so no ids to resolve.
        ctx.in_document = (envelope, {})


def _qbwc(ctx: Any) -> Qbwc:
    qbwc: Qbwc = ctx.app.qbslack
    return qbwc


def _client_addr(ctx: Any) -> str:
    """The caller's address: the peer, as our own proxies saw it (PROXY_HOPS, ProxyFix)."""
    env = getattr(ctx.transport, "req_env", None) or {}
    return str(env.get("REMOTE_ADDR", ""))[:64]


def _client_key(ctx: Any) -> str:
    """Who is calling: the address and the User-Agent."""
    env = getattr(ctx.transport, "req_env", None) or {}
    agent = str(env.get("HTTP_USER_AGENT", ""))[:200]
    return f"{_client_addr(ctx)}:{agent}"


class QBWebConnectorSvc(ServiceBase):  # type: ignore[misc]  # spyne ships no types
    """The operations of Intuit's QBWebConnectorSvc WSDL (names fixed by it)."""

    @rpc(Unicode, _returns=Unicode)
    def serverVersion(ctx: Any, strVersion: str | None) -> str:
        return SERVER_VERSION

    @rpc(Unicode, _returns=Unicode)
    def clientVersion(ctx: Any, strVersion: str | None) -> str:
        return calls.client_version(_qbwc(ctx), _client_key(ctx), strVersion)

    @rpc(Unicode, Unicode, _returns=StringArray)
    def authenticate(
        ctx: Any,
        strUserName: str | None,
        strPassword: str | None,
    ) -> list[str]:
        return calls.authenticate(
            _qbwc(ctx),
            _client_key(ctx),
            strUserName or "",
            strPassword or "",
            source=_client_addr(ctx),
        )

    @rpc(Unicode, Unicode, Unicode, Unicode, Int, Int, _returns=Unicode)
    def sendRequestXML(
        ctx: Any,
        ticket: str | None,
        strHCPResponse: str | None,
        strCompanyFileName: str | None,
        qbXMLCountry: str | None,
        qbXMLMajorVers: int | None,
        qbXMLMinorVers: int | None,
    ) -> str:
        return calls.send_request(
            _qbwc(ctx),
            ticket,
            strHCPResponse,
            strCompanyFileName,
            qbXMLMajorVers,
            qbXMLMinorVers,
            country=qbXMLCountry,
        )

    @rpc(Unicode, Unicode, Unicode, Unicode, _returns=Int)
    def receiveResponseXML(
        ctx: Any,
        ticket: str | None,
        response: str | None,
        hresult: str | None,
        message: str | None,
    ) -> int:
        return calls.receive_response(_qbwc(ctx), ticket, response, hresult, message)

    @rpc(Unicode, Unicode, Unicode, _returns=Unicode)
    def connectionError(
        ctx: Any, ticket: str | None, hresult: str | None, message: str | None
    ) -> str:
        return calls.connection_error(_qbwc(ctx), ticket, hresult, message)

    @rpc(Unicode, _returns=Unicode)
    def getLastError(ctx: Any, ticket: str | None) -> str:
        return calls.get_last_error(_qbwc(ctx), ticket)

    @rpc(Unicode, _returns=Unicode)
    def closeConnection(ctx: Any, ticket: str | None) -> str:
        return calls.close_connection(_qbwc(ctx), ticket)

    @rpc(Unicode, Unicode, _returns=Unicode)
    def getInteractiveURL(
        ctx: Any,
        wcTicket: str | None,
        sessionID: str | None,
    ) -> str:
        return ""  # qbslack never asks for interactive mode

    @rpc(Unicode, _returns=Unicode)
    def interactiveDone(ctx: Any, wcTicket: str | None) -> str:
        return "Done"

    @rpc(Unicode, Unicode, _returns=Unicode)
    def interactiveRejected(
        ctx: Any,
        wcTicket: str | None,
        reason: str | None,
    ) -> str:
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
