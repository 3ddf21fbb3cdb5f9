"""The synchronous `sign_pdf` runs each seal on the thread's one event loop: no loop made and
torn down per seal, and (in the main thread, where a seal worker signs) no SIGINT handler
swapped, whose restoring formatted the repr of the finished seal: the whole signed PDF."""

from __future__ import annotations

import asyncio
import threading

import pytest

from seals.signing import InvisiblePlacement, PadesLevel, SealingSpec, SignedPdf, sign_pdf
from seals.signing.loop import run


def test_a_seal_in_the_main_thread_never_formats_its_result(
    pki, contract_pdf, timestamper, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert threading.current_thread() is threading.main_thread()
    formatted: list[int] = []
    monkeypatch.setattr(SignedPdf, "__repr__", lambda self: formatted.append(1) or "SignedPdf")
    spec = SealingSpec(placement=InvisiblePlacement(), level=PadesLevel.B_T)
    for _ in range(2):
        sign_pdf(pdf=contract_pdf, identity=pki.alice, spec=spec, timestamper=timestamper)
    assert formatted == []


def test_one_loop_per_thread_and_not_inside_a_running_loop() -> None:
    async def loop_id() -> int:
        return id(asyncio.get_running_loop())

    assert run(loop_id()) == run(loop_id())
    other: list[int] = []
    worker = threading.Thread(target=lambda: other.append(run(loop_id())))
    worker.start()
    worker.join()
    assert other and other[0] != run(loop_id())

    async def nested() -> None:
        run(loop_id())

    with pytest.raises(RuntimeError, match="running event loop"):
        asyncio.run(nested())
