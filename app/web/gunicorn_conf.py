"""gunicorn settings of every web process: `gunicorn -c python:app.web.gunicorn_conf` (Procfile)."""

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger(__name__)

# Access lines (when --access-logfile is given) without download tokens or OAuth codes.
logger_class = "app.web.access_log.RedactingLogger"

# glibc's mallopt parameters (malloc.h).
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def post_fork(server: object, worker: object) -> None:
    """Give big buffers back to the system when freed, whichever thread allocated them."""
    # A request's big body (megabytes of QuickBooks data) is freed when answered, but glibc
    # keeps freed memory in the arena of the thread that used it, and after the first big
    # free it raises its mmap threshold so later big buffers come from those arenas: with
    # 8 threads a worker would keep 8 bodies' worth. A fixed threshold maps every buffer
    # over 1 MB on its own and unmaps it on free; two arenas keep the small ones together.
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(M_MMAP_THRESHOLD, 1024 * 1024)
        libc.mallopt(M_ARENA_MAX, 2)
    except (OSError, AttributeError):  # not glibc (musl, macOS): its defaults stand
        log.info("mallopt unavailable; default allocator settings")


def post_worker_init(worker: object) -> None:
    """Once the app is loaded in a worker, keep its objects out of the garbage collector."""
    # Flask, Bolt, spyne and SQLAlchemy leave ~150,000 long-lived objects; without this,
    # every full collection walks them all, and a page of 100 bills allocates enough to
    # trigger several. Frozen objects are still freed by reference counting.
    gc.freeze()
