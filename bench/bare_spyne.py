"""A bare spyne QBWC service with constant answers: the framework's floor for bench 1.

Serve it with: gunicorn 'bench.bare_spyne:application' (same worker settings as qbslack).
"""

from __future__ import annotations

from spyne import Application, Integer, ServiceBase, Unicode, rpc
from spyne.model.complex import Array
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

NS = "http://developer.intuit.com/"


class BareQBWC(ServiceBase):  # type: ignore[misc]  # spyne ships no types
    """Answers every QBWC call with a constant: no database, no parsing of qbXML."""

    @rpc(_returns=Unicode)
    def serverVersion(ctx):  # names fixed by the WSDL
        return "bare"

    @rpc(Unicode, _returns=Unicode)
    def clientVersion(ctx, strVersion):
        return ""

    @rpc(Unicode, Unicode, _returns=Array(Unicode, type_name="ArrayOfString"))
    def authenticate(ctx, strUserName, strPassword):
        return ["bare-ticket", ""]

    @rpc(Unicode, Unicode, Unicode, Unicode, Integer, Integer, _returns=Unicode)
    def sendRequestXML(
        ctx,
        ticket,
        strHCPResponse,
        strCompanyFileName,
        qbXMLCountry,
        qbXMLMajorVers,
        qbXMLMinorVers,
    ):
        return (
            '<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML>'
            '<QBXMLMsgsRq onError="continueOnError"><VendorQueryRq requestID="1">'
            "<ActiveStatus>All</ActiveStatus></VendorQueryRq></QBXMLMsgsRq></QBXML>"
        )

    @rpc(Unicode, Unicode, Unicode, Unicode, _returns=Integer)
    def receiveResponseXML(ctx, ticket, response, hresult, message):
        return 100

    @rpc(Unicode, _returns=Unicode)
    def closeConnection(ctx, ticket):
        return "OK"

    @rpc(Unicode, _returns=Unicode)
    def getLastError(ctx, ticket):
        return ""


application = WsgiApplication(
    Application(
        [BareQBWC],
        tns=NS,
        name="QBWebConnectorSvc",
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(),
    )
)
