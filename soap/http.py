"""Mounting the QBWC SOAP service at /qbwc, with size and XML safety checks first."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Response, request
from lxml import etree
from spyne.server.wsgi import WsgiApplication
from werkzeug.wrappers import Response as WsgiResponse
from werkzeug.wsgi import get_input_stream

from app.core.bodies import read_at_most
from app.core.runtime import Runtime
from soap.calls import Qbwc
from soap.envelope import ENVELOPE_MAX_TAGS, PREAUTH_MAX_BYTES, TICKETED, peek, tag_count_over
from soap.qbxml.safe_xml import QbxmlError, parse_xml
from soap.service import NS, PARSED_ENVELOPE, build_application

WsgiEnviron = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[WsgiEnviron, StartResponse], Iterable[bytes]]

log = logging.getLogger(__name__)

BLUEPRINT = "qbwc"
BIG_BODY_SLOTS = 2  # bodies over the pre-login size parsed at once per process (~45 MB each)
BIG_BODY_WAIT = 60.0  # seconds a big body waits for a slot before QBWC is told to retry
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
# spyne's own fault texts echo the input; QBWC (and anyone else) gets these instead.
FAULT_TEXT = {
    "Client.ResourceNotFound": "unknown QBWC method",
    "Client.ValidationError": "a parameter has the wrong type",
    "Client.SchemaValidationError": "a parameter has the wrong type",
}


def soap_fault(message: str, *, code: str = "Client", status: int = 500) -> Response:
    """A SOAP 1.1 Fault with a short message and no traceback."""
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f'<soap11env:Envelope xmlns:soap11env="{SOAP_ENV}">'
        "<soap11env:Body><soap11env:Fault>"
        f"<faultcode>soap11env:{escape(code)}</faultcode>"
        f"<faultstring>{escape(message)}</faultstring>"
        "</soap11env:Fault></soap11env:Body></soap11env:Envelope>"
    )
    return Response(body, status=status, mimetype="text/xml")


def _clean_fault(data: bytes) -> Response:
    """Replace spyne's fault (which may quote the input) with a short one of ours."""
    try:
        root = etree.fromstring(data)  # spyne's own output: trusted XML
        code = root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultcode") or ""
    except etree.XMLSyntaxError:
        code = ""
    code = code.split(":", 1)[-1]
    if code.startswith("Client"):
        return soap_fault(
            FAULT_TEXT.get(code, "the SOAP request could not be read"),
            code=code if code in FAULT_TEXT else "Client",
        )
    return soap_fault("qbslack could not process this call", code="Server")


def _fix_wsdl(wsdl: bytes, location: str) -> bytes:
    """Intuit's soapAction values (namespace + operation) and our public endpoint URL."""
    root = etree.fromstring(wsdl)  # spyne's own output: trusted XML
    for op in root.iter(f"{{{WSDL_SOAP}}}operation"):
        action = op.get("soapAction")
        if action and not action.startswith(NS):
            op.set("soapAction", NS + action)
    for address in root.iter(f"{{{WSDL_SOAP}}}address"):
        address.set("location", location)  # not the Host header: behind TLS it is https
    fixed: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return fixed


class SoapEndpoint:
    """POST /qbwc as plain WSGI: size limit, safe pre-parse, spyne, clean faults.

    It runs in front of Flask (a SOAP call needs no routing, request object or error
    pages), which halves the framework's cost of a call; GET /qbwc stays a Flask route.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.limit = runtime.settings.max_soap_body_bytes
        self.qbwc = Qbwc.for_runtime(runtime)
        self._big_bodies = threading.BoundedSemaphore(BIG_BODY_SLOTS)
        self.spyne = WsgiApplication(build_application(self.qbwc), max_content_length=self.limit)

    def wrap(self, flask_wsgi: WsgiApp) -> WsgiApp:
        """The app's WSGI callable with SOAP posts answered here and the rest passed on."""

        def dispatch(environ: WsgiEnviron, start_response: StartResponse) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == "/qbwc" and environ.get("REQUEST_METHOD") == "POST":
                return self(environ, start_response)
            return flask_wsgi(environ, start_response)

        return dispatch

    def __call__(self, environ: WsgiEnviron, start_response: StartResponse) -> Iterable[bytes]:
        return self.answer(environ)(environ, start_response)

    def answer(self, environ: WsgiEnviron) -> WsgiApp:
        """The response to one SOAP post (itself a WSGI app)."""
        length = environ.get("CONTENT_LENGTH") or ""
        if length.isdigit() and int(length) > self.limit:
            return soap_fault("request body too large", status=413)
        # A chunked body has no Content-Length, and one read may return one chunk.
        stream = get_input_stream(environ, max_content_length=None)
        body = read_at_most(stream, PREAUTH_MAX_BYTES + 1)
        if len(body) <= PREAUTH_MAX_BYTES:
            return self.answer_body(environ, body)
        # Only a call with a live ticket may be big (a response full of QuickBooks data).
        call = peek(body)
        if call.operation not in TICKETED or self.qbwc.load(call.ticket) is None:
            return soap_fault("request body too large for this call", status=413)
        # A big body costs a few times its size while parsed: a few at a time per process.
        if not self._big_bodies.acquire(timeout=BIG_BODY_WAIT):
            return soap_fault("qbslack is busy: the next poll tries again", code="Server")
        try:
            body += read_at_most(stream, self.limit + 1 - len(body))
            if len(body) > self.limit:
                return soap_fault("request body too large", status=413)
            return self.answer_body(environ, body)
        finally:
            self._big_bodies.release()

    def answer_body(self, environ: WsgiEnviron, body: bytes) -> WsgiApp:
        """The response to a SOAP post whose whole body has been read."""
        if tag_count_over(body, ENVELOPE_MAX_TAGS):
            return soap_fault("too many XML elements for a QBWC call")
        try:
            # DOCTYPE/entities/XInclude, malformed or non-UTF-8 bodies never reach spyne.
            envelope = parse_xml(body, max_bytes=self.limit)
        except QbxmlError as exc:
            log.info("refused a QBWC request: %s", exc)
            return soap_fault(str(exc)[:200])
        if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
            return soap_fault("not a SOAP 1.1 envelope")
        inner = dict(environ)
        inner["wsgi.input"] = io.BytesIO(body)
        inner["CONTENT_LENGTH"] = str(len(body))
        inner["CONTENT_TYPE"] = environ.get("CONTENT_TYPE") or "text/xml; charset=utf-8"
        inner["QUERY_STRING"] = ""
        inner[PARSED_ENVELOPE] = envelope
        reply = _Buffered.from_app(self.spyne, inner)
        if reply.status_code >= 400:
            return _clean_fault(reply.data)
        return reply


class _Buffered:
    """A WSGI app's whole answer, collected (one SOAP envelope: small), to send as is.

    Lighter than werkzeug's Response.from_app on a path taken a thousand times a second.
    """

    def __init__(self, status: str, headers: list[tuple[str, str]], data: bytes) -> None:
        self.status, self.data = status, data
        self.headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        self.headers.append(("Content-Length", str(len(data))))

    @property
    def status_code(self) -> int:
        """The HTTP status as a number."""
        return int(self.status.split(" ", 1)[0])

    @classmethod
    def from_app(cls, app: WsgiApp, environ: WsgiEnviron) -> _Buffered:
        """Run app on environ and keep what it answered."""
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            started[:] = [status, headers]
            return lambda _chunk: None  # spyne never writes through it

        chunks = app(environ, start_response)
        try:
            data = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return cls(started[0], list(started[1]), data)

    def __call__(self, environ: WsgiEnviron, start_response: StartResponse) -> Iterable[bytes]:
        start_response(self.status, self.headers)
        return [self.data]


def register(app: Flask, runtime: Runtime) -> None:
    """Serve POST /qbwc (SOAP) and GET /qbwc?wsdl from this app."""
    # Our handlers log what matters; spyne would log a traceback per malformed request.
    logging.getLogger("spyne").setLevel(logging.CRITICAL)
    endpoint = SoapEndpoint(runtime)
    app.wsgi_app = endpoint.wrap(app.wsgi_app)  # type: ignore[method-assign,assignment]
    location = runtime.settings.public_url.rstrip("/") + "/qbwc"
    wsdl_doc: list[bytes] = []  # built on first request, then served as is
    wsdl_lock = threading.Lock()
    bp = Blueprint(BLUEPRINT, __name__)

    def wsdl() -> Response:
        with wsdl_lock:
            if not wsdl_doc:
                environ = dict(request.environ, QUERY_STRING="wsdl")
                resp = Response.from_app(endpoint.spyne, environ)
                if resp.status_code != 200:
                    return soap_fault("the WSDL is not available", code="Server")
                wsdl_doc.append(_fix_wsdl(resp.get_data(), location))
        return Response(wsdl_doc[0], mimetype="text/xml")

    @bp.route("/qbwc", methods=["GET"])
    def qbwc() -> WsgiResponse:
        if "wsdl" in {k.lower() for k in request.args}:
            return wsdl()
        return Response(
            "qbslack QBWC endpoint: GET /qbwc?wsdl for the WSDL\n", mimetype="text/plain"
        )

    app.register_blueprint(bp)
