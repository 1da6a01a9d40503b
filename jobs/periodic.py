"""Periodic work started with each worker (the outbox sweeper lives here)."""

from __future__ import annotations

from collections.abc import Callable

from app.runtime import Runtime

# Hooks run when a worker (RQ or in-process) starts; the delivery module adds the sweeper.
ON_START: list[Callable[[Runtime], None]] = []


def on_worker_start(runtime: Runtime) -> None:
    """Run every registered start hook."""
    for hook in ON_START:
        hook(runtime)
