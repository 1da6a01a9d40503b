"""Bench 5: the health checker at scale — 10,000 company files, one run of the checks.

Run: .venv/bin/python bench/health_check.py [--connections 10000 --tenants 200]
Seeds the connections (about 2 % stale, 1 % with a QuickBooks error three sessions in a
row, 0.5 % locked, some parked events), then times runs of jobs.alerts.check_health and
counts the SQL statements each run sends: the first run opens the alerts, a steady run
changes nothing, and a run with every connection healthy. Prints one JSON line of figures,
plus the PostgreSQL plan of the candidates query (each lookup by its own index).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert, text, update

from app.core.clock import ManualClock
from app.core.db import utcnow
from app.core.runtime import Runtime
from app.core.settings import Settings
from bench.common import BENCH_DATABASE_URL, bench_env, flush_redis, report, reset_database
from jobs.alerts import check_health
from jobs.enums import EventStatus
from jobs.models import Event
from tenants.enums import ConnectionStatus
from tenants.models import Connection, Tenant


def seed(rt: Runtime, connections: int, tenants: int, now: dt.datetime) -> dict[str, int]:
    """Bulk-insert tenants and connections in a mix of states; a few parked events."""
    per_tenant = max(1, connections // tenants)
    counts = {"stale": 0, "error": 0, "locked": 0, "parked": 0}
    with rt.transaction() as db:
        db.execute(
            insert(Tenant),
            [{"team_id": f"TB{t:05d}", "team_name": f"Firm {t}"} for t in range(tenants)],
        )
        tenant_ids = [r[0] for r in db.execute(text("SELECT id FROM tenants ORDER BY id"))]
        rows: list[dict[str, Any]] = []
        for i in range(connections):
            row: dict[str, Any] = {
                "tenant_id": tenant_ids[min(i // per_tenant, tenants - 1)],
                "company_name": f"Client {i}",
                "qbwc_username": f"qbs-bench-{i:06d}",
                "password_hash": "scrypt$bench",
                "status": ConnectionStatus.OK,
                "last_poll_at": now - dt.timedelta(minutes=i % 5),
                "run_every_minutes": 5,
                "error_streak": 0,
            }
            if i % 50 == 1:  # 2 %: the PC went to sleep hours ago
                row["last_poll_at"] = now - dt.timedelta(hours=3)
                counts["stale"] += 1
            elif i % 100 == 2:  # 1 %: QuickBooks not running, three sessions in a row
                row.update(status=ConnectionStatus.ERROR, error_streak=3, error_code="0x80040408")
                row["last_error"] = "QuickBooks is not running (0x80040408)"
                counts["error"] += 1
            elif i % 200 == 3:  # 0.5 %: locked after wrong passwords
                row["locked_until"] = now + dt.timedelta(minutes=10)
                row["lock_source"] = "203.0.113.9"
                counts["locked"] += 1
            rows.append(row)
        db.execute(insert(Connection), rows)
        conn_rows = list(db.execute(text("SELECT id, tenant_id FROM connections ORDER BY id")))
        events = []
        for n, (cid, tid) in enumerate(conn_rows[::97]):  # ~1 %: a message Slack refused
            events.append(
                {
                    "tenant_id": tid,
                    "connection_id": cid,
                    "event_type": "bill",
                    "action": "created",
                    "object_type": "Bill",
                    "object_id": f"B-{n}",
                    "edit_sequence": "1",
                    "payload": {},
                    "status": EventStatus.FAILED,
                    "channel_id": "CARCHIVED",
                    "last_error": "the channel is archived",
                    "sort_key": now,
                }
            )
        db.execute(insert(Event), events)
        counts["parked"] = len(events)
    return counts


class StatementCounter:
    """Counts the SQL statements an engine sends."""

    def __init__(self, rt: Runtime) -> None:
        self.count = 0
        event.listen(rt.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


def timed_run(rt: Runtime, counter: StatementCounter) -> dict[str, Any]:
    """One checker run: milliseconds, statements, alerts opened/resolved."""
    before = counter.count
    started = time.perf_counter()
    result = check_health(rt)
    ms = (time.perf_counter() - started) * 1000
    return {
        "ms": round(ms, 1),
        "statements": counter.count - before,
        "looked_at": result.checked,
        "opened": len(result.opened),
        "reminded": len(result.reminded),
        "resolved": len(result.resolved),
    }


def candidates_plan(rt: Runtime, now: dt.datetime) -> list[str]:
    """PostgreSQL's plan for the candidates lookup (shows which indexes it uses)."""
    with rt.engine.connect() as conn:
        rows = conn.execute(
            text(
                "EXPLAIN SELECT id FROM connections WHERE last_poll_at < :t UNION "
                "SELECT id FROM connections WHERE status IN ('error', 'wrong_company_file') UNION "
                "SELECT id FROM connections WHERE locked_until > :t"
            ),
            {"t": now - dt.timedelta(minutes=15)},
        )
        return [r[0] for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--connections", type=int, default=10_000)
    ap.add_argument("--tenants", type=int, default=200)
    ap.add_argument("--steady-runs", type=int, default=5)
    args = ap.parse_args()
    reset_database(BENCH_DATABASE_URL)
    flush_redis()
    now = utcnow()
    rt = Runtime.from_settings(Settings.from_env(bench_env()), clock=ManualClock(now))
    counts = seed(rt, args.connections, args.tenants, now)
    with rt.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    counter = StatementCounter(rt)
    first = timed_run(rt, counter)
    steady = [timed_run(rt, counter) for _ in range(args.steady_runs)]
    with rt.transaction() as db:  # every problem fixed: the checker resolves them all
        db.execute(
            update(Connection).values(
                last_poll_at=now, status=ConnectionStatus.OK, error_streak=0, locked_until=None
            )
        )
        db.execute(update(Event).values(status=EventStatus.POSTED))
    healed = timed_run(rt, counter)
    quiet = [timed_run(rt, counter) for _ in range(args.steady_runs)]
    plan = candidates_plan(rt, now)
    rt.close()
    report(
        "health_check",
        {
            "connections": args.connections,
            "tenants": args.tenants,
            "seeded": counts,
            "first_run": first,
            "steady_run_ms_median": statistics.median(r["ms"] for r in steady),
            "steady_run_statements": steady[-1]["statements"],
            "resolving_run": healed,
            "healthy_run_ms_median": statistics.median(r["ms"] for r in quiet),
            "healthy_run_statements": quiet[-1]["statements"],
            "seq_scan_in_candidates_plan": any("Seq Scan" in line for line in plan),
            "targets": "a bounded number of statements per run, whatever the connections",
        },
    )


if __name__ == "__main__":
    main()
