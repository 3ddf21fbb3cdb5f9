"""A SoftHSM2 token for tests: its own configuration and token folder under a temp dir.

SoftHSM reads SOFTHSM2_CONF once, when the library is first initialised in a process, so one
configuration serves the whole test session; each call makes a fresh token in it by label.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

MODULE_CANDIDATES = (
    Path("/usr/lib/softhsm/libsofthsm2.so"),
    Path("/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"),
    Path("/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"),
)
USER_PIN = "246810"
SO_PIN = "13579111"


def softhsm_module() -> Path:
    """The SoftHSM2 module; a missing one skips (fails under CI=true: system-deps installs it)."""
    for path in MODULE_CANDIDATES:
        if path.exists() and shutil.which("softhsm2-util"):
            return path
    if os.environ.get("CI") == "true":
        pytest.fail("SoftHSM2 is missing: scripts/system-deps.sh installs softhsm2")
    pytest.skip("SoftHSM2 is not installed (scripts/system-deps.sh installs softhsm2)")


def softhsm_conf(root: Path) -> Path:
    """Point SOFTHSM2_CONF at a configuration whose tokens live under `root` (once per session)."""
    existing = os.environ.get("SOFTHSM2_CONF")
    if existing and Path(existing).parent.name == "softhsm-session":
        return Path(existing)
    folder = root / "softhsm-session"
    (folder / "tokens").mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n"
        "log.level = ERROR\nslots.removable = false\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    return conf


def init_token(label: str) -> None:
    """A fresh token `label` with the test PINs in the session's SoftHSM configuration."""
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            USER_PIN,
            "--so-pin",
            SO_PIN,
        ],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
