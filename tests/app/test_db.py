"""Units of work: writers are serialised, long read-only work does not block them."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlmodel import select

from app.db import reading, unit_of_work
from app.models import AuditEvent
from app.services import audit


def _write(engine: Any, done: threading.Event) -> None:
    with unit_of_work(engine) as session:
        audit.record(session, actor="t", action="x.y", target_type="t", target_id="1")
    done.set()


def test_a_reading_transaction_does_not_block_a_writer(fresh_engine: Any) -> None:
    done = threading.Event()
    with unit_of_work(reading(fresh_engine)) as reader:
        reader.exec(select(AuditEvent)).all()  # the read transaction is now open
        writer = threading.Thread(target=_write, args=(fresh_engine, done))
        writer.start()
        assert done.wait(10), "a writer waited for a read-only transaction"
    writer.join()


def test_writers_are_serialised(fresh_engine: Any) -> None:
    """Two writers appending to the audit chain never fork it."""
    done = threading.Event()
    with unit_of_work(fresh_engine) as first:
        audit.record(first, actor="t", action="x.y", target_type="t", target_id="0")
        writer = threading.Thread(target=_write, args=(fresh_engine, done))
        writer.start()
        time.sleep(0.3)
    writer.join(10)
    assert done.is_set()
    with unit_of_work(fresh_engine) as session:
        report = audit.verify_chain(session)
    assert report.intact and report.events == 2
