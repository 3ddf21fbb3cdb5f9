"""One event loop per thread for the synchronous `sign_pdf` entry points (issue 12).

`asyncio.run` per seal made a new loop (selector, self-pipe) and shut it down again, and in the
main thread (where a seal worker signs) installed and restored a SIGINT handler: restoring it
makes the `signal` module try `Handlers(old_handler)`, whose failure message is the repr of
the finished task, result included, i.e. the repr of the whole signed PDF, twice per seal.
`run` keeps one loop per thread and runs each seal to completion on it; tasks a seal leaves
behind are cancelled, as `asyncio.run` does.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
_local = threading.local()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion on this thread's loop (not from inside a running loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        coro.close()
        raise RuntimeError("sign_pdf cannot be called from a running event loop")
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        left = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in left:
            task.cancel()
        if left:
            loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
