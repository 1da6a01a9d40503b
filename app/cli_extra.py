"""Operator commands beyond DESIGN.md's table (data deletion)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any


def cmd_purge(args: argparse.Namespace) -> int:
    """Delete every row of a workspace (a data-deletion request)."""
    from app.cli import CliError, _runtime
    from tenants import service

    if not args.yes:
        raise CliError("purge deletes all of a workspace's data; repeat with --yes")
    runtime = _runtime()
    with runtime.transaction() as db:
        try:
            tenant = service.require_tenant(args.team_id, db_session=db)
        except service.NotFound as exc:
            raise CliError(str(exc)) from exc
        db.delete(tenant)
    print(json.dumps({"purged": args.team_id}))
    return 0


def register(add: Callable[[str, Callable[[argparse.Namespace], int], str], Any]) -> None:
    """Add the extra subcommands to the parser."""
    p = add("purge", cmd_purge, "delete all data of a workspace (data-deletion request)")
    p.add_argument("team_id")
    p.add_argument("--yes", action="store_true")
