"""Bench 3: delivery — 20 channels x 30 events, 4 worker processes, fake Slack at 1/s/channel.

Run: .venv/bin/python bench/delivery.py [--channels 20 --per-channel 30 --workers 4]
Prints the time to deliver everything, duplicates, order per channel and the rate-limit
utilisation (posts per second / channels); then the same with 20% of posts answered 429 or
500 at random.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from app.core.db import utcnow
from app.core.runtime import Runtime
from app.core.settings import Settings
from bench.common import (
    BENCH_DATABASE_URL,
    bench_env,
    flush_redis,
    report,
    reset_database,
)
from jobs.enums import EventStatus
from jobs.models import Event
from jobs.outbox import add_events, schedule_events
from tenants import service
from tenants.installations import save_installation
from tenants.routes import set_route
from tests.fakes import FakeSlack


def run_once(channels: int, per_channel: int, workers: int, failure_rate: float) -> dict[str, Any]:
    """Seed, start workers, schedule everything, wait until posted; the figures."""

    reset_database(BENCH_DATABASE_URL)
    flush_redis()
    fake = FakeSlack(post_interval=1.0).start()
    fake.add_token("xoxb-deliver")
    if failure_rate:
        fake.fail_randomly("chat.postMessage", failure_rate, seed=7)
    env = bench_env(SLACK_API_URL=fake.url)
    rt = Runtime.from_settings(Settings.from_env(env))
    ids: list[int] = []
    with rt.transaction() as db:
        tenant = service.upsert_tenant("TDEL", "Delivery Firm", db_session=db)
        save_installation(tenant, cipher=rt.cipher, bot_token="xoxb-deliver", db_session=db)
        service.add_connection(tenant, "Client", db_session=db)
        conn = tenant.connections[0]
        set_route(tenant.id, "default", "CX", db_session=db)
        for i in range(per_channel):
            for c in range(channels):
                now = utcnow()
                ids += [
                    c.id
                    for c in add_events(
                        [
                            {
                                "tenant_id": tenant.id,
                                "connection_id": conn.id,
                                "event_type": "bill",
                                "action": "created",
                                "object_type": "Bill",
                                "object_id": f"B{c}-{i}",
                                "edit_sequence": "1",
                                "ref_number": f"{c}-{i}",
                                "payload": {
                                    "name": "Vendor",
                                    "amount": "10",
                                    "ref_number": f"{c}-{i}",
                                },
                                "status": "pending",
                                "channel_id": f"C{c:03d}",
                                "counterparty": None,
                                "sort_key": now,
                                "created_at": now,
                                "updated_at": now,
                            }
                        ],
                        db_session=db,
                    )
                ]
    exe = str(Path(sys.executable).with_name("qbslack"))
    procs = [
        subprocess.Popen(
            [exe, "worker"],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    time.sleep(1.5)  # let the workers connect
    t0 = time.monotonic()
    schedule_events(rt, ids)
    total = len(ids)
    deadline = t0 + 300
    while time.monotonic() < deadline:
        with rt.transaction() as db:
            done = db.scalar(
                select(func.count()).select_from(Event).where(Event.status == EventStatus.POSTED)
            )
        if (done or 0) >= total:
            break
        time.sleep(0.2)
    wall = time.monotonic() - t0
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=30)
    posts = fake.posts()
    texts = [p.params["text"] for p in posts]
    in_order = all(
        [
            int(p.params["text"].split("#")[1].split("-")[1].split(" ")[0])
            for p in fake.posts(f"C{c:03d}")
        ]
        == list(range(per_channel))
        for c in range(channels)
    )
    first, last = posts[0].time, posts[-1].time
    rate = (len(posts) - 1) / (last - first) if last > first else 0.0
    fake.stop()
    rt.close()
    return {
        "events": total,
        "posted": done,
        "wall_s": round(wall, 1),
        "slack_posts": len(posts),
        "duplicates": len(texts) - len(set(texts)),
        "order_kept": in_order,
        "posts_per_s": round(rate, 2),
        "utilisation": round(rate / channels, 3),
        "answered_429": len([c for c in fake.calls("chat.postMessage") if c.http_status == 429]),
        "answered_500": len([c for c in fake.calls("chat.postMessage") if c.http_status == 500]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--channels", type=int, default=20)
    ap.add_argument("--per-channel", type=int, default=30)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    clean = run_once(args.channels, args.per_channel, args.workers, 0.0)
    noisy = run_once(args.channels, args.per_channel, args.workers, 0.2)
    report(
        "delivery",
        {
            "channels": args.channels,
            "per_channel": args.per_channel,
            "workers": args.workers,
            "clean": clean,
            "with_20pct_429_500": noisy,
            "targets": "clean: all in <= 35 s, 0 duplicates, order kept, "
            "utilisation >= 0.85; noisy: all, 0 duplicates",
        },
    )


if __name__ == "__main__":
    main()
