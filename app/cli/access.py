"""Commands that take access away: disable and enable, remove a company file, purge."""

from __future__ import annotations

import argparse
import logging

from app.cli.common import CliError, connection, print_json, runtime, tenant
from app.core.runtime import Runtime
from jobs.slack_client import call, make_client
from soap.revocation import end_sessions
from tenants.enums import ConnectionStatus, TenantStatus
from tenants.models import Connection

log = logging.getLogger(__name__)


def _end_all(rt: Runtime, connections: list[tuple[int, str, str]]) -> int:
    """End the live QBWC sessions of (id, username, password hash) connections."""
    return sum(
        end_sessions(rt, connection_id=cid, username=user, stored_hash=stored)
        for cid, user, stored in connections
    )


def _ids(conns: list[Connection]) -> list[tuple[int, str, str]]:
    return [(c.id, c.qbwc_username, c.password_hash) for c in conns]


def cmd_disable(args: argparse.Namespace) -> int:
    """Switch a workspace (or one company file) off: polls refused, live sessions ended."""
    rt = runtime()
    with rt.transaction() as db:
        if args.company:
            conn = connection(args.team_id, args.company, db_session=db)
            conn.status = ConnectionStatus.DISABLED
            affected = _ids([conn])
        else:
            t = tenant(args.team_id, db_session=db)
            t.status, t.status_reason = TenantStatus.DISABLED, "disabled by the operator"
            affected = _ids(list(t.connections))
    ended = _end_all(rt, affected)
    rt.close()
    print_json({"team_id": args.team_id, "company": args.company, "disabled": True, "ended": ended})
    return 0


def cmd_enable(args: argparse.Namespace) -> int:
    """Switch a disabled workspace (or company file) back on."""
    rt = runtime()
    with rt.transaction() as db:
        if args.company:
            conn = connection(args.team_id, args.company, db_session=db)
            if conn.status == ConnectionStatus.DISABLED:
                conn.status = ConnectionStatus.OK if conn.last_poll_at else ConnectionStatus.NEW
        else:
            t = tenant(args.team_id, db_session=db)
            if t.status == TenantStatus.DISABLED:
                t.status, t.status_reason = TenantStatus.ACTIVE, None
    rt.close()
    print_json({"team_id": args.team_id, "company": args.company, "disabled": False})
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    """Delete one company file of a workspace with its events (its live session ends)."""
    if not args.yes:
        raise CliError("remove deletes the company file's connection and events; add --yes")
    rt = runtime()
    with rt.transaction() as db:
        conn = connection(args.team_id, args.company, db_session=db)
        affected = _ids([conn])
        db.delete(conn)
    ended = _end_all(rt, affected)
    rt.close()
    print_json({"team_id": args.team_id, "removed": args.company, "sessions_ended": ended})
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """Delete every row of a workspace (a data-deletion request), its tokens revoked at Slack."""
    if not args.yes:
        raise CliError("purge deletes all of a workspace's data; repeat with --yes")
    rt = runtime()
    with rt.transaction() as db:
        t = tenant(args.team_id, db_session=db)
        inst = t.installation
        tokens = [
            rt.cipher.decrypt(inst.bot_token_encrypted) if inst else None,
            rt.cipher.decrypt(inst.user_token_encrypted) if inst else None,
        ]
        affected = _ids(list(t.connections))
    revoked = sum(_revoke(rt, token) for token in tokens if token)
    ended = _end_all(rt, affected)
    with rt.transaction() as db:
        db.delete(tenant(args.team_id, db_session=db))
    rt.close()
    print_json({"purged": args.team_id, "slack_tokens_revoked": revoked, "sessions_ended": ended})
    return 0


def _revoke(rt: Runtime, token: str) -> bool:
    """auth.revoke: the token stops working at Slack (a failure is logged; the purge goes on)."""
    outcome = call(make_client(rt.settings.slack_api_url, token), "auth.revoke")
    if outcome.kind != "ok":
        log.warning("auth.revoke failed: %s", outcome.error)
    return outcome.kind == "ok"
