"""Throughput with 1 and with 2 web workers, on SQLite and on PostgreSQL.

For each database and worker count: a fresh installation (uvicorn `--workers N`, each worker
with cores / N PDF and signing processes, as `eseal serve` shares them), then `--clients`
client threads on keep-alive connections for `--seconds` per operation: sealing (1 page,
invisible, B-T), time-stamps, OCSP with a nonce (a status read and a signature each) and
certificate issuance (a write transaction each). Prints operations/s and the ratio of 2
workers to 1 (goal, issue 12: >= 1.8 on 2 cores). The load generator shares the machine:
on a busy machine no ratio can exceed what is left idle.

Unpinned, one web worker already spreads over every core through its seal and PDF worker
processes (cores / workers of each), so on 2 cores the ratio says what a second web worker
adds beyond that, not whether the service scales. `--pin` confines the service (and every
process it starts) to as many CPUs as it has web workers, one PDF and one seal process per
worker: 1 worker on 1 core against 2 on 2 cores, which is the scaling the goal asks about.
The client threads stay unpinned.

    .venv/bin/python bench/scale.py [--seconds 5] [--clients 8] [--db sqlite postgresql]
        [--ops seal time-stamp OCSP issuance] [--pin]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from asn1crypto import algos, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from harness import multipart, running_service
from profiling import cpu_seconds

from seals.documents import make_document
from seals.fonts import find_cjk_font

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
Request = Callable[[], tuple[str, bytes, dict[str, str]]]


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


def throughput(base: str, request: Request, clients: int, seconds: float) -> float:
    """Successful operations/s of `clients` threads, each on its own keep-alive connection."""
    parts = urlsplit(base)
    counts = [0] * clients
    deadline = time.perf_counter() + seconds

    def loop(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80)
        while time.perf_counter() < deadline:
            path, body, headers = request()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                continue
            counts[i] += response.status in (200, 201)

    started = time.perf_counter()
    pool = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


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


def operations(fx: dict[str, Any], pdf: bytes) -> dict[str, Request]:
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

    def ocsp_nonce() -> tuple[str, bytes, dict[str, str]]:
        der = (
            builder.add_extension(x509.OCSPNonce(os.urandom(16)), critical=False)
            .build()
            .public_bytes(Encoding.DER)
        )
        return "/pki/ocsp", der, {"content-type": "application/ocsp-request"}

    return {
        "seal 1 page B-T": lambda: (f"/api/v1/seals/{fx['seal']}/sign", seal_body, seal_headers),
        "time-stamp": lambda: ("/pki/tsa", query, {"content-type": "application/timestamp-query"}),
        "OCSP with nonce": ocsp_nonce,
        "issuance": lambda: (
            fx["issue_path"],
            b"{}",
            {"content-type": "application/json", **fx["platform"]},
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--ops", nargs="+", default=[], help="operations whose name starts with one of these"
    )
    parser.add_argument("--pin", action="store_true", help="N workers on N CPUs (see above)")
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
    everywhere = os.sched_getaffinity(0)
    results: dict[tuple[str, str], dict[int, tuple[float, float]]] = {}
    for kind in args.db:
        for workers in (1, 2):
            share = "1" if args.pin else str(max(1, cores // workers))
            env = {
                "ESEAL_PDF_WORKERS": share,
                "ESEAL_SEAL_WORKERS": share,
                "ESEAL_ADMISSION": json.dumps(
                    {"sealing": [16, 64], "pki": [64, 256], "api": [32, 64]}
                ),
            }
            with (
                database(kind) as url,
                pinned(sorted(everywhere)[:workers] if args.pin else None),
                running_service(
                    prefix="eseal-scale-", env=env, workers=workers, database_url=url
                ) as svc,
            ):
                os.sched_setaffinity(0, everywhere)  # the service keeps its CPUs, clients not
                fx = setup(svc)
                for name, request in operations(fx, pdf).items():
                    if args.ops and not any(name.startswith(o) for o in args.ops):
                        continue
                    throughput(svc.base, request, args.clients, min(1.0, args.seconds))  # warm
                    cpu_before = cpu_seconds(svc.pid)
                    rate = throughput(svc.base, request, args.clients, args.seconds)
                    cpu_ms = (
                        1000 * (cpu_seconds(svc.pid) - cpu_before) / max(1.0, rate * args.seconds)
                    )
                    results.setdefault((kind, name), {})[workers] = (rate, cpu_ms)
    print(
        f"eseal scaling: 1 vs 2 uvicorn workers, {args.clients} client threads, "
        f"{args.seconds:.0f} s each, {cores} CPUs"
        + (", service pinned to 1 CPU per worker" if args.pin else "")
        + "; goal (issue 12): 2 workers >= 1.8x"
    )
    print(
        f"{'database':11} {'operation':18} {'1 worker/s':>11} {'2 workers/s':>12} {'ratio':>6} "
        f"{'ms CPU/op 1w':>12} {'2w':>6}"
    )
    for (kind, name), by in results.items():
        (one, one_cpu), (two, two_cpu) = by[1], by[2]
        print(
            f"{kind:11} {name:18} {one:11.1f} {two:12.1f} {two / one:6.2f} "
            f"{one_cpu:12.1f} {two_cpu:6.1f}"
        )
    print(
        "ms CPU/op: the service's process tree (/proc, user + system) per successful "
        "operation; equal figures mean a second worker adds no work, only what the cores allow"
    )


if __name__ == "__main__":
    main()
