"""Fixtures for SOAP tests: a live threaded server and connected tenants."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.runtime import Runtime
from tenants import service
from tenants.installations import save_installation
from tenants.routes import set_route


@dataclass
class LiveServer:
    """A real HTTP server running the app in a thread."""

    url: str
    runtime: Runtime

    @property
    def qbwc(self) -> str:
        """The SOAP endpoint URL."""
        return self.url + "/qbwc"


@pytest.fixture
def live_server(committed_runtime: Runtime) -> Iterator[LiveServer]:
    """The app on a real threaded HTTP server, committing to the test database."""
    app = create_app(committed_runtime)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", committed_runtime)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


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
    runtime: Runtime, team_id: str = "T100", company: str = "Acme Books", *,
    baseline_done: bool = True, backfill_days: int | None = None,
) -> Connected:
    """Create (or reuse) a tenant with an installation and add a company connection."""
    with runtime.transaction() as db:
        tenant = service.get_tenant(team_id, db_session=db) or service.upsert_tenant(
            team_id, f"Team {team_id}", db_session=db
        )
        if tenant.installation is None:
            save_installation(tenant, cipher=runtime.cipher, bot_token=f"xoxb-{team_id}",
                              bot_user_id="UBOT", installer_user_id="UINSTALLER",
                              db_session=db)
        creds = service.add_connection(tenant, company, db_session=db)
        conn = service.require_connection(team_id, company, db_session=db)
        set_route(tenant.id, "default", "CDEFAULT", db_session=db)
        conn.baseline_done = baseline_done
        conn.backfill_days = backfill_days
        assert creds.password is not None
        return Connected(team_id, company, creds.username, creds.password, tenant.id, conn.id)
