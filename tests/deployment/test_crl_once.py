"""A stale CRL noticed by two instances at once is re-issued once: the second waits for the
row lock and hands out the first one's CRL (real database: SQLite, or PostgreSQL when set)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from app.bootstrap import initialise
from app.db import unit_of_work
from app.settings import Settings
from app.wiring import build_services
from pki.models import CrlState
from tests.dbutil import drop_database, fresh_database_url


def test_two_instances_refresh_a_stale_crl_once(tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path)
    try:
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        initialise(settings)
        first, second = build_services(settings), build_services(settings)  # two instances
        with unit_of_work(first.engine) as session:
            first.publisher.current_crl(session, "organization")
            state = session.get(CrlState, "organization")
            assert state is not None and state.next_update is not None
            state.next_update = first.authority.clock() - timedelta(minutes=1)  # stale now
            session.add(state)
            before = state.crl_number
        start = threading.Barrier(2)
        got: list[bytes] = []

        def fetch(services: object) -> None:
            start.wait()
            with unit_of_work(services.engine) as session:  # type: ignore[attr-defined]
                got.append(services.publisher.current_crl(session, "organization"))  # type: ignore[attr-defined]

        threads = [threading.Thread(target=fetch, args=(s,)) for s in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        with unit_of_work(first.engine) as session:
            state = session.get(CrlState, "organization")
            assert state is not None
            assert state.crl_number == before + 1
            assert got == [state.crl_der, state.crl_der]
        first.engine.dispose()
        second.engine.dispose()
    finally:
        drop_database(url)
