"""The signed .qwc download link: valid, expired, tampered, and file names."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from lxml import etree
from sqlalchemy import select

from app.web.qwc_download import content_disposition
from tenants import service
from tenants.models import Connection, Tenant
from tenants.qwc import qwc_link
from tests.support.slack import SlackHarness


def link_path(slack: SlackHarness, conn: Connection | None = None) -> tuple[str, Connection]:
    with slack.runtime.transaction() as db:
        conn = conn or db.scalars(select(Connection)).first()
        assert conn is not None
        return urlsplit(qwc_link(slack.runtime.settings, conn)).path, conn


def test_valid_link_serves_the_qwc_as_an_attachment(installed):
    path, conn = link_path(installed)
    assert path.startswith("/qwc/")
    ok = installed.client.get(path)
    assert ok.status_code == 200 and ok.mimetype == "application/xml"
    assert ok.headers["Content-Disposition"].startswith('attachment; filename="Firm-T1.qwc"')
    assert ok.headers["Cache-Control"] == "no-store"
    root = etree.fromstring(ok.get_data())
    assert root.tag == "QBWCXML"
    assert root.findtext("UserName") == conn.qbwc_username
    assert root.findtext("AppURL") == "https://qbslack.example.com/qbwc"
    assert root.findtext("FileID") == conn.file_id


def test_tampered_or_foreign_links_are_404_without_a_trace(installed):
    path, conn = link_path(installed)
    for bad in (path[:-3] + "abc", "/qwc/not-a-token", path + "x"):
        resp = installed.client.get(bad)
        assert resp.status_code == 404, bad
        assert "Traceback" not in resp.get_data(as_text=True)
    # Signed with another secret key.
    other = URLSafeTimedSerializer("another-secret", salt="qbslack-qwc")
    assert (
        installed.client.get("/qwc/" + other.dumps({"c": conn.id, "t": conn.tenant_id})).status_code
        == 404
    )
    # A genuine token naming another workspace's connection.
    ours = URLSafeTimedSerializer(installed.runtime.settings.secret_key, salt="qbslack-qwc")
    resp = installed.client.get("/qwc/" + ours.dumps({"c": conn.id, "t": conn.tenant_id + 1}))
    assert resp.status_code == 404


def test_expired_link_is_410_with_a_clear_message(installed):
    _, conn = link_path(installed)

    class ElevenMinutesAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 660

    old = URLSafeTimedSerializer(
        installed.runtime.settings.secret_key, salt="qbslack-qwc", signer=ElevenMinutesAgo
    )
    expired = installed.client.get("/qwc/" + old.dumps({"c": conn.id, "t": conn.tenant_id}))
    body = expired.get_data(as_text=True)
    assert expired.status_code == 410 and "expired" in body and "App Home" in body

    class NineMinutesAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 540

    recent = URLSafeTimedSerializer(
        installed.runtime.settings.secret_key, salt="qbslack-qwc", signer=NineMinutesAgo
    )
    assert (
        installed.client.get(
            "/qwc/" + recent.dumps({"c": conn.id, "t": conn.tenant_id})
        ).status_code
        == 200
    )


def test_non_ascii_company_names_download_safely(installed):

    slack = installed
    with slack.runtime.transaction() as db:
        tenant = db.scalar(select(Tenant))
        service.add_connection(tenant, "Café Tōkyō 会社", db_session=db)
        conn = db.scalar(select(Connection).where(Connection.company_name.like("Caf%")))
        path = urlsplit(qwc_link(slack.runtime.settings, conn)).path
    resp = slack.client.get(path)
    header = resp.headers["Content-Disposition"]
    assert resp.status_code == 200 and header.isascii()
    assert "filename*=UTF-8''Caf%C3%A9-T%C5%8Dky%C5%8D-%E4%BC%9A%E7%A4%BE.qwc" in header
    assert content_disposition("a b.qwc") == (
        "attachment; filename=\"a b.qwc\"; filename*=UTF-8''a%20b.qwc"
    )
