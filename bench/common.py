"""Shared helpers for the benchmark scripts: servers, databases, figures."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlalchemy import text

from app.core.db import make_engine
from app.core.migrate import upgrade
from tenants import service
from tenants.installations import save_installation
from tenants.routes import set_route

REPO = Path(__file__).resolve().parents[1]
BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test_bench"
)

BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
BENCH_KEY = "3Mh0oQ5dsbM0m3cHLnL6zl0_4CU3W3jSKbN8dCwY6rs="


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_env(**extra: str) -> dict[str, str]:
    """Environment of a production-like qbslack process for benchmarks."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": BENCH_DATABASE_URL,
            "REDIS_URL": BENCH_REDIS_URL,
            "PUBLIC_URL": "https://qbslack.bench.local",
            "SLACK_CLIENT_ID": "1.2",
            "SLACK_CLIENT_SECRET": "bench-client-secret",
            "SLACK_SIGNING_SECRET": "bench-signing-secret",
            "TOKEN_ENCRYPTION_KEYS": BENCH_KEY,
            "SECRET_KEY": "bench-secret-key",
            "LOG_FORMAT": "text",
        }
    )
    env.update(extra)
    return env


def create_database(url: str) -> None:
    """Create the benchmark database if it does not exist yet (PostgreSQL)."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = make_engine(
        target.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
            ).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def reset_database(url: str = BENCH_DATABASE_URL) -> None:
    """Drop and rebuild the benchmark database schema through the migrations."""

    create_database(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(url)


def flush_redis(url: str = BENCH_REDIS_URL) -> None:
    """Empty the benchmark Redis database."""
    from redis import Redis

    conn = Redis.from_url(url)
    conn.flushdb()
    conn.close()


@contextlib.contextmanager
def gunicorn(
    app: str = "app:create_app()",
    *,
    workers: int = 3,
    threads: int = 8,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run gunicorn with the recommended settings; yields (base URL, process)."""
    port = free_port()
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        app,
        "-c",
        "python:app.web.gunicorn_conf",  # the Procfile's settings module
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        "--timeout",
        "120",
    ]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env or bench_env(), stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/healthz", proc)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> None:
    """Wait until url answers (any HTTP status)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # localhost only
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


def children_peak_rss_mb(pid: int) -> float:
    """Largest peak RSS (VmHWM) among a process's children, in MB (Linux)."""
    peak = 0.0
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for cpid in child.read_text().split():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{cpid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) / 1024)
    return peak


def percentile(values: Sequence[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(values: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max/mean of values."""
    return {
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
        "mean": statistics.fmean(values) if values else float("nan"),
    }


def report(name: str, figures: dict[str, object]) -> None:
    """Print a benchmark's figures as one JSON line and a readable block."""
    print(json.dumps({"bench": name, **figures}, default=str))
    for key, value in figures.items():
        print(f"  {key}: {value}")


def seed_tenant(
    runtime: object,
    team_id: str,
    *,
    channel: str,
    company: str = "Client",
    baseline_done: bool = True,
) -> tuple[str, str]:
    """A workspace with a bot token, a default route and one company file; its credentials."""

    rt = runtime
    with rt.transaction() as db:  # type: ignore[attr-defined]
        tenant = service.upsert_tenant(team_id, f"Firm {team_id}", db_session=db)
        save_installation(
            tenant,
            cipher=rt.cipher,  # type: ignore[attr-defined]
            bot_token=f"xoxb-{team_id.lower()}",
            db_session=db,
        )
        set_route(tenant.id, "default", channel, db_session=db)
        creds = service.add_connection(tenant, company, db_session=db)
        tenant.connections[0].baseline_done = baseline_done
    return creds.username, creds.password or ""
