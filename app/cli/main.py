"""The `qbslack` command line: serve, worker, database, tenants and credentials."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from app.cli import access, outbox, preview, tenants
from app.cli.common import CliError, print_json, runtime
from app.core.logs import configure_logging
from app.core.migrate import upgrade
from app.core.settings import ConfigError, Settings
from app.web.server import serve
from jobs.worker import run_worker
from soap.simulator import simulate


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the web app (and, without Redis, the in-process worker)."""
    settings = Settings.from_env()
    if args.port:
        settings = settings.with_overrides(port=args.port)
    serve(settings, host=args.host, workers=args.workers, threads=args.threads)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run an RQ worker on the delivery and default queues."""
    rt = runtime()
    if rt.redis is None:
        raise CliError(
            "REDIS_URL is not set: without Redis, jobs run inside `qbslack serve` "
            "(the embedded default); set REDIS_URL to run separate workers"
        )
    return run_worker(rt, burst=args.burst)


def cmd_db(args: argparse.Namespace) -> int:
    """Database maintenance."""
    settings = Settings.from_env()
    upgrade(settings.database_url, args.revision)
    print(f"database upgraded to {args.revision}", file=sys.stderr)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Play a QBWC session against an endpoint with a fake QuickBooks company."""
    report = simulate(args.url, args.username, args.password, args.fixture)
    print_json(report)
    return 0 if report.get("ok") else 1


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
    add("tenants", tenants.cmd_tenants, "list tenants and their connections as JSON lines")
    p = add("connect", tenants.cmd_connect, "add a company-file connection to a workspace")
    p.add_argument("team_id")
    p.add_argument("name")
    p.add_argument("--create-tenant", action="store_true", help=argparse.SUPPRESS)
    p = add("credentials", tenants.cmd_credentials, "show (or --reset) QBWC credentials")
    p.add_argument("team_id")
    p.add_argument("--company")
    p.add_argument("--reset", action="store_true")
    p = add("qwc", tenants.cmd_qwc, "print a connection's .qwc file")
    p.add_argument("team_id")
    p.add_argument("--company")
    p = add("simulate", cmd_simulate, "play a QBWC session with a fake QuickBooks company")
    p.add_argument("--url", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--fixture")
    p = add("rebind", tenants.cmd_rebind, "bind a connection to the company file open now")
    p.add_argument("team_id")
    p.add_argument("--company", required=True)
    p = add("keys", tenants.cmd_keys, "token encryption keys")
    ksub = p.add_subparsers(dest="keys_command", required=True)
    ksub.add_parser("rotate", help="re-encrypt every stored token with the newest key")
    p = add("disable", access.cmd_disable, "switch a workspace or company file off")
    p.add_argument("team_id")
    p.add_argument("--company")
    p = add("enable", access.cmd_enable, "switch a disabled workspace or company file on")
    p.add_argument("team_id")
    p.add_argument("--company")
    p = add("remove", access.cmd_remove, "delete one company file of a workspace, events too")
    p.add_argument("team_id")
    p.add_argument("--company", required=True)
    p.add_argument("--yes", action="store_true")
    p = add("purge", access.cmd_purge, "delete all data of a workspace (data-deletion request)")
    p.add_argument("team_id")
    p.add_argument("--yes", action="store_true")
    p = add("replay", outbox.cmd_replay, "post failed, named or date-ranged events again")
    p.add_argument("team_id")
    p.add_argument("what", nargs="+", help="failed | since YYYY-MM-DD | TxnID/ListID/RefNumber")
    p = add("backfill", outbox.cmd_backfill, "post a company file's last N days of changes")
    p.add_argument("team_id")
    p.add_argument("days", type=int)
    p.add_argument("--company")
    p = add("preview", preview.cmd_preview, "print the last events as Slack would show them")
    preview.add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `qbslack` command."""
    args = build_parser().parse_args(argv)
    configure_logging(json_lines=False)
    try:
        return int(args.func(args))
    except (CliError, ConfigError) as exc:
        print(f"qbslack: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
