"""The QBWC simulator against a canned SOAP stub: call order, envelopes, and every exit path."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from soap.simulator import (
    FakeCompany,
    QBWCSimulator,
    SessionReport,
    SoapClient,
    SoapFault,
    fixtures,
    simulate,
    soap_call,
)
from soap.simulator.qbwc_client import result_strings, result_text
from tests.support.qbxml_schema import assert_valid_qbxml

NS = "http://developer.intuit.com/"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
# Parameter names of each method, in order, as the WSDL declares them.
WSDL_PARAMS = {
    "serverVersion": [],
    "clientVersion": ["strVersion"],
    "authenticate": ["strUserName", "strPassword"],
    "sendRequestXML": [
        "ticket",
        "strHCPResponse",
        "strCompanyFileName",
        "qbXMLCountry",
        "qbXMLMajorVers",
        "qbXMLMinorVers",
    ],
    "receiveResponseXML": ["ticket", "response", "hresult", "message"],
    "connectionError": ["ticket", "hresult", "message"],
    "getLastError": ["ticket"],
    "closeConnection": ["ticket"],
}
BILLS = (
    '<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n<QBXML>'
    '<QBXMLMsgsRq onError="continueOnError"><BillQueryRq requestID="bill">'
    "<IncludeLineItems>true</IncludeLineItems></BillQueryRq></QBXMLMsgsRq></QBXML>"
)
VENDORS = (
    '<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n<QBXML>'
    '<QBXMLMsgsRq onError="continueOnError"><VendorQueryRq requestID="vendor">'
    "<ActiveStatus>All</ActiveStatus></VendorQueryRq></QBXMLMsgsRq></QBXML>"
)


class Fault(Exception):
    """Raised by a handler: the stub answers with a SOAP Fault."""


@dataclass
class Seen:
    """One request the stub received."""

    method: str
    soap_action: str
    content_type: str
    params: dict[str, str]
    param_names: list[str]


@dataclass
class Stub:
    """A QBWC web service that answers canned values in the WSDL's shape."""

    sends: list[str] = field(default_factory=lambda: [BILLS, VENDORS])
    progress: list[int] = field(default_factory=lambda: [50, 100])
    auth: list[str] = field(default_factory=lambda: ["TICKET-1", ""])
    client_version: str = ""
    last_error: str = "Something went wrong"
    connection_error: str = "done"
    fault_on: str | None = None
    seen: list[Seen] = field(default_factory=list)

    def handle(self, method: str, params: dict[str, str]) -> str | list[str]:
        if method == self.fault_on:
            raise Fault(f"{method} exploded")
        answers: dict[str, Callable[[], str | list[str]]] = {
            "serverVersion": lambda: "qbslack-stub 1.0",
            "clientVersion": lambda: self.client_version,
            "authenticate": lambda: self.auth,
            "sendRequestXML": lambda: self.sends.pop(0) if self.sends else "",
            "receiveResponseXML": lambda: str(
                self.progress.pop(0) if len(self.progress) > 1 else self.progress[0]
            ),
            "connectionError": lambda: self.connection_error,
            "getLastError": lambda: self.last_error,
            "closeConnection": lambda: "OK",
        }
        return answers[method]()

    def app(self, environ, start_response):
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = etree.fromstring(environ["wsgi.input"].read(size))
        assert body.tag == f"{{{SOAP_NS}}}Envelope"
        [soap_body] = list(body)
        assert soap_body.tag == f"{{{SOAP_NS}}}Body"
        [call] = list(soap_body)
        method = etree.QName(call).localname
        assert etree.QName(call).namespace == NS
        names = [etree.QName(p).localname for p in call]
        assert all(etree.QName(p).namespace == NS for p in call)
        params = {etree.QName(p).localname: p.text or "" for p in call}
        self.seen.append(
            Seen(
                method,
                environ.get("HTTP_SOAPACTION", ""),
                environ.get("CONTENT_TYPE", ""),
                params,
                names,
            )
        )
        try:
            result = self.handle(method, params)
        except Fault as exc:
            payload = (
                f"<soap:Fault><faultcode>soap:Server</faultcode>"
                f"<faultstring>{escape(str(exc))}</faultstring></soap:Fault>"
            )
            status = "500 Internal Server Error"
        else:
            if isinstance(result, list):
                inner = "".join(f"<string>{escape(s)}</string>" for s in result)
            else:
                inner = escape(result)
            payload = (
                f'<{method}Response xmlns="{NS}"><{method}Result>{inner}'
                f"</{method}Result></{method}Response>"
            )
            status = "200 OK"
        data = (
            f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_NS}">'
            f"<soap:Body>{payload}</soap:Body></soap:Envelope>"
        ).encode()
        start_response(
            status,
            [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(data)))],
        )
        return [data]

    @property
    def methods(self) -> list[str]:
        return [s.method for s in self.seen]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:  # the test output stays readable
        pass


@pytest.fixture
def stub() -> Stub:
    return Stub()


@pytest.fixture
def url(stub: Stub) -> Iterator[str]:
    server: WSGIServer = make_server("127.0.0.1", 0, stub.app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/qbwc"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run(url: str, company: FakeCompany | None = None, **kw: Any) -> SessionReport:
    return QBWCSimulator(url, "qbu-1", "s3cret", company or fixtures.load(), **kw).run()


def test_full_session_call_order_headers_and_envelopes(url, stub):
    report = run(url)
    order = [
        "serverVersion",
        "clientVersion",
        "authenticate",
        "sendRequestXML",
        "receiveResponseXML",
        "sendRequestXML",
        "receiveResponseXML",
        "closeConnection",
    ]
    assert report.ok and report.calls == order and stub.methods == order
    assert report.progress == [50, 100] and report.requests == [BILLS, VENDORS]
    assert report.ticket == "TICKET-1" and report.auth_result == ""
    assert report.close_message == "OK" and report.server_version == "qbslack-stub 1.0"
    for seen in stub.seen:
        assert seen.soap_action == f'"http://developer.intuit.com/{seen.method}"'
        assert seen.content_type == "text/xml; charset=utf-8"
        assert seen.param_names == WSDL_PARAMS[seen.method], seen.method
        if "ticket" in seen.params:
            assert seen.params["ticket"] == "TICKET-1"
    assert stub.seen[1].params == {"strVersion": "2.3.0.215"}
    assert stub.seen[2].params == {"strUserName": "qbu-1", "strPassword": "s3cret"}
    first, second = (s.params for s in stub.seen if s.method == "sendRequestXML")
    assert "<CompanyName>Acme Books LLC</CompanyName>" in first["strHCPResponse"]
    assert_valid_qbxml(first["strHCPResponse"])
    assert second["strHCPResponse"] == ""
    assert (first["qbXMLCountry"], first["qbXMLMajorVers"], first["qbXMLMinorVers"]) == (
        "US",
        "13",
        "0",
    )
    answers = [s.params for s in stub.seen if s.method == "receiveResponseXML"]
    for sent in answers:
        assert_valid_qbxml(sent["response"])
        assert sent["hresult"] == "" and sent["message"] == ""
    assert "<BillQueryRs" in answers[0]["response"] and "INV-77" in answers[0]["response"]
    assert "<VendorQueryRs" in answers[1]["response"]


@pytest.mark.parametrize(
    "status,calls,ok",
    [
        ("nvu", ["serverVersion", "clientVersion", "authenticate"], False),
        ("busy", ["serverVersion", "clientVersion", "authenticate"], False),
        ("none", ["serverVersion", "clientVersion", "authenticate", "closeConnection"], True),
    ],
)
def test_authenticate_answers(url, stub, status, calls, ok):
    stub.auth = ["TICKET-2", status, "", "300"]
    report = run(url)
    assert report.calls == calls and report.ok is ok and report.auth_result == status
    assert report.requests == []


def test_company_path_from_authenticate_proceeds(url, stub):
    stub.auth = ["T", r"C:\Books\Acme.QBW"]
    assert run(url).ok


def test_client_version_error_stops(url, stub):
    stub.client_version = "E:Please upgrade the Web Connector"
    report = run(url)
    assert report.calls == ["serverVersion", "clientVersion"] and not report.ok
    assert report.last_error == "E:Please upgrade the Web Connector"


def test_negative_progress_asks_get_last_error_then_closes(url, stub):
    stub.progress = [-101]
    stub.last_error = "QuickBooks could not be started"
    report = run(url)
    assert report.calls[-3:] == ["receiveResponseXML", "getLastError", "closeConnection"]
    assert report.progress == [-101] and not report.ok
    assert report.last_error == "QuickBooks could not be started"


@pytest.mark.parametrize("error,ok", [("NoOp", True), ("Nothing to send: bad state", False)])
def test_empty_request_asks_get_last_error(url, stub, error, ok):
    stub.sends = []
    stub.last_error = error
    report = run(url)
    assert report.calls[-3:] == ["sendRequestXML", "getLastError", "closeConnection"]
    assert report.ok is ok and report.last_error == (None if ok else error)


def test_noop_is_asked_again_when_configured(url, stub):
    stub.sends = ["", BILLS]
    stub.last_error = "NoOp"
    stub.progress = [100]
    report = run(url, noop_retries=1)
    assert report.ok and report.calls.count("sendRequestXML") == 2


def test_soap_fault_is_reported(url, stub):
    stub.fault_on = "authenticate"
    report = run(url)
    assert report.fault == "authenticate exploded" and not report.ok
    assert report.calls == ["serverVersion", "clientVersion", "authenticate"]


def test_iteration_cap_stops_a_server_that_never_finishes(url, stub):
    stub.sends = [BILLS] * 10
    stub.progress = [50]
    report = run(url, max_rounds=4)
    assert report.calls.count("sendRequestXML") == 4 and report.calls[-1] == "closeConnection"
    assert not report.ok and "4 rounds" in (report.last_error or "")


def test_quickbooks_failure_is_sent_as_hresult(url, stub):
    company = fixtures.load()
    company.fail_next("0x80040408", "Could not start QuickBooks.")
    stub.progress = [-101]
    run(url, company)
    [sent] = [s.params for s in stub.seen if s.method == "receiveResponseXML"]
    assert sent == {
        "ticket": "TICKET-1",
        "response": "",
        "hresult": "0x80040408",
        "message": "Could not start QuickBooks.",
    }
    assert company.pending_failure is None  # one shot


def test_unreadable_request_gets_a_parse_error_hresult(url, stub):
    stub.sends = ["<QBXML><QBXMLMsgsRq><NotARequest/></QBXMLMsgsRq></QBXML>"]
    stub.progress = [-1]
    run(url)
    [sent] = [s.params for s in stub.seen if s.method == "receiveResponseXML"]
    assert sent["response"] == "" and sent["hresult"] == "0x80040400"


def test_company_that_cannot_be_opened_calls_connection_error(url, stub):
    company = fixtures.load()
    company.fail_next("0x80040410", "The file is in use.", on_open=True)
    report = run(url, company)
    assert report.calls == ["serverVersion", "clientVersion", "authenticate", "connectionError"]
    assert stub.seen[-1].params == {
        "ticket": "TICKET-1",
        "hresult": "0x80040410",
        "message": "The file is in use.",
    }
    assert not report.ok and report.connection_errors == ["done"]
    # Answering "" (use the open company) makes QBWC try again, which works this time.
    company.fail_next("0x80040410", "The file is in use.", on_open=True)
    stub.connection_error = ""
    report = run(url, company)
    assert report.ok and report.calls[3:5] == ["connectionError", "sendRequestXML"]


def test_low_level_calls_and_keep_alive_client(url, stub):
    assert result_text(soap_call(url, "clientVersion", [("strVersion", "2.3.0.215")])) == ""
    with SoapClient(url) as client:
        assert result_strings(
            client.call("authenticate", [("strUserName", "a"), ("strPassword", "b")])
        ) == ["TICKET-1", ""]
        report = QBWCSimulator(url, "a", "b", fixtures.load(), session=client).run()
        assert report.ok
        assert result_text(client.call("closeConnection", [("ticket", "x")])) == "OK"
    stub.fault_on = "getLastError"
    with pytest.raises(SoapFault, match="getLastError exploded"):
        soap_call(url, "getLastError", [("ticket", "x")])


def test_non_soap_answers_are_faults():
    def not_soap(environ, start_response):
        start_response("502 Bad Gateway", [("Content-Type", "text/html")])
        return [b"<html><body>bad gateway</body></html>"]

    server = make_server("127.0.0.1", 0, not_soap, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        report = run(f"http://127.0.0.1:{server.server_port}/qbwc")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert report.fault == "HTTP 502: no serverVersionResult in the answer"
    assert report.calls == ["serverVersion"]


def test_simulate_returns_a_json_ready_report(url, stub, tmp_path):
    company = FakeCompany(clock="2026-11-24T09:00:00")
    company.add_bill("Acme", "10.00", "ONE")
    fixtures.save(company, tmp_path / "one.json")
    out = simulate(url, "qbu-1", "s3cret", tmp_path / "one.json")
    assert out["ok"] and out["requests"] == 2 and out["progress"] == [50, 100]
    assert "ticket" not in out
    answers = [s.params["response"] for s in stub.seen if s.method == "receiveResponseXML"]
    assert "<RefNumber>ONE</RefNumber>" in answers[0]
