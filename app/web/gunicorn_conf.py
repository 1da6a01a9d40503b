"""gunicorn settings of every web process: `gunicorn -c python:app.web.gunicorn_conf` (Procfile)."""

import gc


def post_worker_init(worker: object) -> None:
    """Once the app is loaded in a worker, keep its objects out of the garbage collector."""
    # Flask, Bolt, spyne and SQLAlchemy leave ~150,000 long-lived objects; without this,
    # every full collection walks them all, and a page of 100 bills allocates enough to
    # trigger several. Frozen objects are still freed by reference counting.
    gc.freeze()
