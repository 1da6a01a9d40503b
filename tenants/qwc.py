"""The .qwc file QBWC imports to register one company-file connection."""

from __future__ import annotations

from urllib.parse import urlsplit

from itsdangerous import URLSafeTimedSerializer
from lxml import etree

from app.core.settings import Settings
from tenants.models import Connection

# One OwnerID for the qbslack app; FileID is per connection (both GUIDs in braces).
OWNER_ID = "{6F1B5C3E-2A47-4D8B-9C0E-5B7A1D2F3E41}"
LINK_TTL = 600  # seconds a .qwc download link works
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def qbwc_url(public_url: str) -> str:
    """The SOAP endpoint URL; QBWC accepts plain http only for localhost."""
    parts = urlsplit(public_url)
    if parts.scheme != "https" and (parts.scheme != "http" or parts.hostname not in LOCAL_HOSTS):
        raise ValueError("PUBLIC_URL must be https (QBWC allows http only for localhost)")
    return public_url.rstrip("/") + "/qbwc"


def qwc_filename(conn: Connection) -> str:
    """A safe download file name for a connection's .qwc."""
    safe = "".join(ch if ch.isalnum() or ch in "-_ " else "_" for ch in conn.company_name)
    return (safe.strip().replace(" ", "-") or "company") + ".qwc"


def build_qwc(conn: Connection, *, public_url: str, run_every_minutes: int) -> str:
    """The .qwc XML for one connection; the connection remembers the interval it hands out."""
    # The stale check expects a poll every RunEveryNMinutes of the .qwc the PC was given.
    conn.run_every_minutes = max(1, run_every_minutes)
    base = public_url.rstrip("/")
    fields = [
        ("AppName", f"qbslack - {conn.company_name}"),  # no username: the .qwc is passed around
        ("AppID", ""),
        ("AppURL", qbwc_url(base)),
        (
            "AppDescription",
            f"Posts QuickBooks changes of {conn.company_name} to Slack (read-only).",
        ),
        ("AppSupport", base + "/support"),
        ("UserName", conn.qbwc_username),
        ("OwnerID", OWNER_ID),
        ("FileID", conn.file_id),
        ("QBType", "QBFS"),
        ("IsReadOnly", "true"),
        # Read-only and no personal data: QuickBooks then offers to let qbslack in even when
        # it is not running (unattended mode), so the Web Connector can open the bound file.
        ("UnattendedModePref", "umpOptional"),
        ("PersonalDataPref", "pdpNotNeeded"),
        ("Style", "Document"),
    ]
    root = etree.Element("QBWCXML")
    for tag, value in fields:
        etree.SubElement(root, tag).text = value
    scheduler = etree.SubElement(root, "Scheduler")
    etree.SubElement(scheduler, "RunEveryNMinutes").text = str(max(1, run_every_minutes))
    body: str = etree.tostring(root, pretty_print=True, encoding="unicode")
    return '<?xml version="1.0"?>\n' + body


def _link_serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="qbslack-qwc")


def qwc_link(settings: Settings, conn: Connection) -> str:
    """A link to the connection's .qwc that works for LINK_TTL seconds."""
    token = _link_serializer(settings).dumps({"c": conn.id, "t": conn.tenant_id})
    return f"{settings.public_url}/qwc/{token}"


def read_qwc_link(settings: Settings, token: str) -> tuple[int, int]:
    """The (connection id, tenant id) a link names; itsdangerous' errors when it is bad or old."""
    data = _link_serializer(settings).loads(token, max_age=LINK_TTL)
    return int(data.get("c", 0)), int(data.get("t", 0))
