"""Operator commands beyond DESIGN.md's table (data deletion, replay)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any


def _tenant(team_id: str, db: Any) -> Any:
    from app.cli import CliError
    from tenants import service

    try:
        return service.require_tenant(team_id, db_session=db)
    except service.NotFound as exc:
        raise CliError(str(exc)) from exc


def cmd_purge(args: argparse.Namespace) -> int:
    """Delete every row of a workspace (a data-deletion request)."""
    from app.cli import CliError, _runtime

    if not args.yes:
        raise CliError("purge deletes all of a workspace's data; repeat with --yes")
    runtime = _runtime()
    with runtime.transaction() as db:
        db.delete(_tenant(args.team_id, db))
    print(json.dumps({"purged": args.team_id}))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Re-post failed, named or date-ranged events of a workspace through delivery."""
    import datetime as dt

    from app.cli import CliError, _runtime
    from jobs import replay
    from jobs.delivery import schedule_events

    runtime = _runtime()
    with runtime.transaction() as db:
        tenant = _tenant(args.team_id, db)
        what = args.what
        if what == ["failed"]:
            ids = replay.replay_failed(tenant.id, db_session=db)
        elif len(what) == 2 and what[0] == "since":
            try:
                since = dt.date.fromisoformat(what[1])
            except ValueError as exc:
                raise CliError(f"not a date: {what[1]} (use YYYY-MM-DD)") from exc
            ids = replay.replay_since(tenant.id, since, db_session=db)
        elif len(what) == 1:
            ids = replay.replay_object(tenant.id, what[0], db_session=db)
        else:
            raise CliError("usage: qbslack replay TEAM_ID (failed | since YYYY-MM-DD | ID)")
    schedule_events(runtime, ids)
    print(json.dumps({"team_id": args.team_id, "queued": len(ids)}))
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    """Post a company file's last N days of QuickBooks changes."""
    from app.cli import CliError, _connection, _runtime
    from jobs.delivery import schedule_events
    from tenants import service

    runtime = _runtime()
    with runtime.transaction() as db:
        conn = _connection(args, db)
        try:
            ids = service.request_backfill(conn, args.days, db_session=db)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        waiting = not conn.baseline_done
    schedule_events(runtime, ids)
    print(json.dumps({"team_id": args.team_id, "days": args.days, "queued": len(ids),
                      "at_first_sync": waiting}))
    return 0


def register(add: Callable[[str, Callable[[argparse.Namespace], int], str], Any]) -> None:
    """Add the extra subcommands to the parser."""
    p = add("purge", cmd_purge, "delete all data of a workspace (data-deletion request)")
    p.add_argument("team_id")
    p.add_argument("--yes", action="store_true")
    p = add("replay", cmd_replay, "post failed, named or date-ranged events again")
    p.add_argument("team_id")
    p.add_argument("what", nargs="+", help="failed | since YYYY-MM-DD | TxnID/ListID/RefNumber")
    p = add("backfill", cmd_backfill, "post a company file's last N days of changes")
    p.add_argument("team_id")
    p.add_argument("days", type=int)
    p.add_argument("--company")
