"""Throughput with 1 and with 2 web workers, on SQLite and on PostgreSQL.

For each database and worker count: a fresh installation (uvicorn `--workers N`, each worker
with cores / N PDF and signing processes, as `eseal serve` shares them), then `--connections`
keep-alive connections driven by one asyncio client thread (bench/loadgen.py: pre-built
request bytes, a few microseconds of client CPU per request) for `--warm` seconds, then
`--seconds` measured on the same connections, per operation: sealing (1 page, invisible,
B-T), time-stamps, OCSP with a nonce (a status read and a signature each) and certificate
issuance (a write transaction each). Prints operations/s and the ratio of 2 workers to 1
(goal, issue 12: >= 1.8 on 2 cores), with the evidence that says what bounds the ratio: CPU
per operation of the service and of the client, cores busy in each, cores left idle on the
machine, how the service's CPU split between the two web workers (the kernel hands each new
connection to whichever worker accepts first, so enough connections are needed for an even
split; the warm-up also makes every worker unlock its keys and fill its caches), and the
ceiling the client's own CPU leaves the ratio.

Unpinned, one web worker already spreads over every core through its seal and PDF worker
processes (cores / workers of each), so on 2 cores the ratio says what a second web worker
adds beyond that, not whether the service scales. `--pin` confines the service (and every
process it starts) to as many CPUs as it has web workers, one PDF and one seal process per
worker: 1 worker on 1 core against 2 on 2 cores, which is the scaling the goal asks about.
The client stays unpinned, so with 2 workers it takes its CPU from the service's 2 cores.

    .venv/bin/python bench/scale.py [--seconds 10] [--warm 3] [--connections 32]
        [--db sqlite postgresql] [--ops seal time-stamp OCSP issuance] [--pin]
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from asn1crypto import algos, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from harness import multipart, running_service
from loadgen import drive, http_request
from profiling import cpu_seconds

from seals.documents import make_document
from seals.fonts import find_cjk_font

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
OCSP_NONCES = 4096
"""Distinct OCSP requests (each with its own nonce) the connections cycle through."""


@contextmanager
def database(kind: str) -> Iterator[str | None]:
    """None for SQLite (in the data folder); a fresh PostgreSQL database, dropped afterwards."""
    if kind == "sqlite":
        yield None
        return
    import psycopg

    name = f"eseal_scale_{uuid.uuid4().hex[:12]}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def pinned(cpus: list[int] | None) -> Iterator[None]:
    """Processes started in the block run on `cpus` only (they inherit this process's
    affinity when they start); this process gets every CPU back afterwards."""
    everywhere = os.sched_getaffinity(0)
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, everywhere)


def _machine_idle() -> float:
    """Idle + iowait seconds of all CPUs together so far (/proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    return (int(fields[3]) + int(fields[4])) / os.sysconf("SC_CLK_TCK")


def _database_cpu(url: str | None) -> dict[int, float]:
    """CPU seconds of each PostgreSQL server process serving `url`'s database (its backends,
    titled `postgres: ... USER DATABASE HOST(PORT) STATE`); none for SQLite, which runs
    inside the service. The server's shared writers (WAL writer, checkpointer) are not
    counted, nor what a backend that has exited since spent."""
    if not url:
        return {}
    title = f" {url.rsplit('/', 1)[1]} ".encode()
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes()
            if not cmdline.startswith(b"postgres: ") or title not in cmdline:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(proc.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def _database_sessions(url: str | None) -> int:
    """Connections ever made to `url`'s PostgreSQL database (pg_stat_database.sessions)."""
    if not url:
        return 0
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres") as conn:
        row = conn.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
    return int(row[0]) if row else 0


def _workers(pid: int) -> list[int]:
    """The web worker processes of the uvicorn supervisor `pid` (its children that are not
    multiprocessing's resource tracker)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
            found |= {
                c
                for c in children
                if b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()
            }
        except OSError:
            continue
    return sorted(found)


@dataclass
class Measured:
    """Totals over the slices of one operation on one service."""

    ok: int = 0
    failed: int = 0
    seconds: float = 0.0
    service_cpu: float = 0.0
    """The service's process tree (/proc, user + system)."""
    client_cpu: float = 0.0
    database_cpu: float = 0.0
    """PostgreSQL's backends for the service's database (not in the service's tree)."""
    database_sessions: int = 0
    """Connections the service opened to PostgreSQL."""
    idle: float = 0.0
    """CPU seconds left idle on the whole machine."""
    per_worker: list[float] = field(default_factory=list)
    """Each web worker's CPU seconds (with its PDF and seal processes)."""

    @property
    def rate(self) -> float:
        return self.ok / max(1e-9, self.seconds)

    def per_op(self, cpu: float) -> float:
        """`cpu` seconds in milliseconds per successful operation."""
        return 1000 * cpu / max(1, self.ok)

    def cores(self, cpu: float) -> float:
        return cpu / max(1e-9, self.seconds)

    @property
    def split(self) -> str:
        total = max(1e-9, sum(self.per_worker))
        return "/".join(f"{100 * w / total:.0f}" for w in self.per_worker)


def throughput(
    svc: Any, requests: list[bytes], connections: int, warm: float, seconds: float,
    into: Measured,
) -> None:  # fmt: skip
    """Add to `into` the answers of `connections` keep-alive connections (one asyncio thread,
    bench/loadgen.py) over `seconds` after `warm` seconds on the same connections, with the
    CPU the service, each of its web workers, this client and the whole machine spent."""
    parts, pid, url = urlsplit(svc.base), svc.pid, svc.settings.database_url
    workers = _workers(pid)
    marks: list[tuple[float, list[float], float, dict[int, float], int]] = []

    def mark() -> None:
        sessions = _database_sessions(url)
        marks.append(
            (cpu_seconds(pid), [cpu_seconds(w) for w in workers], _machine_idle(),
             _database_cpu(url), sessions)
        )  # fmt: skip

    load = drive(
        parts.hostname or "127.0.0.1",
        parts.port or 80,
        requests,
        connections=connections,
        warm=warm,
        seconds=seconds,
        on_start=mark,
        on_stop=mark,
    )
    (svc0, per0, idle0, db0, sessions0), (svc1, per1, idle1, db1, sessions1) = marks
    into.ok += load.ok
    into.failed += load.failed
    into.seconds += load.seconds
    into.service_cpu += svc1 - svc0
    into.client_cpu += load.client_cpu
    into.database_cpu += sum(cpu - db0.get(backend, 0.0) for backend, cpu in db1.items())
    # less the connection that counted them (PostgreSQL only: SQLite has no sessions to count)
    into.database_sessions += sessions1 - sessions0 - (1 if url else 0)
    into.idle += idle1 - idle0
    busy = [b - a for a, b in zip(per0, per1, strict=True)]
    into.per_worker = [
        a + b for a, b in zip(into.per_worker or [0.0] * len(busy), busy, strict=True)
    ]


def setup(svc: Any) -> dict[str, Any]:
    """An organization, an active seal the sealing client may use, one certificate."""
    http, headers = svc.http, svc.platform_auth

    def ok(response: Any) -> Any:
        assert response.status_code in (200, 201), response.text
        return response.json()

    org = ok(
        http.post(
            "/api/v1/organizations",
            json={"name": "扩展测试有限公司", "uscc": "91330106MA2B3C4D5D"},
            headers=headers,
        )
    )
    clients = f"/api/v1/organizations/{org['id']}/clients"
    admin = {
        "Authorization": "Bearer "
        + ok(http.post(clients, json={"name": "a", "scopes": ["org:admin"]}, headers=headers))[
            "api_key"
        ]
    }
    user = ok(http.post(clients, json={"name": "s", "scopes": ["seals:use"]}, headers=headers))
    seal = ok(
        http.post(
            f"/api/v1/organizations/{org['id']}/seals",
            json={"kind": "contract", "dpi": 150},
            headers=admin,
        )
    )
    ok(http.post(f"/api/v1/seals/{seal['id']}/activate", headers=admin))
    ok(
        http.post(
            f"/api/v1/seals/{seal['id']}/grants",
            json={"grantee_kind": "client", "grantee_id": user["id"]},
            headers=admin,
        )
    )
    issue_path = f"/api/v1/organizations/{org['id']}/certificates"
    leaf = x509.load_pem_x509_certificate(
        ok(http.post(issue_path, json={}, headers=headers))["pem"].encode()
    )
    issuer = x509.load_der_x509_certificate(http.get("/pki/ca/organization.crt").content)
    return {
        "seal": seal["id"],
        "user": user["api_key"],
        "issue_path": issue_path,
        "leaf": leaf,
        "issuer": issuer,
        "platform": headers,
    }


def operations(fx: dict[str, Any], pdf: bytes, host: str) -> dict[str, list[bytes]]:
    """Each operation's requests, as bytes on the wire, built before any clock starts."""
    seal_body, seal_type = multipart({"placement": '{"type": "invisible"}', "level": "B-T"}, pdf)
    seal_headers = {"content-type": seal_type, "authorization": f"Bearer {fx['user']}"}
    query = tsp.TimeStampReq(
        {
            "version": 1,
            "cert_req": True,
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "hashed_message": os.urandom(32),
            },
        }
    ).dump()
    builder = ocsp.OCSPRequestBuilder().add_certificate(fx["leaf"], fx["issuer"], hashes.SHA256())
    ocsp_type = {"content-type": "application/ocsp-request"}
    return {
        "seal 1 page B-T": [
            http_request(host, f"/api/v1/seals/{fx['seal']}/sign", seal_body, seal_headers)
        ],
        "time-stamp": [
            http_request(host, "/pki/tsa", query, {"content-type": "application/timestamp-query"})
        ],
        "OCSP with nonce": [
            http_request(
                host,
                "/pki/ocsp",
                builder.add_extension(x509.OCSPNonce(os.urandom(16)), critical=False)
                .build()
                .public_bytes(Encoding.DER),
                ocsp_type,
            )
            for _ in range(OCSP_NONCES)
        ],
        "issuance": [
            http_request(
                host,
                fx["issue_path"],
                b"{}",
                {"content-type": "application/json", **fx["platform"]},
            )
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warm", type=float, default=3.0, help="seconds before each measurement")
    parser.add_argument(
        "--connections", type=int, default=32, help="keep-alive connections (spread over workers)"
    )
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--ops", nargs="+", default=[], help="operations whose name starts with one of these"
    )
    parser.add_argument("--pin", action="store_true", help="N workers on N CPUs (see above)")
    parser.add_argument(
        "--slices", type=int, default=4, help="alternating measurements of 1 and 2 workers"
    )
    args = parser.parse_args()
    font = find_cjk_font()
    pdf = make_document(
        title="结算单",
        paragraphs=["医疗费用结算明细。"] * 8,
        pages=1,
        font_path=font.path,
        font_number=font.index,
    )
    cores = os.cpu_count() or 1
    results: dict[tuple[str, str], dict[int, Measured]] = {}
    for kind in args.db:
        with ExitStack() as stack:
            services = {n: stack.enter_context(service(kind, n, args.pin)) for n in (1, 2)}
            built = {n: operations(setup(svc), pdf, urlsplit(svc.base).netloc)
                     for n, svc in services.items()}  # fmt: skip
            for name in built[1]:
                if args.ops and not any(name.startswith(o) for o in args.ops):
                    continue
                by = results.setdefault((kind, name), {1: Measured(), 2: Measured()})
                for i in range(args.slices):  # alternating: both see the same background load
                    for n, svc in services.items():
                        warm = args.warm if i == 0 else min(args.warm, 1.0)
                        throughput(
                            svc, built[n][name], args.connections, warm,
                            args.seconds / args.slices, by[n],
                        )  # fmt: skip
    report(results, args, cores)


@contextmanager
def service(kind: str, workers: int, pin: bool) -> Iterator[Any]:
    """A fresh installation with `workers` web workers (on CPUs 0..workers-1 with `pin`)."""
    cores = os.cpu_count() or 1
    everywhere = os.sched_getaffinity(0)
    share = "1" if pin else str(max(1, cores // workers))
    env = {
        "ESEAL_PDF_WORKERS": share,
        "ESEAL_SEAL_WORKERS": share,
        "ESEAL_ADMISSION": json.dumps({"sealing": [16, 64], "pki": [64, 256], "api": [32, 64]}),
    }
    with (
        database(kind) as url,
        pinned(sorted(everywhere)[:workers] if pin else None),
        running_service(prefix="eseal-scale-", env=env, workers=workers, database_url=url) as svc,
    ):
        os.sched_setaffinity(0, everywhere)  # the service keeps its CPUs, the client does not
        yield svc


def report(results: dict[tuple[str, str], dict[int, Measured]], args: Any, cores: int) -> None:
    print(
        f"eseal scaling: 1 vs 2 uvicorn workers, {args.connections} keep-alive connections "
        f"(one asyncio client thread), {args.warm:.0f} s warm-up, {args.seconds:.0f} s each "
        f"in {args.slices} alternating slices, "
        f"{cores} CPUs"
        + (", service pinned to 1 CPU per worker" if args.pin else "")
        + "; goal (issue 12): 2 workers >= 1.8x"
    )
    print(
        f"{'database':10} {'operation':16} {'1w/s':>7} {'2w/s':>7} {'ratio':>5} "
        f"{'svc ms/op':>11} {'db ms/op':>11} {'conn/op':>7} {'client ms/op':>13} {'svc cores':>9} "
        f"{'client':>6} {'db':>4} {'others':>6} {'idle':>5} {'split 2w':>9} {'ceiling':>7}"
    )
    for (kind, name), by in results.items():
        one, two = by[1], by[2]
        others = (
            cores * two.seconds - two.idle - two.service_cpu - two.client_cpu - two.database_cpu
        )
        # the cores the 2-worker service can have: its CPUs less the client's and PostgreSQL's
        left = (2 if args.pin else cores) - two.cores(two.client_cpu) - two.cores(two.database_cpu)
        failed = f"  ({one.failed}/{two.failed} failed)" if one.failed or two.failed else ""
        print(
            f"{kind:10} {name:16} {one.rate:7.1f} {two.rate:7.1f} "
            f"{two.rate / max(1e-9, one.rate):5.2f} "
            f"{one.per_op(one.service_cpu):5.2f} {two.per_op(two.service_cpu):5.2f} "
            f"{one.per_op(one.database_cpu):5.2f} {two.per_op(two.database_cpu):5.2f} "
            f"{two.database_sessions / max(1, two.ok):7.3f} "
            f"{one.per_op(one.client_cpu):6.3f} {two.per_op(two.client_cpu):6.3f} "
            f"{one.cores(one.service_cpu):4.2f} {two.cores(two.service_cpu):4.2f} "
            f"{two.cores(two.client_cpu):6.2f} {two.cores(two.database_cpu):4.2f} "
            f"{two.cores(others):6.2f} {two.cores(two.idle):5.2f} "
            f"{two.split:>9} {left / max(1e-9, one.cores(one.service_cpu)):7.2f}{failed}"
        )
    print(
        "svc ms/op: the service's process tree (/proc, user + system) per successful operation, "
        "1 worker then 2; db ms/op: the PostgreSQL backends serving its database (unpinned, "
        "outside the service's tree); conn/op: PostgreSQL connections opened per operation (2w); "
        "client ms/op: this process (the load generator).\n"
        "svc cores: cores busy in the service (1w, 2w); client / db / others / idle: cores "
        "busy in the client, in PostgreSQL's backends, in every other process, and idle (2w).\n"
        "ratio = (svc cores 2w / 1w) x (svc ms/op 1w / 2w). split 2w: each web worker's share "
        "of the service's CPU (with its PDF and seal processes).\n"
        "ceiling: (CPUs of the 2-worker service - client cores - db cores) / service cores with "
        "1 worker: the most the ratio can be at equal CPU per operation with nothing else "
        "running."
    )


if __name__ == "__main__":
    main()
