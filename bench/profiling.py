"""Sampling profiles of the running service for the benchmarks' output.

`sampled(pid)` runs py-spy (all threads, native frames off, non-blocking so the service is not
paused) while a measurement runs; `top_table` turns its collapsed stacks into the two tables
that say where the time goes: own time per function and time including callees. py-spy is a
development tool (`pip install py-spy`); without it the benchmarks print figures only.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def py_spy() -> str | None:
    """The py-spy next to this interpreter, else on PATH."""
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


@contextmanager
def sampled(pid: int, *, rate: int = 200, enabled: bool = True) -> Iterator[list[str]]:
    """Sample `pid` (and its worker processes) until the block ends; the list it yields is
    filled with the top-20 tables afterwards (empty when py-spy is missing or disabled)."""
    tables: list[str] = []
    tool = py_spy()
    if not enabled or tool is None:
        yield tables
        return
    out = Path(tempfile.mkdtemp(prefix="eseal-spy-")) / "stacks.txt"
    spy = subprocess.Popen(
        [tool, "record", "--pid", str(pid), "--subprocesses", "--nonblocking",
         "--rate", str(rate), "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield tables
    finally:
        spy.send_signal(2)  # SIGINT: py-spy writes what it has and exits
        spy.wait(30)
        if out.exists():
            tables.extend(top_table(out.read_text()))


def _frame_name(frame: str) -> str:
    """`function (path/to/module.py:123)` -> `function (module.py)`: lines merged."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0].rstrip(")")
    parts = Path(path).parts
    short = "/".join(parts[-2:]) if len(parts) >= 2 else path
    return f"{name} ({short})"


IDLE = (
    "select (selectors.py)",
    "wait (threading.py)",
    "Condition.wait (threading.py)",
    "Queue.get (queue.py)",
    "_worker (thread.py)",
    "poll (",
)


def top_table(raw: str, n: int = 20) -> list[str]:
    """Top-`n` functions by own samples and by inclusive samples, idle waits left out."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_frame_name(f) for f in stack.split(";") if " (" in f]
        if not frames or any(frames[-1].startswith(i) for i in IDLE):
            continue
        count = int(count_text)
        samples += count
        own[frames[-1]] += count
        for name in set(frames):
            total[name] += count
    if not samples:
        return ["(no busy samples)"]
    lines = [f"busy samples: {samples}", f"{'own %':>6}  function"]
    lines += [f"{100 * c / samples:6.1f}  {name}" for name, c in own.most_common(n)]
    lines += [f"{'incl %':>6}  function"]
    lines += [f"{100 * c / samples:6.1f}  {name}" for name, c in total.most_common(n)]
    return lines


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of `pid` and of its children, waited-for or alive."""
    import os

    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid, *_descendants(pid)]
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime are fields 14-17 (1-based) of /proc/PID/stat
        total += sum(int(v) for v in fields[11:15]) / ticks  # own time + reaped children
    return total


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    for child in list(found):
        found += _descendants(child)
    return found
