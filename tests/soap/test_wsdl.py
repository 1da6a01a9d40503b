"""The SOAP surface: WSDL compatible with Intuit's, the simple methods, mounting."""

from __future__ import annotations

from lxml import etree

from soap.calls import Qbwc
from soap.client_versions import client_version_answer
from soap.service import SERVER_VERSION, build_application
from tests.support.paths import REFERENCE
from tests.support.soap import envelope, params, post, result_of

REFERENCE_WSDL = REFERENCE / "qbwc" / "QBWebConnectorSvc.wsdl"
XS = "{http://www.w3.org/2001/XMLSchema}"
WSDL = "{http://schemas.xmlsoap.org/wsdl/}"
WSDL_SOAP = "{http://schemas.xmlsoap.org/wsdl/soap/}"


def _schema(doc: etree._Element) -> dict[str, list[tuple[str, str]]]:
    """Top-level elements -> [(child name, xs type local name)], inline or by named type."""
    types = {t.get("name"): t for t in doc.iter(XS + "complexType") if t.get("name")}
    out = {}
    for el in doc.iter(XS + "element"):
        if not el.get("name") or el.getparent().tag != XS + "schema":
            continue
        body = types.get((el.get("type") or "").split(":")[-1], el)
        out[el.get("name")] = [
            (c.get("name"), (c.get("type") or "").split(":")[-1])
            for c in body.iter(XS + "element")
            if c is not el
        ]
    return out


def _operations(doc: etree._Element) -> dict[str, tuple[str, str]]:
    """Operation -> (input element, output element), through the messages."""
    messages = {
        m.get("name"): m.find(WSDL + "part").get("element").split(":")[-1]
        for m in doc.iter(WSDL + "message")
    }
    ops = {}
    for op in doc.find(WSDL + "portType").iter(WSDL + "operation"):
        inp = op.find(WSDL + "input").get("message").split(":")[-1]
        out = op.find(WSDL + "output").get("message").split(":")[-1]
        ops[op.get("name")] = (messages[inp], messages[out])
    return ops


def test_wsdl_matches_intuits(client):
    resp = client.get("/qbwc?wsdl")
    assert resp.status_code == 200 and resp.mimetype == "text/xml"
    ours, ref = etree.fromstring(resp.data), etree.parse(str(REFERENCE_WSDL)).getroot()
    assert (
        ours.get("targetNamespace") == ref.get("targetNamespace") == "http://developer.intuit.com/"
    )
    ours_ops, ref_ops = _operations(ours), _operations(ref)
    for name, elements in ref_ops.items():  # same operations, same element names
        assert ours_ops.get(name) == elements, name
    # Plus the interactive-mode methods of QBWC 2.0 (the Guide), which the file lacks.
    assert set(ours_ops) - set(ref_ops) == {
        "getInteractiveURL",
        "interactiveDone",
        "interactiveRejected",
    }
    ours_el, ref_el = _schema(ours), _schema(ref)
    for name, children in ref_el.items():
        assert ours_el.get(name) == children, name  # parameter names, order and types
    assert ours_el["ArrayOfString"] == [("string", "string")]
    binding = ours.find(WSDL + "binding")
    assert binding.find(WSDL_SOAP + "binding").get("style") == "document"
    assert (
        binding.find(WSDL_SOAP + "binding").get("transport")
        == "http://schemas.xmlsoap.org/soap/http"
    )
    actions = {op.get("soapAction") for op in binding.iter(WSDL_SOAP + "operation")}
    assert "http://developer.intuit.com/authenticate" in actions
    assert all(a.startswith("http://developer.intuit.com/") for a in actions)
    # The advertised endpoint is PUBLIC_URL's, not whatever Host header came in.
    address = ours.find(f"{WSDL}service/{WSDL}port/{WSDL_SOAP}address")
    assert address.get("location") == "https://qbslack.example.com/qbwc"
    assert client.get("/qbwc?WSDL").data == resp.data  # cached, case-insensitive


def test_get_without_wsdl_is_a_short_note(client):
    resp = client.get("/qbwc")
    assert resp.status_code == 200 and b"?wsdl" in resp.data


def test_simple_methods_answer_as_the_guide_says(client):
    cases = {
        "serverVersion": ("", SERVER_VERSION),
        "clientVersion": (params(strVersion="2.3.0.215"), ""),
        "getInteractiveURL": (params(wcTicket="t", sessionID="s"), ""),
        "interactiveDone": (params(wcTicket="t"), "Done"),
        "interactiveRejected": (params(wcTicket="t", reason="user said no"), ""),
        "getLastError": (params(ticket="unknown"), None),
        "closeConnection": (params(ticket="unknown"), "OK"),
        "connectionError": (params(ticket="unknown", hresult="0x80040408", message="x"), "done"),
    }
    for method, (inner, expected) in cases.items():
        resp = post(client, envelope(method, inner))
        assert resp.status_code == 200, (method, resp.data)
        result = result_of(resp.data, method)
        assert result is not None, method
        if expected is not None:
            assert (result.text or "") == expected, method
    assert SERVER_VERSION.startswith("qbslack ")
    last = result_of(
        post(client, envelope("getLastError", params(ticket="x"))).data, "getLastError"
    )
    assert last is not None
    assert "expired or is unknown" in last.text


def test_client_version_warns_only_before_2_0():
    assert client_version_answer("1.5.0.0").startswith("W:")
    assert "1.5.0.0" in client_version_answer("1.5.0.0")
    for fine in ("2.0.0.0", "2.0.1.30", "2.1.0.30", "2.3.0.215", "", None, "garbage"):
        assert client_version_answer(fine) == "", fine


def test_the_app_mounts_qbwc_once_and_spyne_parser_is_hardened(app, runtime):
    assert [r.rule for r in app.url_map.iter_rules()].count("/qbwc") == 1
    kwargs = build_application(Qbwc.for_runtime(runtime)).in_protocol.parser_kwargs
    assert kwargs["resolve_entities"] is False and kwargs["load_dtd"] is False
    assert kwargs["no_network"] is True and kwargs["huge_tree"] is False
