"""Bench 4: latency — receiveResponseXML's commit of one new bill to Slack receiving it.

Run: .venv/bin/python bench/latency.py [--samples 15]
gunicorn serves the SOAP endpoint, one idle `qbslack worker` delivers, the fake Slack
records when each post arrives (same monotonic clock as the simulator here).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.runtime import Runtime
from app.core.settings import Settings
from bench.common import (
    BENCH_DATABASE_URL,
    bench_env,
    flush_redis,
    gunicorn,
    report,
    reset_database,
    seed_tenant,
    summary,
)
from soap.simulator import FakeCompany, QBWCSimulator
from tests.fakes import FakeSlack
from tests.fakes.slack_api import Call


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=15)
    args = ap.parse_args()

    reset_database(BENCH_DATABASE_URL)
    flush_redis()
    fake = FakeSlack(post_interval=1.0).start()
    fake.add_token("xoxb-tlat")
    env = bench_env(SLACK_API_URL=fake.url)
    rt = Runtime.from_settings(Settings.from_env(env))
    username, password = seed_tenant(rt, "TLAT", channel="CLAT")
    rt.close()
    company = FakeCompany("Latency Client")
    exe = str(Path(sys.executable).with_name("qbslack"))
    worker = subprocess.Popen(
        [exe, "worker"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    latencies: list[float] = []  # from the start of receiveResponseXML: an upper bound
    lower: list[float] = []  # from its answer: a lower bound
    try:
        with gunicorn(workers=2, threads=4, env=env) as (base, _):
            url = base + "/qbwc"
            QBWCSimulator(url, username, password, company).run()  # warm-up
            time.sleep(1.5)
            for i in range(args.samples):
                company.add_bill("Acme Supply", "125.00", ref_number=f"LAT-{i}")
                result = QBWCSimulator(url, username, password, company).run()
                # The commit happens inside the receiveResponseXML call: between its start
                # and its end. Both bounds are reported.
                idx = result.calls.index("receiveResponseXML")
                ended = result.call_ends[idx]
                started = ended - result.timings[idx][1]

                def posted(calls: list[Call], ref: str = f"LAT-{i}") -> bool:
                    return any(c.ok and ref in str(c.params.get("text")) for c in calls)

                post = fake.wait_for(posted, timeout=30)
                arrived = next(
                    c.time for c in post if c.ok and f"LAT-{i}" in str(c.params.get("text"))
                )
                latencies.append(arrived - started)
                lower.append(arrived - ended)
                time.sleep(1.1)  # stay under one post per second in the channel
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        fake.stop()
    report(
        "latency",
        {
            "samples": len(latencies),
            "commit_to_post_s_upper_bound": {k: round(v, 3) for k, v in summary(latencies).items()},
            "answer_to_post_s_lower_bound": {k: round(v, 3) for k, v in summary(lower).items()},
            "target": "p50 <= 1.5 s with an idle worker",
        },
    )


if __name__ == "__main__":
    main()
