"""How long the service takes to come back: `import app.main`, and `eseal serve` from start to
the first /readyz 200 on an initialised data folder (a restart after a kill), this tree
against a baseline tree measured in the same run, slices alternated.

    .venv/bin/python bench/startup_bench.py --base main --rounds 5

The baseline is `git archive` of ``--base`` in a temporary folder, run by this interpreter
with ``PYTHONPATH`` pointing at it (so the same installed libraries serve both). Figures:
median wall seconds and median CPU seconds (user + system, from /proc for the server, from
the child's rusage for the import), and the ratio this tree / baseline.
"""

from __future__ import annotations

import argparse
import http.client
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def _env(tree: Path, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    env["ESEAL_DATA_DIR"] = str(data_dir)
    env.pop("ESEAL_DATABASE_URL", None)
    return env


def time_import(tree: Path, data_dir: Path) -> tuple[float, float]:
    """(wall, cpu) seconds of a fresh interpreter importing app.main."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import app.main"],
        cwd=tree,
        env=_env(tree, data_dir),
        check=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/readyz")
        return connection.getresponse().status == 200
    except OSError:
        return False


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def time_serve(tree: Path, data_dir: Path, *, timeout: float = 180) -> tuple[float, float]:
    """(wall, cpu) seconds from starting `eseal serve` (one web worker) to /readyz 200; the
    server is killed afterwards, as an operator's kill would."""
    port = _free_port()
    code = "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"
    start = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", str(port), "--workers", "1"],
        cwd=tree,
        env=_env(tree, data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not _ready(port):
            if server.poll() is not None:
                raise RuntimeError(f"eseal serve in {tree} exited with {server.returncode}")
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"eseal serve in {tree} not ready after {timeout} s")
            time.sleep(0.02)
        wall = time.perf_counter() - start
        cpu = _cpu_of(server.pid)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(30)
    return wall, cpu


def _baseline(rev: str, into: Path) -> Path:
    into.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _line(name: str, base: list[tuple[float, float]], this: list[tuple[float, float]]) -> str:
    bw, bc = (statistics.median(x[i] for x in base) for i in (0, 1))
    tw, tc = (statistics.median(x[i] for x in this) for i in (0, 1))
    return (
        f"{name:<16} baseline {bw:6.2f} s wall {bc:5.2f} s cpu | this {tw:6.2f} s wall "
        f"{tc:5.2f} s cpu | ratio wall {tw / bw:4.2f} cpu {tc / bc:4.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="the baseline revision (git)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-serve", action="store_true", help="import time only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eseal-startup-") as tmp:
        work = Path(tmp)
        trees = {"base": _baseline(args.base, work / "base"), "this": ROOT}
        data = {name: work / f"data-{name}" for name in trees}
        for folder in data.values():
            folder.mkdir()
        for name, tree in trees.items():  # warm: .pyc files, and the first start's init
            time_import(tree, data[name])
            if not args.no_serve:
                time_serve(tree, data[name])
        imports: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        serves: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        for round_ in range(args.rounds):
            order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
            for name in order:
                imports[name].append(time_import(trees[name], data[name]))
                if not args.no_serve:
                    serves[name].append(time_serve(trees[name], data[name]))
        print(f"base {args.base}, {args.rounds} rounds, medians")
        print(_line("import app.main", imports["base"], imports["this"]))
        if not args.no_serve:
            print(_line("serve->readyz", serves["base"], serves["this"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
