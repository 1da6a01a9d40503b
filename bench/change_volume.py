"""Bench 2: change volume — 10,000 bills and 2,000 vendors changed since the last poll.

Run: .venv/bin/python bench/change_volume.py [--bills 10000 --vendors 2000]
One tenant, fetched through iterators (MaxReturned 100) by the QBWC simulator against
gunicorn; Slack is not involved (no worker runs). Prints the session's wall time, the time
of each receiveResponseXML (also by how many 100-object pages the answer carried), the web
processes' peak RSS and the outbox count.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from app.core.runtime import Runtime
from app.core.settings import Settings
from bench.common import (
    BENCH_DATABASE_URL,
    bench_env,
    children_peak_rss_mb,
    flush_redis,
    gunicorn,
    report,
    reset_database,
    seed_tenant,
    summary,
)
from jobs.models import Event
from soap.simulator import FakeCompany, QBWCSimulator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bills", type=int, default=10_000)
    ap.add_argument("--vendors", type=int, default=2_000)
    ap.add_argument("--workers", type=int, default=3)
    args = ap.parse_args()
    reset_database(BENCH_DATABASE_URL)
    flush_redis()

    rt = Runtime.from_settings(Settings.from_env(bench_env()))
    username, password = seed_tenant(rt, "TVOL", channel="CVOL", company="Big Client")
    t0 = time.perf_counter()
    company = FakeCompany("Big Client Inc")
    company.generate(vendors=args.vendors, bills=args.bills)
    gen_s = time.perf_counter() - t0
    with gunicorn(workers=args.workers, threads=4) as (base, proc):
        t0 = time.perf_counter()
        sim = QBWCSimulator(base + "/qbwc", username, password, company, timeout=120)
        result = sim.run()
        wall = time.perf_counter() - t0
        rss = children_peak_rss_mb(proc.pid)
    receives = [s for m, s in result.timings if m == "receiveResponseXML"]
    # How many 100-object pages each answer carried: one per iterator query in its request
    # (vendors and bills go in the same batch until the vendors run out).
    pages = [request.count('iterator="') for request in result.requests]
    by_pages = {
        n: [s for s, p in zip(receives, pages, strict=False) if p == n] for n in sorted(set(pages))
    }
    with rt.transaction() as db:
        events = db.scalar(select(func.count()).select_from(Event))
    rt.close()
    answer_s = sum(s for m, s in result.timings if m == "receiveResponseXML")
    report(
        "change_volume",
        {
            "objects": args.bills + args.vendors,
            "ok": result.ok,
            "round_trips": len(result.requests),
            "session_wall_s": round(wall, 2),
            "fake_company_build_s": round(gen_s, 2),
            "receiveResponseXML_ms": {k: round(v * 1000, 1) for k, v in summary(receives).items()},
            "receiveResponseXML_ms_by_pages": {
                f"{n} page(s) x {len(times)}": {
                    k: round(v * 1000, 1) for k, v in summary(times).items()
                }
                for n, times in by_pages.items()
            },
            "receiveResponseXML_total_s": round(answer_s, 2),
            "web_peak_rss_mb": round(rss, 1),
            "events_in_outbox": events,
            "targets": "session <= 60 s, each receive <= 200 ms, RSS <= 300 MB, 12,000 events",
        },
    )


if __name__ == "__main__":
    main()
