"""Fixtures for SOAP tests: a live threaded server, connected tenants, a QBWC call helper."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import pytest
from lxml import etree
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app import create_app
from app.core.runtime import Runtime
from jobs.models import Event
from soap.simulator import Answerer, FakeCompany, SoapClient
from soap.simulator.qbwc_client import result_strings, result_text
from tenants import service
from tenants.installations import save_installation
from tenants.models import Connection, Watermark
from tenants.routes import set_route

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
QBWC_NS = "http://developer.intuit.com/"


@dataclass
class LiveServer:
    """A real HTTP server running the app in a thread."""

    url: str
    runtime: Runtime

    @property
    def qbwc(self) -> str:
        """The SOAP endpoint URL."""
        return self.url + "/qbwc"


def soap_app(runtime: Runtime) -> Any:
    """create_app(runtime): the SOAP endpoint is one of its routes."""
    return create_app(runtime)


@contextmanager
def serving(runtime: Runtime) -> Iterator[str]:
    """The runtime's app on a real threaded HTTP server; yields its base URL."""
    server = make_server("127.0.0.1", 0, soap_app(runtime), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def live_server(committed_runtime: Runtime) -> Iterator[LiveServer]:
    """The app on a real threaded HTTP server, committing to the test database."""
    with serving(committed_runtime) as url:
        yield LiveServer(url, committed_runtime)


class Qbwc:
    """QBWC's calls one at a time over real HTTP, for tests that play out of order."""

    def __init__(self, url: str) -> None:
        self.client = SoapClient(url)

    def close_client(self) -> None:
        """Close the keep-alive connection."""
        self.client.close()

    def authenticate(self, username: str, password: str) -> list[str]:
        """authenticate's [ticket, status]."""
        return result_strings(
            self.client.call("authenticate", [("strUserName", username), ("strPassword", password)])
        )

    def send(
        self,
        ticket: str,
        *,
        hcp: str = "",
        company_file: str = "C:\\Books\\a.qbw",
        major: int = 13,
        minor: int = 0,
    ) -> str:
        """sendRequestXML's qbXML (or "")."""
        return result_text(
            self.client.call(
                "sendRequestXML",
                [
                    ("ticket", ticket),
                    ("strHCPResponse", hcp),
                    ("strCompanyFileName", company_file),
                    ("qbXMLCountry", "US"),
                    ("qbXMLMajorVers", major),
                    ("qbXMLMinorVers", minor),
                ],
            )
        )

    def receive(self, ticket: str, response: str = "", hresult: str = "", message: str = "") -> int:
        """receiveResponseXML's progress."""
        return int(
            result_text(
                self.client.call(
                    "receiveResponseXML",
                    [
                        ("ticket", ticket),
                        ("response", response),
                        ("hresult", hresult),
                        ("message", message),
                    ],
                )
            )
        )

    def text(self, method: str, ticket: str, **more: str) -> str:
        """A string-valued call: getLastError, closeConnection, connectionError..."""
        return result_text(self.client.call(method, [("ticket", ticket), *more.items()]))


@pytest.fixture
def qbwc(live_server: LiveServer) -> Iterator[Qbwc]:
    """A QBWC call helper on the live server."""
    helper = Qbwc(live_server.qbwc)
    try:
        yield helper
    finally:
        helper.close_client()


@dataclass
class Connected:
    """A tenant's connection with its plain QBWC credentials."""

    team_id: str
    company: str
    username: str
    password: str
    tenant_id: int
    connection_id: int


def connect(
    runtime: Runtime,
    team_id: str = "T100",
    company: str = "Acme Books",
    *,
    baseline_done: bool = True,
    backfill_days: int | None = None,
) -> Connected:
    """Create (or reuse) a tenant with an installation and a default route; add a connection."""
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db) or service.upsert_tenant(
            team_id, f"Team {team_id}", db_session=db
        )
        if tenant.installation is None:
            save_installation(
                tenant,
                cipher=runtime.cipher,
                bot_token=f"xoxb-{team_id}",
                bot_user_id="UBOT",
                installer_user_id="UINSTALLER",
                db_session=db,
            )
            set_route(tenant.id, "default", "CDEFAULT", db_session=db)
        creds = service.add_connection(tenant, company, db_session=db)
        conn = service.require_connection(team_id, company, db_session=db)
        conn.baseline_done = baseline_done
        conn.backfill_days = backfill_days
        assert creds.password is not None
        return Connected(team_id, company, creds.username, creds.password, tenant.id, conn.id)


def events(runtime: Runtime, **where: Any) -> list[Event]:
    """Events matching column == value filters, oldest first."""
    with runtime.transaction() as db:
        stmt = select(Event).order_by(Event.id)
        for column, value in where.items():
            stmt = stmt.where(getattr(Event, column) == value)
        return list(db.scalars(stmt))


def count_events(runtime: Runtime, **where: Any) -> int:
    """How many events match column == value filters."""
    with runtime.transaction() as db:
        stmt = select(func.count()).select_from(Event)
        for column, value in where.items():
            stmt = stmt.where(getattr(Event, column) == value)
        return int(db.scalar(stmt) or 0)


def connection(runtime: Runtime, connection_id: int) -> Connection:
    """A fresh copy of a connection row."""
    with runtime.transaction() as db:
        conn = db.get(Connection, connection_id)
        assert conn is not None
        return conn


def watermarks(runtime: Runtime, connection_id: int) -> dict[str, str | None]:
    """A connection's watermarks by entity."""
    with runtime.transaction() as db:
        rows = db.scalars(select(Watermark).where(Watermark.connection_id == connection_id))
        return {w.entity: w.value for w in rows}


def envelope(method: str, inner: str = "", *, declaration: bool = True) -> str:
    """A raw SOAP 1.1 envelope, inner XML as given (not escaped)."""
    head = '<?xml version="1.0" encoding="utf-8"?>' if declaration else ""
    return (
        f'{head}<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>'
        f'<{method} xmlns="{QBWC_NS}">{inner}</{method}></soap:Body></soap:Envelope>'
    )


def params(**values: object) -> str:
    """Escaped parameter elements for envelope()."""
    return "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in values.items())


def post(client: Any, body: bytes | str, **headers: str) -> Any:
    """POST a body to /qbwc with the Flask test client."""
    return client.post("/qbwc", data=body, headers={"Content-Type": "text/xml", **headers})


def fault_string(data: bytes) -> str | None:
    """The faultstring of a SOAP Fault answer, or None."""
    root = etree.fromstring(data)
    text: str | None = root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultstring")
    return text


def result_of(data: bytes, method: str) -> etree._Element | None:
    """The <methodResult> element of a SOAP answer."""
    root = etree.fromstring(data)
    path = f"{{{SOAP_ENV}}}Body/{{{QBWC_NS}}}{method}Response/{{{QBWC_NS}}}{method}Result"
    return root.find(path)


def edit_response(response: str, tag: str, **attributes: str) -> str:
    """A qbXML response with attributes of its <tag> answer changed (data left as is)."""
    root = etree.fromstring(response.encode())
    for rs in root.iter(tag):
        for name, value in attributes.items():
            rs.set(name, value)
    edited: str = etree.tostring(root, encoding="unicode")
    return edited


def paged_session(runtime: Runtime, qbwc: Any, *, bills: int) -> tuple[Any, Any, Any, str]:
    """A connection, a company with more bills than one page, its answerer and a ticket."""
    c = connect(runtime)
    company = FakeCompany()
    company.generate(vendors=2, bills=bills)
    ticket = qbwc.authenticate(c.username, c.password)[0]
    return c, company, Answerer(company), ticket
