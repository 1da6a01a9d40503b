"""The feature blueprints mounted by the app factory, in one list."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from app import metrics
from app.runtime import Runtime

REGISTRARS: list[Callable[[Flask, Runtime], None]] = [
    metrics.register,
]
