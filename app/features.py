"""The feature blueprints mounted by the app factory, in one list."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from app import metrics, qwc_download
from app.runtime import Runtime
from app.slack import http as slack_http
from jobs import embedded as jobs_embedded
from soap import http as soap_http

REGISTRARS: list[Callable[[Flask, Runtime], None]] = [
    metrics.register,
    soap_http.register,
    jobs_embedded.register,
    slack_http.register,
    qwc_download.register,
]
