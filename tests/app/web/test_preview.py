"""/dev/preview: development settings only; events as messages, threads under their parents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from lxml import html as lxml_html
from redis import Redis

from app import create_app
from app.core.runtime import Runtime
from app.web.preview import is_development
from jobs.enums import EventStatus
from jobs.models import Event
from jobs.outbox import EventRow, add_events
from tests.conftest import make_settings
from tests.support.browser import development_runtime
from tests.support.soap import Connected, connect

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def dev(tmp_path, redis_conn: Redis) -> Iterator[Runtime]:
    """A development runtime on a fresh SQLite file."""
    with development_runtime(tmp_path, redis_conn) as rt:
        yield rt


@pytest.fixture
def dev_client(dev: Runtime) -> FlaskClient:
    return create_app(dev).test_client()


def add(rt: Runtime, c: Connected, minute: int, **row: Any) -> int:
    """One event of the connection, modified in QuickBooks at T0 + minute; returns its id."""
    when = T0 + dt.timedelta(minutes=minute)
    payload = row.pop("payload", {})
    values: dict[str, Any] = {
        "tenant_id": c.tenant_id,
        "connection_id": c.connection_id,
        "event_type": "bill",
        "action": "created",
        "object_type": "Bill",
        "object_id": f"TXN-{minute}",
        "edit_sequence": str(minute),
        "counterparty": payload.get("name"),
        "payload": payload,
        "status": EventStatus.PENDING,
        "sort_key": when,
        "created_at": when,
        "updated_at": when,
        "channel_id": "CDEFAULT",
    }
    values.update(row)
    posted = {k: values.pop(k) for k in ("slack_ts", "thread_ts") if k in values}
    with rt.transaction() as db:
        (created,) = add_events([EventRow(**values)], db_session=db)  # type: ignore[typeddict-item]
        if posted:
            event = db.get(Event, created.id)
            assert event is not None
            for key, value in posted.items():
                setattr(event, key, value)
    return created.id


def bill(name: str, amount: str, ref: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "amount": amount, "ref_number": ref, **more}


def page(client: FlaskClient, query: str = "") -> tuple[int, Any, str]:
    resp = client.get("/dev/preview" + query)
    text = resp.get_data(as_text=True)
    return resp.status_code, lxml_html.fromstring(text), text


def top_level_ids(doc: Any) -> list[str]:
    return [el.get("id") for el in doc.xpath('//div[@class="messages"]/div[@class="msg"]')]


def reply_ids(doc: Any, parent_id: int) -> list[str]:
    thread = doc.xpath(
        f'//div[@id="event-{parent_id}"]/following-sibling::*[1][@class="thread"]/div[@class="msg"]'
    )
    return [el.get("id") for el in thread]


def test_only_development_settings_serve_it(runtime):
    assert not is_development(runtime.settings)  # PostgreSQL
    https = make_settings(database_url="sqlite:///x.db", public_url="https://qb.example.com")
    assert not is_development(https)  # an https PUBLIC_URL is a real deployment
    assert is_development(make_settings(database_url="sqlite:///x.db", public_url="http://h"))
    assert create_app(runtime).test_client().get("/dev/preview").status_code == 404


def test_an_https_sqlite_deployment_has_no_preview(tmp_path, redis_conn):
    with development_runtime(tmp_path, redis_conn) as rt:
        rt.settings = rt.settings.with_overrides(public_url="https://qb.example.com")
        assert create_app(rt).test_client().get("/dev/preview").status_code == 404


def test_without_a_workspace_it_says_how_to_start(dev_client):
    status, doc, text = page(dev_client)
    assert status == 200
    assert (
        "qbslack connect T0DEMO" in text
        and "qbslack simulate --url http://localhost:8000/qbwc" in text
    )


def test_events_render_as_messages_with_threads(dev, dev_client):
    c = connect(dev, "T100", "Acme Books")
    first = add(dev, c, 1, payload=bill("Acme Supply Co", "1250.00", "INV-77"))
    vendor = add(
        dev,
        c,
        2,
        event_type="vendor",
        object_type="Vendor",
        object_id="V-1",
        payload={"name": "Northwind Traders"},
    )
    edit = add(
        dev,
        c,
        3,
        action="updated",
        object_id="TXN-1",
        payload=bill("Acme Supply Co", "1300.00", "INV-77"),
    )
    paid = add(
        dev,
        c,
        4,
        event_type="bill_payment",
        object_type="BillPaymentCheck",
        object_id="PAY-1",
        payload={
            "name": "Acme Supply Co",
            "amount": "1300.00",
            "applied_to": [{"txn_id": "TXN-1", "ref_number": "INV-77", "amount": "1300.00"}],
        },
    )
    # Posted ones: a reply goes under the message posted with its thread_ts.
    parent = add(
        dev,
        c,
        5,
        status=EventStatus.POSTED,
        slack_ts="1700000000.000100",
        payload=bill("Bayside Freight", "80.00", "BF-1"),
    )
    reply = add(
        dev,
        c,
        6,
        action="deleted",
        object_id="TXN-5",
        status=EventStatus.POSTED,
        slack_ts="1700000000.000200",
        thread_ts="1700000000.000100",
        payload={"ref_number": "BF-1"},
    )
    orphan = add(
        dev,
        c,
        7,
        action="updated",
        object_id="TXN-OLD",
        status=EventStatus.POSTED,
        slack_ts="1700000000.000300",
        thread_ts="1600000000.000100",
        payload=bill("Old Vendor", "5.00", "OLD-1"),
    )
    failed = add(
        dev,
        c,
        8,
        status=EventStatus.FAILED,
        last_error="channel_not_found",
        payload=bill("Gone Channel Co", "9.00", "G-1"),
    )
    status, doc, text = page(dev_client)
    assert status == 200
    assert top_level_ids(doc) == [f"event-{i}" for i in (first, vendor, parent, orphan, failed)]
    assert reply_ids(doc, first) == [f"event-{edit}", f"event-{paid}"]
    assert reply_ids(doc, parent) == [f"event-{reply}"]
    assert reply_ids(doc, vendor) == []
    shown = doc.text_content()
    assert "Acme Supply Co" in shown and "1,250.00" in shown and "1,300.00" in shown
    assert "New bill" in shown and "Bill updated" in shown and "Bill deleted" in shown
    assert "2 replies" in shown and "1 reply" in shown
    assert "a reply in the thread of an earlier message" in shown
    assert "pending: not posted yet" in shown and "failed: Slack refused it" in shown
    assert "channel_not_found" in shown
    assert "Team T100" in shown and "# Acme Books" in shown  # the sidebar

    _, doc, _ = page(dev_client, "?team=T100&last=2")
    assert top_level_ids(doc) == [f"event-{orphan}", f"event-{failed}"]
    _, doc, _ = page(dev_client, "?team=T100&last=nope")
    assert len(top_level_ids(doc)) == 5


def test_company_filter_and_unknown_names(dev, dev_client):
    a = connect(dev, "T100", "Acme Books")
    b = connect(dev, "T100", "Client Two")
    add(dev, a, 1, payload=bill("Acme Supply Co", "1250.00", "INV-77", company="Acme Books"))
    add(dev, b, 2, payload=bill("Two's Vendor", "42.00", "T-1", company="Client Two"))
    _, doc, _ = page(dev_client)
    shown = doc.text_content()
    assert "Acme Supply Co" in shown and "Two's Vendor" in shown
    assert "Client Two" in shown  # several company files: each message names its company
    _, doc, _ = page(dev_client, "?team=T100&company=client+two")
    shown = doc.text_content()
    assert "Two's Vendor" in shown and "Acme Supply Co" not in shown
    status, doc, _ = page(dev_client, "?team=T100&company=Nope")
    assert status == 404 and "Nope" in doc.text_content()
    status, doc, _ = page(dev_client, "?team=T404")
    assert status == 404 and "T404" in doc.text_content()


def test_quickbooks_text_is_never_markup(dev, dev_client):
    c = connect(dev, "T100", "<b>Books</b>")
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)"> *<#C1|x>*'
    add(
        dev,
        c,
        1,
        payload=bill(hostile, "1.00", "<i>R</i>", memo="`</code><script>`", terms=hostile),
    )
    status, doc, text = page(dev_client)
    assert status == 200
    assert not doc.xpath("//script") and not doc.xpath("//img") and not doc.xpath("//i")
    assert "<script>alert(1)</script>" in doc.text_content()  # shown as text, as Slack would
    assert "<b>Books</b>" in doc.text_content() and not doc.xpath("//b[text()='Books']")
