"""Service processes tests start: waiting for one to be ready."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import httpx


def wait_until_ready(base: str, process: subprocess.Popen[Any], *, seconds: float) -> bool:
    """Poll ``base``/readyz until it answers 200 (True), or until `process` has exited or
    `seconds` have passed (False)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.2)
