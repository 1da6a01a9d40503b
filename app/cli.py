"""The `qbslack` command line: serve, worker, database, tenants and credentials."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select

from app.runtime import Runtime
from app.settings import ConfigError, Settings


class CliError(Exception):
    """A user-facing command failure: printed without a traceback, exit code 1."""


def _runtime(**overrides: Any) -> Runtime:
    settings = Settings.from_env()
    if overrides:
        settings = settings.with_overrides(**overrides)
    return Runtime.from_settings(settings)


def _print_json(data: Any) -> None:
    print(json.dumps(data, default=str))


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the web app (and, without Redis, the in-process worker)."""
    from app.server import serve

    settings = Settings.from_env()
    if args.port:
        settings = settings.with_overrides(port=args.port)
    serve(settings, host=args.host, workers=args.workers, threads=args.threads)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run an RQ worker on the delivery and default queues."""
    from jobs.worker import run_worker

    runtime = _runtime()
    if runtime.redis is None:
        raise CliError(
            "REDIS_URL is not set: without Redis, jobs run inside `qbslack serve` "
            "(the embedded default); set REDIS_URL to run separate workers"
        )
    return run_worker(runtime, burst=args.burst)


def cmd_db(args: argparse.Namespace) -> int:
    """Database maintenance."""
    from app.migrate import upgrade

    settings = Settings.from_env()
    upgrade(settings.database_url, args.revision)
    print(f"database upgraded to {args.revision}", file=sys.stderr)
    return 0


def cmd_tenants(args: argparse.Namespace) -> int:
    """One JSON line per company-file connection of each tenant."""
    from tenants.models import Connection, Tenant

    runtime = _runtime()
    with runtime.transaction() as db:
        rows = db.execute(
            select(Tenant, Connection)
            .outerjoin(Connection, Connection.tenant_id == Tenant.id)
            .order_by(Tenant.id, Connection.id)
        ).all()
        for tenant, conn in rows:
            _print_json(
                {
                    "team_id": tenant.team_id,
                    "team_name": tenant.team_name,
                    "tenant_status": tenant.status,
                    "company": conn.company_name if conn else None,
                    "username": conn.qbwc_username if conn else None,
                    "last_poll": (
                        conn.last_poll_at.isoformat() if conn and conn.last_poll_at else None
                    ),
                    "status": conn.status if conn else tenant.status,
                    "last_error": conn.last_error if conn else None,
                }
            )
    return 0


def cmd_connect(args: argparse.Namespace) -> int:
    """Add a company-file connection; prints its credentials (password shown once)."""
    from tenants import service

    runtime = _runtime()
    with runtime.transaction() as db:
        tenant = service.get_tenant(args.team_id, db_session=db)
        if tenant is None:
            if not args.create_tenant:
                raise CliError(
                    f"no workspace {args.team_id}: install the Slack app there first "
                    "(or pass --create-tenant for a dry run without Slack)"
                )
            tenant = service.upsert_tenant(args.team_id, args.team_id, db_session=db)
        try:
            creds = service.add_connection(tenant, args.name, db_session=db)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        _print_json(creds.as_dict())
    return 0


def cmd_credentials(args: argparse.Namespace) -> int:
    """Show a connection's QBWC username; --reset sets and shows a new password."""
    from tenants import service

    runtime = _runtime()
    with runtime.transaction() as db:
        conn = _connection(args, db)
        _print_json(service.credentials(conn, reset=args.reset, db_session=db).as_dict())
    return 0


def cmd_qwc(args: argparse.Namespace) -> int:
    """Print a connection's .qwc file."""
    from tenants.qwc import build_qwc

    runtime = _runtime()
    with runtime.transaction() as db:
        conn = _connection(args, db)
        try:
            xml = build_qwc(
                conn,
                public_url=runtime.settings.public_url,
                run_every_minutes=runtime.settings.qbwc_run_every_minutes,
            )
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    sys.stdout.write(xml)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Play a QBWC session against an endpoint with a fake QuickBooks company."""
    from soap.simulator import simulate

    report = simulate(args.url, args.username, args.password, args.fixture)
    _print_json(report)
    return 0 if report.get("ok") else 1


def cmd_keys(args: argparse.Namespace) -> int:
    """Re-encrypt every stored token with the newest key."""
    from tenants.installations import rotate_tokens

    runtime = _runtime()
    with runtime.transaction() as db:
        count = rotate_tokens(runtime.cipher, db_session=db)
    _print_json({"rotated_installations": count})
    return 0


def _connection(args: argparse.Namespace, db: Any) -> Any:
    from tenants import service

    try:
        return service.require_connection(args.team_id, args.company, db_session=db)
    except service.NotFound as exc:
        raise CliError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="qbslack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> Any:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    p = add("serve", cmd_serve, "serve the web app (+ in-process worker without Redis)")
    p.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server binds all interfaces
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--workers", type=int, default=None, help="gunicorn worker processes")
    p.add_argument("--threads", type=int, default=None, help="threads per worker")
    p = add("worker", cmd_worker, "run an RQ worker (needs REDIS_URL)")
    p.add_argument("--burst", action="store_true", help="drain the queues, then exit")
    p = add("db", cmd_db, "database maintenance")
    dbsub = p.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="Alembic upgrade to head")
    up.add_argument("revision", nargs="?", default="head")
    add("tenants", cmd_tenants, "list tenants and their connections as JSON lines")
    p = add("connect", cmd_connect, "add a company-file connection to a workspace")
    p.add_argument("team_id")
    p.add_argument("name")
    p.add_argument("--create-tenant", action="store_true", help=argparse.SUPPRESS)
    p = add("credentials", cmd_credentials, "show (or --reset) QBWC credentials")
    p.add_argument("team_id")
    p.add_argument("--company")
    p.add_argument("--reset", action="store_true")
    p = add("qwc", cmd_qwc, "print a connection's .qwc file")
    p.add_argument("team_id")
    p.add_argument("--company")
    p = add("simulate", cmd_simulate, "play a QBWC session with a fake QuickBooks company")
    p.add_argument("--url", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--fixture")
    p = add("keys", cmd_keys, "token encryption keys")
    ksub = p.add_subparsers(dest="keys_command", required=True)
    ksub.add_parser("rotate", help="re-encrypt every stored token with the newest key")
    from app import cli_extra

    cli_extra.register(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `qbslack` command."""
    from app.logs import configure_logging

    args = build_parser().parse_args(argv)
    configure_logging(json_lines=False)
    try:
        return int(args.func(args))
    except (CliError, ConfigError) as exc:
        print(f"qbslack: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
