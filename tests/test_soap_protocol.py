"""The QBWC protocol edges: WSDL, credentials, tickets, ordering, hostile input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree
from sqlalchemy import func, select

from app import create_app
from app.runtime import Runtime
from jobs.models import Event
from soap.simulator import FakeCompany, QBWCSimulator, SoapClient, SoapFault
from soap.simulator.qbwc_client import result_strings, result_text
from soap.simulator.qbxml_answer import Answerer
from tenants.models import Connection, Watermark
from tenants.routes import set_route
from tests.fixtures_soap import connect

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
REFERENCE_WSDL = REFERENCE / "qbwc" / "QBWebConnectorSvc.wsdl"
S = "{http://www.w3.org/2001/XMLSchema}"
W = "{http://schemas.xmlsoap.org/wsdl/}"


def count_events(runtime, **where):
    with runtime.transaction() as db:
        stmt = select(func.count()).select_from(Event)
        for k, v in where.items():
            stmt = stmt.where(getattr(Event, k) == v)
        return db.scalar(stmt)


def post(client, body: bytes | str, **headers):
    return client.post("/qbwc", data=body, headers={"Content-Type": "text/xml", **headers})


def envelope(method: str, inner: str) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap='
            '"http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            f'<{method} xmlns="http://developer.intuit.com/">{inner}</{method}>'
            "</soap:Body></soap:Envelope>")


def _elements(doc) -> dict[str, list[str]]:
    """Top-level schema elements and their child element names (inline or by type)."""
    types = {t.get("name"): t for t in doc.iter(S + "complexType") if t.get("name")}
    out = {}
    for el in doc.iter(S + "element"):
        if not el.get("name") or el.getparent().tag != S + "schema":
            continue
        body = el
        if el.get("type"):
            body = types.get(el.get("type").split(":")[-1], el)
        out[el.get("name")] = [c.get("name") for c in body.iter(S + "element") if c is not el]
    return out


def test_wsdl_matches_intuits(client):
    ours = etree.fromstring(client.get("/qbwc?wsdl").data)
    ref = etree.parse(str(REFERENCE_WSDL)).getroot()
    ref_ops = {op.get("name") for op in ref.iter(W + "operation")}
    our_ops = {op.get("name") for op in ours.iter(W + "operation")}
    assert ref_ops <= our_ops
    ours_el, ref_el = _elements(ours), _elements(ref)
    for name, children in ref_el.items():
        if name == "serverVersion":  # Intuit's sample takes strVersion; QBWC sends none
            continue
        assert name in ours_el, name
        assert children == ours_el[name], (name, children, ours_el[name])
    namespaces = {t.get("targetNamespace") for t in ours.iter(S + "schema")}
    assert "http://developer.intuit.com/" in namespaces


def test_malformed_hostile_and_oversize_bodies(engine, session_factory, redis_conn):
    from jobs.queue import RQJobQueue
    from tests.conftest import make_settings

    rt = Runtime.from_settings(make_settings(max_soap_body_bytes=50_000), engine=engine,
                               session_factory=session_factory, redis=redis_conn,
                               jobs=RQJobQueue(redis_conn))
    c = create_app(rt).test_client()
    xxe = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           + envelope("clientVersion", "<strVersion>&e;</strVersion>")[21:])
    laughs = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
              '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>')
    xinclude = envelope("clientVersion", '<strVersion><xi:include xmlns:xi='
                        '"http://www.w3.org/2001/XInclude" href="/etc/passwd"/></strVersion>')
    cases = [b"<garbage", b"", xxe, laughs, xinclude, "\xff\xfe<x/>".encode("latin-1"),
             "<a>caf\xe9</a>".encode("latin-1"), "<Envelope/>",
             envelope("noSuchMethod", ""),
             envelope("authenticate", "<strUserName>x</strUserName>").replace(
                 "http://developer.intuit.com/", "urn:wrong")]
    for body in cases:
        resp = post(c, body)
        text = resp.get_data(as_text=True)
        assert resp.status_code == 500, (body, text)
        assert "Fault" in text and "Traceback" not in text and "root:" not in text
    big = post(c, b"<x>" + b"a" * 60_000 + b"</x>")
    assert big.status_code == 413 and "Fault" in big.get_data(as_text=True)
    # Missing parameters are a clean nvu, not a crash.
    resp = post(c, envelope("authenticate", ""))
    assert resp.status_code == 200 and b"nvu" in resp.data


def test_wrong_password_and_lockout_across_processes(live_server, engine):
    rt = live_server.runtime
    c = connect(rt)
    other = Runtime.from_settings(rt.settings, engine=None, redis=rt.redis)  # own pool
    other_app = create_app(other).test_client()
    first = SoapClient(live_server.qbwc)

    def auth(password, via_other=False):
        if via_other:
            body = envelope("authenticate", f"<strUserName>{c.username}</strUserName>"
                                            f"<strPassword>{password}</strPassword>")
            root = etree.fromstring(post(other_app, body).data)
            return [s.text or "" for s in root.iter("{http://developer.intuit.com/}string")]
        return result_strings(first.call("authenticate", [("strUserName", c.username),
                                                           ("strPassword", password)]))

    assert auth("wrong")[1] == "nvu"
    for i in range(9):  # failures alternate between two "processes"
        assert auth("wrong", via_other=i % 2 == 0)[1] == "nvu"
    assert auth(c.password)[1] == "nvu"  # locked, even with the right password
    assert auth(c.password, via_other=True)[1] == "nvu"
    with rt.transaction() as db:
        conn = db.get(Connection, c.connection_id)
        assert conn.locked_until is not None
        conn.locked_until = conn.locked_until - dt.timedelta(minutes=16)
    ticket, status = auth(c.password)
    assert ticket and status == ""
    first.close()
    other.close()


def test_tickets_belong_to_one_connection_and_expire(live_server):
    rt = live_server.runtime
    a = connect(rt, "TA", "A Books")
    b = connect(rt, "TB", "B Books")
    client = SoapClient(live_server.qbwc)
    ticket_a = result_strings(client.call("authenticate", [("strUserName", a.username),
                                                           ("strPassword", a.password)]))[0]
    company = FakeCompany.from_fixture()
    request = result_text(client.call("sendRequestXML", [
        ("ticket", ticket_a), ("strHCPResponse", ""), ("strCompanyFileName", "a.qbw"),
        ("qbXMLCountry", "US"), ("qbXMLMajorVers", 13), ("qbXMLMinorVers", 0)]))
    progress = int(result_text(client.call("receiveResponseXML", [
        ("ticket", ticket_a), ("response", Answerer(company).answer(request)),
        ("hresult", ""), ("message", "")])))
    assert progress == 100
    with rt.transaction() as db:
        owners = set(db.scalars(select(Event.connection_id)))
        assert owners == {a.connection_id}
        assert not db.scalars(select(Watermark).where(
            Watermark.connection_id == b.connection_id)).all()
    # Unknown, closed and expired tickets are refused and touch nothing.
    before = count_events(rt)
    for bad in ("made-up-ticket", ""):
        assert int(result_text(client.call("receiveResponseXML", [
            ("ticket", bad), ("response", Answerer(company).answer(request)),
            ("hresult", ""), ("message", "")]))) < 0
    result_text(client.call("closeConnection", [("ticket", ticket_a)]))
    assert result_text(client.call("sendRequestXML", [
        ("ticket", ticket_a), ("strHCPResponse", ""), ("strCompanyFileName", ""),
        ("qbXMLCountry", "US"), ("qbXMLMajorVers", 13), ("qbXMLMinorVers", 0)])) == ""
    assert "expired or is unknown" in result_text(
        client.call("getLastError", [("ticket", ticket_a)]))
    assert count_events(rt) == before
    client.close()


def test_resent_response_and_reauthentication_create_no_duplicates(live_server):
    rt = live_server.runtime
    c = connect(rt)
    company = FakeCompany.from_fixture()
    client = SoapClient(live_server.qbwc)

    def start():
        ticket = result_strings(client.call("authenticate", [("strUserName", c.username),
                                                             ("strPassword", c.password)]))[0]
        request = result_text(client.call("sendRequestXML", [
            ("ticket", ticket), ("strHCPResponse", ""), ("strCompanyFileName", "f.qbw"),
            ("qbXMLCountry", "US"), ("qbXMLMajorVers", 13), ("qbXMLMinorVers", 0)]))
        return ticket, request

    ticket, request = start()
    # QBWC restarts before answering: authenticate again while a response was pending.
    ticket2, request2 = start()
    assert int(result_text(client.call("receiveResponseXML", [
        ("ticket", ticket), ("response", Answerer(company).answer(request)),
        ("hresult", ""), ("message", "")]))) < 0  # the old session is closed
    response = Answerer(company).answer(request2)
    args = [("ticket", ticket2), ("response", response), ("hresult", ""), ("message", "")]
    assert int(result_text(client.call("receiveResponseXML", args))) == 100
    total = count_events(rt)
    assert int(result_text(client.call("receiveResponseXML", args))) == 100  # resent
    assert count_events(rt) == total > 0
    client.close()


def test_versions_too_old_get_clear_messages(live_server):
    rt = live_server.runtime
    c = connect(rt)
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, FakeCompany(),
                           qbxml_major=7, qbxml_minor=0, client_version="2.0.0.1").run()
    assert report.client_version_answer.startswith("W:")
    assert not report.ok and "needs qbXML 8.0" in report.last_error
    with rt.transaction() as db:
        assert "update QuickBooks" in db.get(Connection, c.connection_id).last_error.replace(
            "Please update", "update")


def test_opt_in_account_and_employee_when_routed(live_server):
    rt = live_server.runtime
    c = connect(rt)
    with rt.transaction() as db:
        set_route(c.tenant_id, "account", "CACC", db_session=db)
        set_route(c.tenant_id, "employee", "CEMP", db_session=db)
    company = FakeCompany()
    company.add_account("Rent")
    company.add_employee("Bob Smith")
    report = QBWCSimulator(live_server.qbwc, c.username, c.password, company).run()
    assert report.ok and "AccountQueryRq" in report.requests[0]
    assert "<ListDelType>Account</ListDelType>" in report.requests[0]
    assert count_events(rt, event_type="account") == 1
    assert count_events(rt, event_type="employee") == 1


def test_daylight_saving_fall_back_hour_is_not_missed(live_server):
    rt = live_server.runtime
    c = connect(rt)
    company = FakeCompany(tz_offset="-07:00")
    company.now = dt.datetime.now().replace(microsecond=0) - dt.timedelta(hours=3)
    company.add_bill("Acme", "10.00", ref_number="BEFORE")
    assert QBWCSimulator(live_server.qbwc, c.username, c.password, company).run().ok
    # Clocks fall back an hour; QuickBooks keeps reporting the summer offset.
    company.now -= dt.timedelta(minutes=50)
    company.add_bill("Acme", "20.00", ref_number="REPEATED-HOUR")
    assert QBWCSimulator(live_server.qbwc, c.username, c.password, company).run().ok
    assert count_events(rt, ref_number="REPEATED-HOUR") == 1
    assert count_events(rt, ref_number="BEFORE") == 1


def test_hostile_qbxml_inside_response_is_refused(live_server):
    rt = live_server.runtime
    c = connect(rt)
    client = SoapClient(live_server.qbwc)
    ticket = result_strings(client.call("authenticate", [("strUserName", c.username),
                                                         ("strPassword", c.password)]))[0]
    client.call("sendRequestXML", [("ticket", ticket), ("strHCPResponse", ""),
                                   ("strCompanyFileName", ""), ("qbXMLCountry", "US"),
                                   ("qbXMLMajorVers", 13), ("qbXMLMinorVers", 0)])
    xxe = ('<?xml version="1.0"?><!DOCTYPE q [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           '<QBXML><QBXMLMsgsRs><VendorQueryRs requestID="vendor" statusCode="0" '
           'statusSeverity="Info" statusMessage="&e;"/></QBXMLMsgsRs></QBXML>')
    progress = int(result_text(client.call("receiveResponseXML", [
        ("ticket", ticket), ("response", xxe), ("hresult", ""), ("message", "")])))
    assert progress < 0
    error = result_text(client.call("getLastError", [("ticket", ticket)]))
    assert "DOCTYPE" in error and "root:" not in error
    assert count_events(rt) == 0
    try:
        client.call("clientVersion", [("strVersion", escape("<x>"))])
    except SoapFault:  # pragma: no cover - escaped text is fine
        raise
    client.close()


def test_password_reset_forgets_a_remembered_login(live_server):
    from tenants import service

    rt = live_server.runtime
    c = connect(rt)
    client = SoapClient(live_server.qbwc)
    login = [("strUserName", c.username), ("strPassword", c.password)]
    assert result_strings(client.call("authenticate", login))[1] == ""
    assert result_strings(client.call("authenticate", login))[1] == ""  # remembered
    with rt.transaction() as db:
        conn = db.get(Connection, c.connection_id)
        service.credentials(conn, reset=True, db_session=db)
    assert result_strings(client.call("authenticate", login))[1] == "nvu"
    client.close()
