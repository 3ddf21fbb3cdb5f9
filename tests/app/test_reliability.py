"""The reliability bench, small: 64 concurrent clients for 10 s against a real uvicorn —
sealing with Idempotency-Keys mixed with verification, OCSP and time-stamps. Behaviour, not
timings: no 5xx other than 503, every 200 accounted for, no key sealed twice, the audit chain
intact (bench/reliability.py runs the full 256-client version with kill -9 and restarts)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.dbutil import POSTGRES_URL, on_postgres

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from reliability import run  # type: ignore[import-not-found]


def test_64_clients_for_10_seconds_stay_consistent(tmp_path: Path) -> None:
    db = "postgresql" if on_postgres() else "sqlite"
    summary = run(db=db, clients=64, seconds=10, pg_url=POSTGRES_URL, folder=tmp_path)
    assert summary["bad_5xx"] == []
    assert summary["consistent"]
    assert summary["seal"]["ok_per_s"] > 0 and summary["ocsp"]["ok_per_s"] > 0
