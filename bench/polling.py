"""Bench 1: polling capacity — full no-change QBWC cycles from 1,000 connections.

Run: .venv/bin/python bench/polling.py [--connections 1000 --tenants 200 --rounds 5
     --clients 6 --workers 3 --threads 4]
Prints cycles/s and per-call latency for qbslack and for a bare spyne service with constant
answers (the framework's floor), and our throughput as a ratio of it. Both servers run at
once and take turns, one cycle per connection each round; the first round of qbslack (every
login's scrypt) is reported apart from the steady state.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from lxml import etree

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
    summary,
)
from soap.qbxml.safe_xml import parse_xml
from soap.simulator import FakeCompany, SoapClient
from soap.simulator.qbwc_client import Params, result_strings, result_text
from soap.simulator.qbxml_answer import Answerer
from tenants import service
from tenants.installations import save_installation
from tenants.routes import set_route

# One round's (or one server's) figures, as printed: JSON-ready values.
Figures = dict[str, Any]

EMPTY_RESPONSE_CACHE: dict[str, str] = {}


def seed(connections: int, tenants: int) -> list[tuple[str, str]]:
    """Tenants with company files that have already had their first sync."""

    rt = Runtime.from_settings(Settings.from_env(bench_env()))
    creds = []
    with rt.transaction() as db:
        for t in range(tenants):
            tenant = service.upsert_tenant(f"TB{t:04d}", f"Firm {t}", db_session=db)
            save_installation(tenant, cipher=rt.cipher, bot_token=f"xoxb-bench-{t}", db_session=db)
            set_route(tenant.id, "default", "CBENCH", db_session=db)
            for c in range(connections // tenants):
                new = service.add_connection(tenant, f"Client {c}", db_session=db)
                creds.append((new.username, new.password or ""))
            for conn in tenant.connections:
                conn.baseline_done = True
    rt.close()
    return creds


def run_cycles(url: str, creds: list[tuple[str, str]], cycles: int) -> Figures:
    """One load process: full QBWC cycles for its connections, timing every call."""

    answerer = Answerer(FakeCompany())
    client = SoapClient(url)
    latencies: list[float] = []
    errors = 0
    done = 0

    def call(method: str, params: Params) -> etree._Element:
        t0 = time.perf_counter()
        result = client.call(method, params)
        latencies.append(time.perf_counter() - t0)
        return result

    for _ in range(cycles):
        for username, password in creds:
            try:
                call("serverVersion", [])
                call("clientVersion", [("strVersion", "2.3.0.215")])
                ticket, status = (
                    result_strings(
                        call("authenticate", [("strUserName", username), ("strPassword", password)])
                    )
                    + ["", ""]
                )[:2]
                if status == "nvu":
                    errors += 1
                    continue
                request = result_text(
                    call(
                        "sendRequestXML",
                        [
                            ("ticket", ticket),
                            ("strHCPResponse", ""),
                            ("strCompanyFileName", "c.qbw"),
                            ("qbXMLCountry", "US"),
                            ("qbXMLMajorVers", 13),
                            ("qbXMLMinorVers", 0),
                        ],
                    )
                )
                key = request[:200]
                if key not in EMPTY_RESPONSE_CACHE:
                    parse_xml(request)
                    EMPTY_RESPONSE_CACHE[key] = answerer.answer(request)
                progress = int(
                    result_text(
                        call(
                            "receiveResponseXML",
                            [
                                ("ticket", ticket),
                                ("response", EMPTY_RESPONSE_CACHE[key]),
                                ("hresult", ""),
                                ("message", ""),
                            ],
                        )
                    )
                )
                call("closeConnection", [("ticket", ticket)])
                if progress == 100:
                    done += 1
                else:
                    errors += 1
            except Exception:
                errors += 1
    client.close()
    return {"latencies": latencies, "cycles": done, "errors": errors}


def load(url: str, creds: list[tuple[str, str]], cycles: int, clients: int) -> Figures:
    """Spread the connections over `clients` processes; measure the whole run."""
    shards = [creds[i::clients] for i in range(clients)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(clients) as pool:
        results = list(pool.map(run_cycles, [url] * clients, shards, [cycles] * clients))
    wall = time.perf_counter() - t0
    lat = [x for r in results for x in r["latencies"]]
    total = sum(int(r["cycles"]) for r in results)
    stats = {k: round(v * 1000, 1) for k, v in summary(lat).items()}
    return {
        "cycles": total,
        "errors": sum(int(r["errors"]) for r in results),
        "wall_s": round(wall, 2),
        "cycles_per_s": round(total / wall, 1),
        "call_ms": stats,
        "latencies": lat,
    }


def combine(rounds: list[Figures]) -> Figures:
    """One server's figures over all its rounds."""
    lat = [x for r in rounds for x in r["latencies"]]
    cycles = sum(int(r["cycles"]) for r in rounds)
    wall = sum(float(r["wall_s"]) for r in rounds)
    return {
        "cycles": cycles,
        "errors": sum(int(r["errors"]) for r in rounds),
        "wall_s": round(wall, 2),
        "cycles_per_s": round(cycles / wall, 1),
        "rounds_cycles_per_s": [r["cycles_per_s"] for r in rounds],
        "call_ms": {k: round(v * 1000, 1) for k, v in summary(lat).items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--tenants", type=int, default=200)
    ap.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="measured rounds; each is one cycle per connection on each server",
    )
    ap.add_argument("--clients", type=int, default=6, help="load-generating processes")
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    reset_database(BENCH_DATABASE_URL)
    flush_redis()
    creds = seed(args.connections, args.tenants)
    ours: list[Figures] = []
    bare: list[Figures] = []
    with (
        gunicorn(workers=args.workers, threads=args.threads) as (base, _),
        gunicorn("bench.bare_spyne:application", workers=args.workers, threads=args.threads) as (
            bare_base,
            _,
        ),
    ):
        # The first poll of each company file pays scrypt (later ones are remembered for
        # hours): measured on its own, then the steady state. The two servers take turns,
        # round by round, so that a change in the machine's speed hits both alike.
        cold = load(base + "/qbwc", creds, 1, args.clients)
        load(bare_base + "/", creds, 1, args.clients)
        for _ in range(args.rounds):
            ours.append(load(base + "/qbwc", creds, 1, args.clients))
            bare.append(load(bare_base + "/", creds, 1, args.clients))
    mine, floor = combine(ours), combine(bare)
    ratio = float(mine["cycles_per_s"]) / float(floor["cycles_per_s"])
    # Each round of ours ran right before one of bare spyne's: the pairs' ratios show how
    # much of the overall ratio is the machine's speed changing between rounds.
    paired = [
        a / b
        for a, b in zip(
            mine["rounds_cycles_per_s"],
            floor["rounds_cycles_per_s"],
            strict=True,
        )
    ]
    cold.pop("latencies")
    report(
        "polling",
        {
            "connections": args.connections,
            "tenants": args.tenants,
            "gunicorn": f"{args.workers} workers x {args.threads} threads (gthread)",
            "load_processes": args.clients,
            "qbslack_first_poll": cold,
            "qbslack": mine,
            "bare_spyne": floor,
            "ratio_to_bare_spyne": round(ratio, 2),
            "round_ratios": [round(r, 2) for r in paired],
            "median_round_ratio": round(statistics.median(paired), 2),
            "targets": ">= 100 cycles/s, p99 call < 250 ms, ratio >= 0.5",
        },
    )


if __name__ == "__main__":
    main()
