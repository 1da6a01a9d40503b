"""Embedded mode (no Redis): the sweeper runs in the web process beside in-process jobs."""

from __future__ import annotations

from flask import Flask

from app.runtime import Runtime
from jobs.queue import InProcessJobQueue


def register(app: Flask, runtime: Runtime) -> None:
    """Start the background sweeper when jobs run in this process."""
    if not isinstance(runtime.jobs, InProcessJobQueue) or "background" in runtime.extras:
        return
    from jobs.background import Background

    runtime.extras["background"] = Background(runtime).start()
