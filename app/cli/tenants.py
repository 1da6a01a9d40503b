"""`qbslack` subcommands about workspaces and their company files."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy import select

from app.cli.common import CliError, connection, print_json, runtime
from app.core.runtime import Runtime
from soap.revocation import end_sessions
from tenants import service
from tenants.enums import ConnectionStatus
from tenants.health import Vitals, health_now, vitals_of
from tenants.installations import rotate_tokens
from tenants.models import Connection, Tenant
from tenants.qwc import build_qwc


def cmd_tenants(args: argparse.Namespace) -> int:
    """One JSON line per company-file connection of each tenant."""
    for line in tenant_lines(runtime()):
        print_json(line)
    return 0


def tenant_lines(rt: Runtime) -> list[dict[str, Any]]:
    """What `qbslack tenants` prints: each connection's health at the runtime's clock.

    `status` is tenants.health's verdict (ok, stale, error, wrong_company_file, paused,
    disabled, new), the one App Home and /metrics show; `health` says it in App Home's words.
    A workspace without a company file gets one line with company null.
    """
    now = rt.clock.now()
    lines = []
    with rt.transaction() as db:
        rows = db.execute(
            select(Tenant, Connection)
            .outerjoin(Connection, Connection.tenant_id == Tenant.id)
            .order_by(Tenant.id, Connection.id)
        ).all()
        for ten, conn in rows:
            vitals = (
                vitals_of(conn)
                if conn
                else Vitals(
                    status=ConnectionStatus.NEW,
                    tenant_status=ten.status,
                    last_poll_at=None,
                    run_every_minutes=None,
                )
            )
            health = health_now(vitals, now=now, settings=rt.settings)
            lines.append(
                {
                    "team_id": ten.team_id,
                    "team_name": ten.team_name,
                    "tenant_status": ten.status,
                    "company": conn.company_name if conn else None,
                    "username": conn.qbwc_username if conn else None,
                    "last_poll": (
                        conn.last_poll_at.isoformat() if conn and conn.last_poll_at else None
                    ),
                    "status": health.state.value,
                    "health": health.summary,
                    "stale_after_minutes": round(health.stale_after.total_seconds() / 60, 2),
                    "locked": health.locked,
                    "last_session": conn.status if conn else None,  # the last session's outcome
                    "company_file": conn.qb_file_path if conn and conn.bound_at else None,
                    "last_error": conn.last_error if conn else None,
                }
            )
    return lines


def cmd_connect(args: argparse.Namespace) -> int:
    """Add a company-file connection; prints its credentials (password shown once)."""
    rt = runtime()
    with rt.transaction() as db:
        ten = service.get_tenant(args.team_id, db_session=db)
        if ten is None:
            if not args.create_tenant:
                raise CliError(
                    f"no workspace {args.team_id}: install the Slack app there first "
                    "(or pass --create-tenant for a dry run without Slack)"
                )
            ten = service.upsert_tenant(args.team_id, args.team_id, db_session=db)
        try:
            creds = service.add_connection(ten, args.name, db_session=db)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        print_json(creds.as_dict())
    return 0


def cmd_credentials(args: argparse.Namespace) -> int:
    """Show a connection's QBWC username; --reset sets and shows a new password."""
    rt = runtime()
    with rt.transaction() as db:
        conn = connection(args.team_id, args.company, db_session=db)
        old = (conn.id, conn.qbwc_username, conn.password_hash)
        print_json(service.credentials(conn, reset=args.reset, db_session=db).as_dict())
    if args.reset:  # the old password's live session and remembered login end now
        end_sessions(rt, connection_id=old[0], username=old[1], stored_hash=old[2])
    rt.close()
    return 0


def cmd_qwc(args: argparse.Namespace) -> int:
    """Print a connection's .qwc file."""
    rt = runtime()
    with rt.transaction() as db:
        conn = connection(args.team_id, args.company, db_session=db)
        try:
            xml = build_qwc(
                conn,
                public_url=rt.settings.public_url,
                run_every_minutes=rt.settings.qbwc_run_every_minutes,
            )
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    sys.stdout.write(xml)
    return 0


def cmd_rebind(args: argparse.Namespace) -> int:
    """Bind a connection to the company file its QBWC has open now (found last session)."""
    rt = runtime()
    with rt.transaction() as db:
        conn = connection(args.team_id, args.company, db_session=db)
        try:
            service.rebind(conn, db_session=db)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        print_json(
            {
                "team_id": args.team_id,
                "company": conn.company_name,
                "company_file": conn.qb_file_path,
                "bound_company": conn.bound_company,
            }
        )
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    """Re-encrypt every stored token with the newest key."""
    rt = runtime()
    with rt.transaction() as db:
        count = rotate_tokens(rt.cipher, db_session=db)
    print_json({"rotated_installations": count})
    return 0
