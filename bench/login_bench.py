"""Sign-in answer times: wrong password, unknown user and an account held back after too
many failures from this address must not be told apart by timing (issue 10).

Builds a fresh service in a temporary folder and signs in through HTTP (Starlette's
TestClient, so the network adds nothing). Each case runs from its own client address.

    .venv/bin/python bench/login_bench.py [--runs 15]

Prints the median and p90 per case and each median's ratio to the wrong-password baseline
measured in the same run (close to 1.00 is the goal; the right password is shown for scale).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.db import unit_of_work  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import Person  # noqa: E402
from app.services.tenancy import create_account  # noqa: E402
from app.settings import Settings  # noqa: E402

PASSWORD = "a long benchmark password"


def _attempt(browser: TestClient, username: str, password: str) -> float:
    form = browser.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    started = time.perf_counter()
    browser.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            data_dir=Path(folder),
            cookie_secure=False,
            log_level="WARNING",
            login_rate_per_minute=10_000,
        )
        app = create_app(settings)
        with TestClient(app):
            with unit_of_work(app.state.services.engine) as session:
                person = Person(name="基准")
                session.add(person)
                session.flush()
                create_account(session, person=person, username="bench", password=PASSWORD)
            cases = {
                "wrong password": ("bench", "not the password", "10.0.0.1"),
                "unknown user": ("nobody", "not the password", "10.0.0.2"),
                "held back (right password)": ("bench", PASSWORD, "10.0.0.3"),
                "right password": ("bench", PASSWORD, "10.0.0.4"),
            }
            held = TestClient(app, client=("10.0.0.3", 1))
            for _ in range(settings.login_max_failures):
                _attempt(held, "bench", "not the password")
            times: dict[str, list[float]] = {}
            for name, (user, password, address) in cases.items():
                browser = TestClient(app, client=(address, 1))
                _attempt(browser, user, password)  # warm-up
                times[name] = [_attempt(browser, user, password) for _ in range(runs)]
        base = statistics.median(times["wrong password"])
        print(f"{'case':30} {'median ms':>10} {'p90 ms':>8} {'ratio':>6}")
        for name, values in times.items():
            median = statistics.median(values)
            p90 = sorted(values)[int(0.9 * (len(values) - 1))]
            print(f"{name:30} {median * 1000:10.1f} {p90 * 1000:8.1f} {median / base:6.2f}")


if __name__ == "__main__":
    main()
