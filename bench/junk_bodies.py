"""Bench 6: junk bodies — 10 concurrent 19 MB posts to /qbwc against one gunicorn worker.

Run: .venv/bin/python bench/junk_bodies.py [--concurrent 10 --megabytes 19]
Three waves, each of `concurrent` posts at once: junk before login (an authenticate
envelope padded with empty elements), junk with an unknown ticket, and junk elements inside
a live session's receiveResponseXML (logged-in company files, one each). Prints the growth
of the worker's peak RSS (VmHWM) over the junk waves and over the live-session wave, what
each post was answered (BrokenPipeError: refused with 413 before the body was read), and
whether /healthz still answers.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
)
from soap.simulator.qbwc_client import SoapClient, result_strings
from tests.support.soap import envelope, params


def _post(url: str, body: bytes) -> str:
    """POST a body; the HTTP status, or what went wrong.

    BrokenPipeError: the server answered (413) and closed before the whole body was sent.
    """
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=120)
    try:
        conn.request("POST", parts.path, body=body, headers={"Content-Type": "text/xml"})
        return str(conn.getresponse().status)
    except OSError as exc:
        return type(exc).__name__  # the server answered early and closed: fine
    finally:
        conn.close()


def wave(url: str, bodies: list[bytes]) -> list[str]:
    """Send the bodies at once; their answers."""
    answers: list[str] = [""] * len(bodies)

    def one(i: int) -> None:
        answers[i] = _post(url, bodies[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def healthy(base: str) -> bool:
    """True when /healthz answers 200."""
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=10) as resp:  # localhost only
            return bool(resp.status == 200)
    except OSError:
        return False


def live_ticket(url: str, username: str, password: str) -> str:
    """A session's ticket, after its first sendRequestXML (awaiting a response)."""
    client = SoapClient(url)
    ticket = result_strings(
        client.call("authenticate", [("strUserName", username), ("strPassword", password)])
    )[0]
    client.call(
        "sendRequestXML",
        [
            ("ticket", ticket),
            ("strHCPResponse", ""),
            ("strCompanyFileName", "C:\\Books\\junk.qbw"),
            ("qbXMLCountry", "US"),
            ("qbXMLMajorVers", 13),
            ("qbXMLMinorVers", 0),
        ],
    )
    client.close()
    return ticket


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--concurrent", type=int, default=10)
    ap.add_argument("--megabytes", type=float, default=19.0)
    args = ap.parse_args()
    reset_database(BENCH_DATABASE_URL)
    flush_redis()
    rt = Runtime.from_settings(Settings.from_env(bench_env()))
    # One company file per live session: a new session replaces its connection's old one.
    logins = [seed_tenant(rt, f"TJUNK{i}", channel="CJUNK") for i in range(args.concurrent)]
    rt.close()
    size = int(args.megabytes * 1_000_000)
    flood = "<a/>" * (size // 4)
    figures: dict[str, Any] = {"concurrent": args.concurrent, "megabytes": args.megabytes}
    with gunicorn(workers=1, threads=args.concurrent + 2) as (base, proc):
        url = base + "/qbwc"
        healthy(base)
        time.sleep(1.0)
        before = children_peak_rss_mb(proc.pid)
        pre_login = envelope("authenticate", params(strUserName="x", strPassword="y") + flood)
        unknown = envelope(
            "receiveResponseXML", params(ticket="nope", response=flood, hresult="", message="")
        )
        waves = {"before_login": pre_login.encode(), "unknown_ticket": unknown.encode()}
        for name, body in waves.items():
            figures[name] = sorted(set(wave(url, [body] * args.concurrent)))
        after_junk = children_peak_rss_mb(proc.pid)
        tickets = [live_ticket(url, username, password) for username, password in logins]
        # Inside the envelope the qbXML is escaped text ("&lt;a/&gt;", 10 bytes an element).
        inner = "<a/>" * (size // 10 - 100)
        bodies = [
            envelope(
                "receiveResponseXML",
                params(ticket=t, response=f"<QBXML><QBXMLMsgsRs>{inner}</QBXMLMsgsRs></QBXML>")
                + params(hresult="", message=""),
            ).encode()
            for t in tickets
        ]
        figures["live_session_flood"] = sorted(set(wave(url, bodies)))
        after = children_peak_rss_mb(proc.pid)
        figures.update(
            worker_peak_rss_mb_before=round(before, 1),
            junk_growth_mb=round(after_junk - before, 1),
            live_session_growth_mb=round(after - after_junk, 1),
            healthz_after=healthy(base),
            target="junk before login: growth < 200 MB, still answering",
        )
    report("junk_bodies", figures)


if __name__ == "__main__":
    main()
