"""`qbslack` subcommands that post events again: replay and backfill."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from app.cli.common import CliError, connection, runtime, tenant
from jobs import replay
from jobs.outbox import schedule_events
from jobs.service import request_backfill


def cmd_replay(args: argparse.Namespace) -> int:
    """Re-post failed, named or date-ranged events of a workspace through delivery."""
    rt = runtime()
    with rt.transaction() as db:
        tenant_id = tenant(args.team_id, db_session=db).id
        what = args.what
        if what == ["failed"]:
            ids = replay.replay_failed(tenant_id, db_session=db)
        elif len(what) == 2 and what[0] == "since":
            try:
                since = dt.date.fromisoformat(what[1])
            except ValueError as exc:
                raise CliError(f"not a date: {what[1]} (use YYYY-MM-DD)") from exc
            ids = replay.replay_since(tenant_id, since, db_session=db)
        elif len(what) == 1:
            ids = replay.replay_object(tenant_id, what[0], db_session=db)
        else:
            raise CliError("usage: qbslack replay TEAM_ID (failed | since YYYY-MM-DD | ID)")
    schedule_events(rt, ids)
    print(json.dumps({"team_id": args.team_id, "queued": len(ids)}))
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    """Post a company file's last N days of QuickBooks changes."""
    rt = runtime()
    with rt.transaction() as db:
        conn = connection(args.team_id, args.company, db_session=db)
        try:
            ids = request_backfill(conn, args.days, db_session=db)
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        waiting = not conn.baseline_done
    schedule_events(rt, ids)
    print(
        json.dumps(
            {
                "team_id": args.team_id,
                "days": args.days,
                "queued": len(ids),
                "at_first_sync": waiting,
            }
        )
    )
    return 0
