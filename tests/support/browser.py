"""A real headless browser for page tests: Debian's chromium, driven from the command line.

`chromium --headless=new --dump-dom URL` prints the DOM after the page loaded, and
`--screenshot=PATH` writes a PNG; nothing beyond the standard library is needed. When
chromium is missing, the helper installs it (`apt-get install -y chromium`, as root where
apt-get exists; .ci/run does the same up front); only where that is impossible do the
tests skip, saying so.

Also here: the development runtime /dev/preview needs (a migrated SQLite file), and a
small PNG reader to look at a screenshot's pixels.
"""

from __future__ import annotations

import functools
import os
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis import Redis

from app.core.jobqueue import RQJobQueue
from app.core.migrate import upgrade
from app.core.runtime import Runtime
from tests.conftest import make_settings

MISSING = "Debian's chromium is not installed"
CANDIDATES = ("/usr/bin/chromium", "/usr/lib/chromium/chromium")
TIMEOUT = 180  # seconds for one browser run: generous for a loaded CI machine
INSTALL_TIMEOUT = 1800
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # root in a container has no user namespace for the sandbox
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    """The chromium binary, if there is one."""
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


@functools.cache
def chromium_or_reason() -> tuple[str | None, str]:
    """(path, "") or (None, why not): installs chromium with apt-get once when it can."""
    found = find_chromium()
    if found:
        return found, ""
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return None, f"{MISSING} (and apt-get cannot install it here: not root, or no apt-get)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in ([apt, "update", "-q"], [apt, "install", "-y", "-q", "chromium"]):
        try:
            done = subprocess.run(
                args,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"{MISSING} (apt-get failed: {exc})"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
            return None, f"{MISSING} (`{' '.join(args[1:])}` failed: {tail[0]})"
    found = find_chromium()
    return (found, "") if found else (None, f"{MISSING} (apt-get installed no binary)")


@dataclass
class Browser:
    """Headless chromium runs, each with a fresh profile under workdir."""

    path: str
    workdir: Path
    runs: int = 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        self.runs += 1
        profile = self.workdir / f"profile-{self.runs}"
        done = subprocess.run(
            [self.path, *FLAGS, f"--user-data-dir={profile}", *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
            cwd=self.workdir,
        )
        assert done.returncode == 0, f"chromium failed ({done.returncode}): {done.stderr[-2000:]}"
        return done

    def dom(self, url: str) -> str:
        """The page's DOM, serialized after it loaded."""
        return self._run("--dump-dom", url).stdout

    def screenshot(self, url: str, path: Path, *, width: int = 1280, height: int = 2000) -> Path:
        """A PNG of the page in a width x height window."""
        self._run(f"--screenshot={path}", f"--window-size={width},{height}", url)
        assert path.exists(), f"chromium wrote no screenshot at {path}"
        return path


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Browser:
    """Headless chromium; the test is skipped, saying why, only when it cannot be had."""
    path, reason = chromium_or_reason()
    if path is None:
        pytest.skip(reason)
    return Browser(path, tmp_path_factory.mktemp("chromium"))


@contextmanager
def development_runtime(directory: Path, redis: Redis) -> Iterator[Runtime]:
    """A runtime with development settings (`make run`'s SQLite, an http PUBLIC_URL) on a
    fresh migrated SQLite file; its jobs go to the test Redis, where no worker takes them,
    so events stay as the sessions left them."""
    url = f"sqlite:///{directory / 'qbslack.db'}"
    upgrade(url)
    settings = make_settings(database_url=url, public_url="http://localhost:8000")
    rt = Runtime.from_settings(settings, redis=redis, jobs=RQJobQueue(redis))
    try:
        yield rt
    finally:
        rt.engine.dispose()


@dataclass
class Png:
    """A decoded 8-bit RGB(A) PNG: pixels as (r, g, b) rows."""

    width: int
    height: int
    rows: list[list[tuple[int, int, int]]]

    def count(self, rgb: tuple[int, int, int], tolerance: int = 8) -> int:
        """How many pixels are within tolerance of a colour."""
        return sum(
            1
            for row in self.rows
            for px in row
            if all(abs(a - b) <= tolerance for a, b in zip(px, rgb, strict=True))
        )

    def not_white(self) -> int:
        """How many pixels are not (nearly) white."""
        return sum(1 for row in self.rows for px in row if min(px) < 235)


def read_png(path: Path, *, max_rows: int | None = None) -> Png:
    """Decode a non-interlaced 8-bit RGB or RGBA PNG (what chromium writes); with max_rows,
    only its top rows (pure Python is slow: a test looks where it needs to)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, chunk = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    bpp = 4 if color == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    previous = bytearray(stride)
    rows = []
    for y in range(height if max_rows is None else min(height, max_rows)):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + (left + previous[i]) // 2) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                up = previous[i]
                corner = previous[i - bpp] if i >= bpp else 0
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + pred) & 0xFF
        rows.append([(line[x], line[x + 1], line[x + 2]) for x in range(0, stride, bpp)])
        previous = line
    return Png(width, len(rows), rows)
