"""Reliability under load and faults: many concurrent clients on loopback for a bounded time —
sealing with Idempotency-Keys mixed with verification, OCSP and time-stamps — with a kill -9
and restart of the service and (PostgreSQL) a restart of the database in the middle. Prints
throughput, p50/p99 per endpoint, status counts and a consistency check:

* every 200 from sealing has its stored document (row and file), its `seal.use` audit event
  and its usage row; no Idempotency-Key produced two documents; every stored document of the
  run is accounted for by exactly one audit event and one usage row;
* `eseal audit verify` reports the chain intact.

Goal (issue 11): no 5xx other than 503, OCSP p99 < 100 ms while sealing is saturated, nothing
lost or duplicated. Loopback only, stops by itself. Latencies of the many clients include the
load generator's own queueing (it shares the machine); the OCSP probe, a separate process
sending one request at a time, shows the service's own OCSP latency under that load.

    .venv/bin/python bench/reliability.py --db sqlite --clients 256 --seconds 30 --kill
    .venv/bin/python bench/reliability.py --db postgresql --pg-cluster 15/bench --kill \
        --pg-restart

`--pg-cluster VERSION/NAME` names a PostgreSQL cluster this script may restart (use a private
one, e.g. `pg_createcluster 15 bench --port 5439 --start`; restarting the shared server would
disturb everyone else using it). Its URL comes from `--pg-url`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import free_port
from reliability_setup import Fixture, consistency, drop_database, prepare

MIX = (("seal", 4), ("verify", 2), ("ocsp", 3), ("tsa", 2))


@dataclass
class Results:
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    sealed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """Idempotency-Key -> document ids answered with 200 for it."""

    def record(self, endpoint: str, status: str, seconds: float) -> None:
        self.statuses[endpoint][status] += 1
        if status == "200":
            self.samples[endpoint].append(seconds)


class Service:
    """uvicorn on a fixed port, restartable (kill -9 keeps the port and the data)."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env = env
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "app.main:app_from_environment",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
             "--no-access-log", "--timeout-keep-alive", "30"],
            env=self.env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).is_success:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the service did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def restart(self) -> None:
        """kill -9, start again; prints how long the service was unreachable for."""
        started = time.monotonic()
        self.kill()
        self.start()
        print(f"kill -9 + restart: healthy again after {time.monotonic() - started:.1f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


async def client_loop(
    index: int, http: httpx.AsyncClient, fx: Fixture, results: Results, deadline: float
) -> None:
    """One client: a weighted mix of operations until the deadline; a seal is retried with the
    same Idempotency-Key after a 503 or a dropped connection (as a portal would)."""
    weights = [w for _, w in MIX]
    names = [n for n, _ in MIX]
    rng = __import__("random").Random(index)
    pending_key: str | None = None
    while time.monotonic() < deadline:
        name = "seal" if pending_key else rng.choices(names, weights)[0]
        started = time.monotonic()
        retry_after, key = "", ""
        try:
            if name == "seal":
                key = pending_key or secrets.token_hex(12)
                answer = await http.post(
                    f"/api/v1/seals/{fx.seal_id}/sign",
                    files={"file": ("c.pdf", fx.document, "application/pdf")},
                    data={"placement": '{"type": "invisible"}', "level": "B-T"},
                    headers={**fx.seal_auth, "Idempotency-Key": key},
                )
                pending_key = key if answer.status_code in (503, 409) else None
                retry_after = answer.headers.get("retry-after", "")
                if answer.status_code == 200:
                    results.sealed[key].add(answer.headers["x-eseal-document-id"])
            elif name == "verify":
                answer = await http.post("/api/v1/verify", content=fx.signed)
                retry_after = answer.headers.get("retry-after", "")
            elif name == "ocsp":
                answer = await http.post(
                    "/pki/ocsp",
                    content=fx.ocsp_request,
                    headers={"content-type": "application/ocsp-request"},
                )
            else:
                answer = await http.post(
                    "/pki/tsa",
                    content=fx.tsa_query,
                    headers={"content-type": "application/timestamp-query"},
                )
            status = str(answer.status_code)
        except httpx.TransportError as exc:
            status = f"conn:{type(exc).__name__}"
            if name == "seal":  # the answer is lost, not the request: it may have been sealed
                pending_key = key
            await asyncio.sleep(0.5 + rng.random())  # the service is down or restarting
        results.record(name, status, time.monotonic() - started)
        if status in ("503", "409"):  # honour Retry-After, jittered so retries do not come in waves
            pause = float(retry_after) if retry_after.isdigit() else 1.0
            await asyncio.sleep(min(pause * (0.5 + rng.random()), deadline - time.monotonic()))


async def drive(
    base: str, fx: Fixture, clients: int, seconds: float, events: list[tuple[float, Any]]
) -> tuple[Results, float]:
    results = Results()
    # One client, one connection of its own (as independent portals are): a single pool shared
    # by hundreds of tasks spends the load generator's time in httpcore's pool bookkeeping.
    https = [
        httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=1))
        for _ in range(clients)
    ]
    try:
        started = time.monotonic()
        deadline = started + seconds
        tasks = [
            asyncio.create_task(client_loop(i, http, fx, results, deadline))
            for i, http in enumerate(https)
        ]
        for at, action in events:
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            await asyncio.to_thread(action)
        await asyncio.gather(*tasks)
        return results, time.monotonic() - started
    finally:
        await asyncio.gather(*(http.aclose() for http in https))


def warm_up(base: str, fx: Fixture) -> None:
    """One request of each kind before the clock starts (workers up, caches filled)."""
    with httpx.Client(base_url=base, timeout=120) as http:
        for _ in range(2):
            http.post("/api/v1/verify", content=fx.signed)
            http.post("/pki/ocsp", content=fx.ocsp_request)
            http.post(
                f"/api/v1/seals/{fx.seal_id}/sign",
                files={"file": ("c.pdf", fx.document, "application/pdf")},
                data={"placement": '{"type": "invisible"}', "level": "B-T"},
                headers={**fx.seal_auth, "Idempotency-Key": secrets.token_hex(12)},
            )


def ocsp_probe(base: str, request: bytes, seconds: float, out: Any) -> None:
    """A separate process sending one OCSP request at a time: its latencies are the service's,
    not those of a client process busy with hundreds of its own tasks."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base, timeout=30) as http:
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                ok = http.post("/pki/ocsp", content=request).status_code == 200
            except httpx.TransportError:
                ok = False
                time.sleep(0.2)
            if ok:
                latencies.append(time.monotonic() - started)
            time.sleep(0.02)
    out.put(latencies)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(results: Results, elapsed: float, title: str) -> dict[str, Any]:
    print(f"\n== {title}: {elapsed:.1f} s")
    print(f"{'endpoint':8} {'ok/s':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    total_ok = 0
    bad: list[str] = []
    summary: dict[str, Any] = {}
    for name, _ in MIX:
        ok = results.samples.get(name, [])
        total_ok += len(ok)
        statuses = dict(sorted(results.statuses.get(name, Counter()).items()))
        bad += [f"{name}:{s}" for s in statuses if s.startswith("5") and s != "503"]
        p50, p99 = percentile(ok, 0.5) * 1000, percentile(ok, 0.99) * 1000
        summary[name] = {"ok_per_s": len(ok) / elapsed, "p50_ms": p50, "p99_ms": p99}
        print(f"{name:8} {len(ok) / elapsed:7.1f} {p50:8.1f} {p99:8.1f}  {statuses}")
    print(f"throughput: {total_ok / elapsed:.1f} successful requests/s")
    print(f"5xx other than 503: {bad or 'none'}")
    summary["bad_5xx"] = bad
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--clients", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--kill", action="store_true", help="kill -9 + restart in the middle")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5439/")
    parser.add_argument("--pg-cluster", default=None, help="VERSION/NAME to restart, e.g. 15/bench")
    parser.add_argument("--pg-restart", action="store_true")
    args = parser.parse_args()
    if args.seconds > 120 or args.clients > 1024:
        parser.error("bounded: at most 120 s and 1024 clients")
    if args.pg_restart and not args.pg_cluster:
        parser.error("--pg-restart needs --pg-cluster (a private cluster)")
    summary = run(
        db=args.db,
        clients=args.clients,
        seconds=args.seconds,
        kill=args.kill,
        pg_url=args.pg_url,
        pg_cluster=args.pg_cluster if args.pg_restart else None,
    )
    return 0 if summary["consistent"] and not summary["bad_5xx"] else 1


def run(
    *,
    db: str,
    clients: int,
    seconds: float,
    kill: bool = False,
    pg_url: str = "",
    pg_cluster: str | None = None,
    folder: Path | None = None,
) -> dict[str, Any]:
    """One bounded run; returns the summary (also printed)."""
    folder = folder or Path(tempfile.mkdtemp(prefix="eseal-reliability-"))
    port = free_port()
    fx, env = prepare(folder=folder, port=port, db=db, pg_url=pg_url)
    service = Service(env, port)
    service.start()
    warm_up(f"http://127.0.0.1:{port}", fx)
    events: list[tuple[float, Any]] = []
    if kill:
        events.append((seconds / 3, service.restart))
    if pg_cluster:
        version, name = pg_cluster.split("/")
        events.append(
            (
                2 * seconds / 3,
                lambda: subprocess.run(
                    ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"],
                    check=True,
                ),
            )
        )
    context = multiprocessing.get_context("spawn")
    probe_out = context.Queue()
    probe = context.Process(
        target=ocsp_probe, args=(f"http://127.0.0.1:{port}", fx.ocsp_request, seconds, probe_out)
    )
    probe.start()
    try:
        results, elapsed = asyncio.run(
            drive(f"http://127.0.0.1:{port}", fx, clients, seconds, events)
        )
        probed: list[float] = probe_out.get(timeout=120)
        probe.join(30)
    finally:
        service.stop()
    title = f"{db}, {clients} clients" + (", kill -9" if kill else "")
    title += ", PostgreSQL restart" if pg_cluster else ""
    summary = report(results, elapsed, title)
    summary["ocsp_probe"] = {
        "p50_ms": percentile(probed, 0.5) * 1000,
        "p99_ms": percentile(probed, 0.99) * 1000,
        "count": len(probed),
    }
    probe_ms = summary["ocsp_probe"]
    print(
        f"OCSP probe (own process, one at a time, {len(probed)} answers): "
        f"p50 {probe_ms['p50_ms']:.1f} ms, p99 {probe_ms['p99_ms']:.1f} ms"
    )
    try:
        checked = consistency(fx, env, {k: v for k, v in results.sealed.items()})
    finally:
        drop_database(fx.database_url)
    for line in checked.lines:
        print(line)
    summary["consistent"] = checked.ok
    print(json.dumps({"consistent": checked.ok, "bad_5xx": summary["bad_5xx"]}))
    return summary


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
