"""Every benchmark script still runs end to end (tiny sizes): `make bench` cannot rot unseen."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.paths import REPO

# The benchmarks' own database and Redis db, apart from the suite's (a smoke run of each).
BENCH_ENV = {
    "BENCH_DATABASE_URL": os.environ.get(
        "TEST_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test_bench_smoke"
    ),
    "BENCH_REDIS_URL": os.environ.get("TEST_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "args"),
    [
        (
            "polling.py",
            [
                "--connections",
                "12",
                "--tenants",
                "3",
                "--rounds",
                "1",
                "--clients",
                "2",
                "--workers",
                "1",
                "--threads",
                "2",
            ],
        ),
        ("change_volume.py", ["--bills", "120", "--vendors", "30", "--workers", "1"]),
        ("delivery.py", ["--channels", "2", "--per-channel", "2", "--workers", "1"]),
        ("latency.py", ["--samples", "2"]),
        ("health_check.py", ["--connections", "300", "--tenants", "10", "--steady-runs", "1"]),
        ("junk_bodies.py", ["--concurrent", "2", "--megabytes", "0.5"]),
    ],
)
def test_benchmark_script_runs_and_prints_its_figures(script: str, args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        env={**os.environ, **BENCH_ENV},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert figures and figures[0]["bench"] == script.removesuffix(".py")
