"""The runtime a job function runs with: set by the worker that executes it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.runtime import Runtime

_current: ContextVar[Runtime | None] = ContextVar("qbslack_runtime", default=None)
_process_default: list[Runtime] = []  # set once by `qbslack worker`


@contextmanager
def use_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Run the enclosed jobs with this runtime (in-process worker, tests)."""
    token = _current.set(runtime)
    try:
        yield runtime
    finally:
        _current.reset(token)


def set_process_runtime(runtime: Runtime) -> None:
    """Make runtime the default of this worker process (RQ jobs import by path)."""
    _process_default[:] = [runtime]


def current_runtime() -> Runtime:
    """The runtime for the running job: contextual, else the process's, else from env."""
    rt = _current.get()
    if rt is not None:
        return rt
    if not _process_default:
        from app.runtime import Runtime
        from app.settings import Settings

        _process_default.append(Runtime.from_settings(Settings.from_env()))
    return _process_default[0]
