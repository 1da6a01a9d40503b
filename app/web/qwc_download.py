"""Signed, expiring links that download a connection's .qwc file."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Flask, Response
from itsdangerous import BadSignature, SignatureExpired

from app.core.runtime import Runtime
from tenants.models import Connection
from tenants.qwc import build_qwc, qwc_filename, read_qwc_link


def content_disposition(name: str) -> str:
    """An attachment header with an ASCII fallback name and the UTF-8 one (RFC 6266)."""
    fallback = name.encode("ascii", "replace").decode("ascii").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def register(app: Flask, runtime: Runtime) -> None:
    """Serve GET /qwc/<token>."""
    bp = Blueprint("qwc", __name__)

    @bp.get("/qwc/<token>")
    def download(token: str) -> Response:
        try:
            connection_id, tenant_id = read_qwc_link(runtime.settings, token)
        except SignatureExpired:
            return Response(
                "This download link has expired: open qbslack's App Home in Slack for a new one.\n",
                status=410,
                mimetype="text/plain",
            )
        except BadSignature:
            return Response("Unknown download link.\n", status=404, mimetype="text/plain")
        with runtime.transaction() as db:
            conn = db.get(Connection, connection_id)
            if conn is None or conn.tenant_id != tenant_id:
                return Response("Unknown download link.\n", status=404, mimetype="text/plain")
            xml = build_qwc(
                conn,
                public_url=runtime.settings.public_url,
                run_every_minutes=runtime.settings.qbwc_run_every_minutes,
            )
            name = qwc_filename(conn)
        resp = Response(xml, mimetype="application/xml")
        resp.headers["Content-Disposition"] = content_disposition(name)
        resp.headers["Cache-Control"] = "no-store"
        return resp

    app.register_blueprint(bp)
