"""A QBWC simulator: plays a Web Connector session over real HTTP SOAP 1.1."""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from lxml import etree

from soap.qbxml.safe_xml import QbxmlError, parse_xml
from soap.simulator.company import FakeCompany
from soap.simulator.qbxml_answer import Answerer

NS = "http://developer.intuit.com/"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
MAX_ROUNDS = 10_000  # a buggy server can never keep the simulator looping forever


class SoapFault(Exception):
    """The server answered with a SOAP Fault."""


@dataclass
class SessionReport:
    """What happened in one simulated QBWC session."""

    ok: bool = False
    auth_result: str | None = None
    ticket: str | None = None
    requests: list[str] = field(default_factory=list)
    progress: list[int] = field(default_factory=list)
    last_error: str | None = None
    fault: str | None = None
    calls: list[str] = field(default_factory=list)
    close_message: str | None = None
    server_version: str | None = None
    client_version_answer: str | None = None
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
        }


class SoapClient:
    """A keep-alive SOAP 1.1 client for one endpoint URL."""

    def __init__(self, url: str, *, timeout: float = 30) -> None:
        parts = urlsplit(url)
        self.path = parts.path or "/"
        if parts.query:
            self.path += "?" + parts.query
        conn_cls = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self.conn = conn_cls(parts.hostname or "localhost", parts.port, timeout=timeout)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def call(self, method: str, params: list[tuple[str, str | int]]) -> etree._Element:
        """Call a QBWC method; returns the <methodResult> element or raises SoapFault."""
        body = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in params)
        envelope = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<soap:Envelope xmlns:soap="{SOAP_NS}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
            f'<soap:Body><{method} xmlns="{NS}">{body}</{method}></soap:Body></soap:Envelope>'
        ).encode()
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{NS}{method}"',
            "User-Agent": "qbslack-simulator (QBWC 2.3.0.215)",
        }
        try:
            self.conn.request("POST", self.path, envelope, headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (http.client.HTTPException, OSError):
            # One retry on a fresh connection: a keep-alive socket may have been closed.
            self.conn.close()
            self.conn.request("POST", self.path, envelope, headers)
            resp = self.conn.getresponse()
            data = resp.read()
        try:
            root = parse_xml(data)
        except QbxmlError as exc:
            raise SoapFault(f"HTTP {resp.status}: unreadable answer ({exc})") from None
        fault = root.find(f".//{{{SOAP_NS}}}Fault")
        if fault is not None:
            raise SoapFault(fault.findtext("faultstring") or f"HTTP {resp.status}")
        result = root.find(f".//{{{NS}}}{method}Result")
        if result is None:
            raise SoapFault(f"HTTP {resp.status}: no {method}Result in the answer")
        return result


def soap_call(url: str, method: str, params: list[tuple[str, str | int]]) -> etree._Element:
    """One SOAP call on a fresh connection (tests, benchmarks)."""
    client = SoapClient(url)
    try:
        return client.call(method, params)
    finally:
        client.close()


def result_text(el: etree._Element) -> str:
    """The text of a string result."""
    return el.text or ""


def result_strings(el: etree._Element) -> list[str]:
    """The strings of an ArrayOfString result."""
    return [s.text or "" for s in el.iterchildren(f"{{{NS}}}string")]


class QBWCSimulator:
    """Plays what QBWC does in one scheduled run, against any endpoint."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        company: FakeCompany,
        *,
        timeout: float = 30,
        qbxml_major: int = 13,
        qbxml_minor: int = 0,
        client_version: str = "2.3.0.215",
        company_file: str = r"C:\Users\Public\Documents\Intuit\QuickBooks\Acme.QBW",
    ) -> None:
        self.url = url
        self.username = username
        self.password = password
        self.company = company
        self.answerer = Answerer(company)
        self.timeout = timeout
        self.qbxml_major = qbxml_major
        self.qbxml_minor = qbxml_minor
        self.client_version = client_version
        self.company_file = company_file

    def run(self) -> SessionReport:
        """One full session: version check, authenticate, request/response loop, close."""
        report = SessionReport()
        client = SoapClient(self.url, timeout=self.timeout)

        def call(method: str, params: list[tuple[str, str | int]]) -> etree._Element:
            report.calls.append(method)
            started = time.monotonic()
            try:
                return client.call(method, params)
            finally:
                report.ended_at = time.monotonic()
                report.call_ends.append(report.ended_at)
                report.timings.append((method, report.ended_at - started))

        try:
            report.server_version = result_text(call("serverVersion", []))
            answer = result_text(call("clientVersion", [("strVersion", self.client_version)]))
            report.client_version_answer = answer
            if answer.startswith("E:"):
                report.last_error = answer
                return report
            auth = result_strings(
                call("authenticate", [("strUserName", self.username),
                                      ("strPassword", self.password)])
            )
            ticket, status = (auth + ["", ""])[:2]
            report.ticket, report.auth_result = ticket, status
            if status in ("nvu", "busy"):
                return report
            if status == "none":
                report.close_message = result_text(call("closeConnection", [("ticket", ticket)]))
                report.ok = True
                return report
            self._loop(call, ticket, report)
            report.close_message = result_text(call("closeConnection", [("ticket", ticket)]))
        except SoapFault as exc:
            report.fault = str(exc)
            report.ok = False
        finally:
            client.close()
        return report

    def _loop(self, call: Any, ticket: str, report: SessionReport) -> None:
        hcp = (
            '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><HostQueryRs statusCode="0" '
            'statusSeverity="Info" statusMessage="Status OK"><HostRet>'
            "<ProductName>QuickBooks Pro 2023</ProductName><MajorVersion>33</MajorVersion>"
            "<MinorVersion>0</MinorVersion><SupportedQBXMLVersion>13.0</SupportedQBXMLVersion>"
            "</HostRet></HostQueryRs><CompanyQueryRs statusCode=\"0\" statusSeverity=\"Info\" "
            f'statusMessage="Status OK"><CompanyRet><CompanyName>{escape(self.company.name)}'
            "</CompanyName></CompanyRet></CompanyQueryRs></QBXMLMsgsRs></QBXML>"
        )
        first = True
        for _ in range(MAX_ROUNDS):
            request = result_text(
                call("sendRequestXML", [
                    ("ticket", ticket), ("strHCPResponse", hcp if first else ""),
                    ("strCompanyFileName", self.company_file), ("qbXMLCountry", "US"),
                    ("qbXMLMajorVers", self.qbxml_major), ("qbXMLMinorVers", self.qbxml_minor),
                ])
            )
            first = False
            if request == "":
                err = result_text(call("getLastError", [("ticket", ticket)]))
                report.last_error = None if err == "NoOp" else err
                report.ok = err == "NoOp"
                return
            report.requests.append(request)
            failure, self.company.pending_failure = self.company.pending_failure, None
            if failure:
                params = [("ticket", ticket), ("response", ""), ("hresult", failure[0]),
                          ("message", failure[1])]
            else:
                params = [("ticket", ticket), ("response", self.answerer.answer(request)),
                          ("hresult", ""), ("message", "")]
            progress = int(result_text(call("receiveResponseXML", params)))
            report.progress.append(progress)
            if progress < 0:
                report.last_error = result_text(call("getLastError", [("ticket", ticket)]))
                return
            if progress >= 100:
                report.ok = True
                return
        report.last_error = f"simulator stopped after {MAX_ROUNDS} rounds"


def simulate(
    url: str, username: str, password: str, fixture_path: str | Path | None = None
) -> dict[str, Any]:
    """Run one session with the built-in (or a fixture) company; a JSON-ready report."""
    company = FakeCompany.from_fixture(fixture_path)
    return QBWCSimulator(url, username, password, company).run().as_dict()
