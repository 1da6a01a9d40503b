"""Mounting the QBWC SOAP service at /qbwc, with size and XML safety checks first."""

from __future__ import annotations

import io
import logging
from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Response, request
from spyne.server.wsgi import WsgiApplication
from werkzeug.wrappers import Response as WsgiResponse

from app.runtime import Runtime
from soap.qbxml.safe_xml import QbxmlError, parse_xml
from soap.service import build_application

log = logging.getLogger(__name__)


def soap_fault(message: str, *, code: str = "Client", status: int = 500) -> Response:
    """A SOAP 1.1 Fault with a short message and no traceback."""
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        '<soap11env:Envelope xmlns:soap11env="http://schemas.xmlsoap.org/soap/envelope/">'
        "<soap11env:Body><soap11env:Fault>"
        f"<faultcode>soap11env:{code}</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soap11env:Fault></soap11env:Body></soap11env:Envelope>"
    )
    return Response(body, status=status, mimetype="text/xml")


def register(app: Flask, runtime: Runtime) -> None:
    """Serve POST /qbwc (SOAP) and GET /qbwc?wsdl from this app."""
    wsgi = WsgiApplication(build_application(runtime))
    limit = runtime.settings.max_soap_body_bytes
    bp = Blueprint("qbwc", __name__)

    @bp.route("/qbwc", methods=["GET", "POST"])
    def qbwc() -> WsgiResponse:
        if request.method == "GET":
            if "wsdl" not in {k.lower() for k in request.args}:
                return Response("qbslack QBWC endpoint: GET /qbwc?wsdl for the WSDL\n",
                                mimetype="text/plain")
            return Response.from_app(wsgi, request.environ)
        if request.content_length is not None and request.content_length > limit:
            return soap_fault("request body too large", status=413)
        body = request.stream.read(limit + 1)
        if len(body) > limit:
            return soap_fault("request body too large", status=413)
        try:
            # Refuse DOCTYPE/entities/XInclude and malformed or non-UTF-8 bodies before spyne.
            envelope = parse_xml(body, max_bytes=limit)
        except QbxmlError as exc:
            return soap_fault(str(exc))
        if envelope.tag != "{http://schemas.xmlsoap.org/soap/envelope/}Envelope":
            return soap_fault("not a SOAP 1.1 envelope")
        environ = dict(request.environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["CONTENT_TYPE"] = request.content_type or "text/xml; charset=utf-8"
        environ["PATH_INFO"] = "/"
        environ["QUERY_STRING"] = ""
        resp = Response.from_app(wsgi, environ)
        if resp.status_code >= 500:
            # spyne puts exception text in faultstring; keep our own short message instead.
            text = resp.get_data(as_text=True)
            if "Traceback" in text:
                return soap_fault("qbslack could not process this call", code="Server")
        return resp

    app.register_blueprint(bp)
