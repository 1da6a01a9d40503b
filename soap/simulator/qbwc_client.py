"""A QBWC simulator: plays a Web Connector session over real HTTP SOAP 1.1."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from lxml import etree

from soap.simulator import fixtures
from soap.simulator.company import FakeCompany
from soap.simulator.machine import FakeMachine, OpenFailure
from soap.simulator.qbxml_answer import QbxmlRequestError, answer, hcp_response, parse_safe

NS = "http://developer.intuit.com/"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
MAX_ROUNDS = 10_000  # a buggy server can never keep the simulator looping forever
OPEN_RETRIES = 2  # the guide: retry a failed open no more than a couple of times
COMPANY_FILE = r"C:\Users\Public\Documents\Intuit\QuickBooks\Company Files\Acme Books.QBW"
Params = list[tuple[str, str | int]]


class SoapFault(Exception):
    """The server answered with a SOAP Fault (or with something that is not SOAP)."""


@dataclass
class SessionReport:
    """What happened in one simulated QBWC session."""

    ok: bool = False
    auth_result: str | None = None  # authenticate's second string: "", "nvu", "none", ...
    ticket: str | None = None
    requests: list[str] = field(default_factory=list)  # qbXML requests received, raw
    progress: list[int] = field(default_factory=list)  # receiveResponseXML results
    last_error: str | None = None
    fault: str | None = None
    calls: list[str] = field(default_factory=list)  # method names, in order
    close_message: str | None = None
    server_version: str | None = None
    client_version_answer: str | None = None
    connection_errors: list[str] = field(default_factory=list)  # connectionError answers
    company_file: str | None = None  # the company file the session ran against
    timings: list[tuple[str, float]] = field(default_factory=list)  # (method, seconds)
    ended_at: float = 0.0  # time.monotonic() when the last call returned
    call_ends: list[float] = field(default_factory=list)  # time.monotonic() per call

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (requests counted, not dumped; the ticket is not shown)."""
        return {
            "ok": self.ok,
            "auth_result": self.auth_result,
            "requests": len(self.requests),
            "progress": self.progress,
            "last_error": self.last_error,
            "fault": self.fault,
            "calls": self.calls,
            "close_message": self.close_message,
            "server_version": self.server_version,
            "client_version_answer": self.client_version_answer,
            "company_file": self.company_file,
        }


def envelope(method: str, params: Params) -> bytes:
    """The SOAP 1.1 document/literal envelope QBWC (a .NET client) sends for a method."""
    body = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in params)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        f'<soap:Body><{method} xmlns="{NS}">{body}</{method}></soap:Body></soap:Envelope>'
    ).encode()


class SoapClient:
    """A keep-alive SOAP 1.1 client for one endpoint URL."""

    def __init__(self, url: str, *, timeout: float = 30) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn_cls = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self.conn = conn_cls(parts.hostname or "localhost", parts.port, timeout=timeout)
        self.used = False

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> SoapClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        self.conn.request("POST", self.path, body, headers)
        resp = self.conn.getresponse()
        return resp.status, resp.read()

    def call(self, method: str, params: Params) -> etree._Element:
        """Call a QBWC method; returns the <methodResult> element or raises SoapFault."""
        body = envelope(method, params)
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{NS}{method}"',
            "User-Agent": "qbslack-simulator (QBWebConnector 2.3)",
        }
        try:
            status, data = self._post(body, headers)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if not self.used:
                raise
            # The server closed an idle keep-alive socket before reading: send once more.
            self.conn.close()
            status, data = self._post(body, headers)
        self.used = True
        try:
            root = parse_safe(data)
        except QbxmlRequestError:
            raise SoapFault(f"HTTP {status}: the answer is not XML") from None
        fault = root.find(f"{{{SOAP_NS}}}Body/{{{SOAP_NS}}}Fault")
        if fault is not None:
            raise SoapFault(fault.findtext("faultstring") or f"HTTP {status}: SOAP Fault")
        result = root.find(f"{{{SOAP_NS}}}Body/{{{NS}}}{method}Response/{{{NS}}}{method}Result")
        if status != 200 or result is None:
            raise SoapFault(f"HTTP {status}: no {method}Result in the answer")
        return result


def soap_call(url: str, method: str, params: Params, *, timeout: float = 30) -> etree._Element:
    """One SOAP call on a fresh connection (tests, benchmarks)."""
    with SoapClient(url, timeout=timeout) as client:
        return client.call(method, params)


def result_text(el: etree._Element) -> str:
    """The text of a string result."""
    return el.text or ""


def result_strings(el: etree._Element) -> list[str]:
    """The strings of an ArrayOfString result."""
    return [s.text or "" for s in el.iterchildren(f"{{{NS}}}string")]


class QBWCSimulator:
    """Plays what QBWC does in one scheduled run, against any endpoint.

    QuickBooks is either one company, always open at company_file (whatever file
    authenticate or connectionError name, that one is used), or a FakeMachine: the file
    authenticate names ("" = the one open in QuickBooks) is opened by machine.begin_session,
    and a failure goes to connectionError, whose answer is tried next.
    """

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        company: FakeCompany | None = None,
        *,
        machine: FakeMachine | None = None,
        timeout: float = 30,
        qbxml_major: int = 13,
        qbxml_minor: int = 0,
        client_version: str = "2.3.0.215",
        session: SoapClient | None = None,
        company_file: str = COMPANY_FILE,
        max_rounds: int = MAX_ROUNDS,
        noop_retries: int = 0,
    ) -> None:
        self.url = url
        self.username = username
        self.password = password
        self.company = company  # None with a machine: the session's company is the file opened
        self.implicit = machine is None  # one company, always open: any file named is it
        if machine is None:
            if company is None:
                raise ValueError("give a company or a machine")
            machine = FakeMachine()
            machine.add_file(company_file, company)
            machine.open(company_file)
        elif company is not None:
            raise ValueError("give a company or a machine, not both")
        self.machine = machine
        self.timeout = timeout
        self.qbxml_major = qbxml_major
        self.qbxml_minor = qbxml_minor
        self.client_version = client_version
        self.session = session  # a caller's keep-alive client, left open after run()
        self.company_file = company_file  # the path of the implicit machine's one file
        self.max_rounds = max_rounds
        self.noop_retries = noop_retries  # QBWC waits 5 s after "NoOp" and asks again

    def run(self) -> SessionReport:
        """One full session: versions, authenticate, open, request/response loop, close."""
        report = SessionReport()
        client = self.session or SoapClient(self.url, timeout=self.timeout)

        def call(method: str, params: Params) -> etree._Element:
            report.calls.append(method)
            started = time.monotonic()
            try:
                return client.call(method, params)
            finally:
                report.ended_at = time.monotonic()
                report.call_ends.append(report.ended_at)
                report.timings.append((method, report.ended_at - started))

        try:
            self._session(call, report)
        except SoapFault as exc:
            report.fault = str(exc)
            report.ok = False
        finally:
            if self.session is None:
                client.close()
        return report

    def _session(
        self, call: Callable[[str, Params], etree._Element], report: SessionReport
    ) -> None:
        report.server_version = result_text(call("serverVersion", []))
        answer_text = result_text(call("clientVersion", [("strVersion", self.client_version)]))
        report.client_version_answer = answer_text
        if answer_text.startswith(("E:", "O:")):  # QBWC stops; "W:" only warns the user
            report.last_error = answer_text
            return
        auth = result_strings(
            call("authenticate", [("strUserName", self.username), ("strPassword", self.password)])
        )
        ticket, status = (auth + ["", ""])[:2]
        report.ticket, report.auth_result = ticket, status
        if status.lower() in ("nvu", "busy"):
            report.last_error = (
                "invalid username or password"
                if status.lower() == "nvu"
                else "the web service is busy"
            )
            return
        if status.lower() == "none":  # nothing to do: QBWC closes and stops
            report.close_message = result_text(call("closeConnection", [("ticket", ticket)]))
            report.ok = True
            return
        opened = self._open(call, ticket, status, report)
        if opened is None:
            return
        report.company_file = opened[0]
        self._loop(call, ticket, *opened, report)
        report.close_message = result_text(call("closeConnection", [("ticket", ticket)]))

    def _open(
        self,
        call: Callable[[str, Params], etree._Element],
        ticket: str,
        requested: str,
        report: SessionReport,
    ) -> tuple[str, FakeCompany] | None:
        """Open the company file; a failure goes to connectionError, which may name another
        ("" = whichever is open) or say "done". The path and company opened, or None."""
        for _ in range(OPEN_RETRIES + 1):
            try:
                path, company = self.machine.begin_session("" if self.implicit else requested)
                failure, company.pending_open_failure = company.pending_open_failure, None
                if failure is not None:
                    raise OpenFailure(*failure)
                return path, company
            except OpenFailure as exc:
                hresult, message = exc.hresult, exc.message
            answer_text = result_text(
                call(
                    "connectionError",
                    [("ticket", ticket), ("hresult", hresult), ("message", message)],
                )
            )
            report.connection_errors.append(answer_text)
            report.last_error = f"{hresult}: {message}"
            if answer_text.lower() == "done":
                return None
            requested = answer_text
        return None

    def _loop(
        self,
        call: Callable[[str, Params], etree._Element],
        ticket: str,
        path: str,
        company: FakeCompany,
        report: SessionReport,
    ) -> None:
        company.expire_iterators()  # a new QuickBooks session starts with none
        hcp = hcp_response(company)
        noops = 0
        for _ in range(self.max_rounds):
            request = result_text(
                call(
                    "sendRequestXML",
                    [
                        ("ticket", ticket),
                        ("strHCPResponse", hcp),
                        ("strCompanyFileName", path),
                        ("qbXMLCountry", "US"),
                        ("qbXMLMajorVers", self.qbxml_major),
                        ("qbXMLMinorVers", self.qbxml_minor),
                    ],
                )
            )
            hcp = ""  # only the first sendRequestXML of a session carries it
            if request == "":
                err = result_text(call("getLastError", [("ticket", ticket)]))
                if err == "NoOp" and noops < self.noop_retries:
                    noops += 1
                    continue
                report.last_error = None if err == "NoOp" else err
                report.ok = err == "NoOp"
                return
            report.requests.append(request)
            progress = int(
                result_text(
                    call(
                        "receiveResponseXML",
                        [("ticket", ticket), *self._quickbooks(company, request)],
                    )
                )
            )
            report.progress.append(progress)
            if progress < 0:
                report.last_error = result_text(call("getLastError", [("ticket", ticket)]))
                return
            if progress >= 100:
                report.ok = True
                return
        report.last_error = f"simulator stopped after {self.max_rounds} rounds"

    def _quickbooks(self, company: FakeCompany, request: str) -> Params:
        """receiveResponseXML's response, hresult and message for a request, as QBWC sends."""
        failure, company.pending_failure = company.pending_failure, None
        if failure:
            return [("response", ""), ("hresult", failure[0]), ("message", failure[1])]
        try:
            return [("response", answer(company, request)), ("hresult", ""), ("message", "")]
        except QbxmlRequestError as exc:
            return [("response", ""), ("hresult", exc.hresult), ("message", exc.message)]


def simulate(
    url: str, username: str, password: str, fixture_path: str | Path | None = None
) -> dict[str, Any]:
    """Run one session with the built-in (or a fixture's) company; a JSON-ready report."""
    company = fixtures.load(fixture_path)
    return QBWCSimulator(url, username, password, company).run().as_dict()
