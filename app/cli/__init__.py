"""The `qbslack` command line (entry point `app.cli:main`)."""

from app.cli.main import main

__all__ = ["main"]
