"""PKI throughput through HTTP against the raw signing operation of the same key.

Starts the service on SQLite in a temporary folder (uvicorn, one worker), then measures:
OCSP responses/s, time-stamps/s and certificate issuances/s over HTTP, and for each the
signatures/s of the very key that signs them, called directly, in the same run.

    .venv/bin/python bench/pki_bench.py [--seconds 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from asn1crypto import algos, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.bootstrap import initialise
from app.db import unit_of_work
from app.settings import Settings
from app.tenancy import create_api_client
from app.wiring import build_services
from pki.keys import PrivateKey
from pki.profiles import CaName


def rate(work: Callable[[], object], seconds: float, threads: int = 1) -> float:
    """Operations per second of `work` over `seconds`, from `threads` threads."""
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def loop(i: int) -> None:
        while time.perf_counter() < deadline:
            work()
            counts[i] += 1

    started = time.perf_counter()
    pool = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def raw_sign(key: PrivateKey) -> Callable[[], object]:
    data = os.urandom(64)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = hashes.SHA384() if key.curve.key_size > 256 else hashes.SHA256()
        return lambda: key.sign(data, ec.ECDSA(algorithm))
    assert isinstance(key, rsa.RSAPrivateKey)
    return lambda: key.sign(data, PKCS1v15(), hashes.SHA256())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="eseal-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=folder, public_base_url=base, log_level="WARNING")
    initialise(settings)
    services = build_services(settings)
    with unit_of_work(services.engine) as session:
        _, platform = create_api_client(
            session, principal=None, organization_id=None, name="bench", scopes=["platform"]
        )
        ocsp_key = services.authority.ca_key(session, CaName.OCSP_ORGANIZATION)
        tsa_key = services.authority.ca_key(session, CaName.TSA)
        ca_key = services.authority.ca_key(session, CaName.ORGANIZATION)
        issuer = services.authority.ca_certificate(session, CaName.ORGANIZATION)

    env = {
        **os.environ,
        "ESEAL_DATA_DIR": str(folder),
        "ESEAL_PUBLIC_BASE_URL": base,
        "ESEAL_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "app.main:app_from_environment",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    try:
        http = httpx.Client(base_url=base, timeout=30)
        for _ in range(100):
            try:
                if http.get("/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {platform.key}"}
        org = http.post(
            "/api/v1/organizations",
            json={"name": "基准测试有限公司", "uscc": "91330106MA2B3C4D5D"},
            headers=headers,
        ).json()
        issue_path = f"/api/v1/organizations/{org['id']}/certificates"
        leaf = x509.load_pem_x509_certificate(
            http.post(issue_path, json={}, headers=headers).json()["pem"].encode()
        )
        ocsp_request = (
            ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA256()).build()
        ).public_bytes(Encoding.DER)
        tsa_query = tsp.TimeStampReq(
            {
                "version": 1,
                "message_imprint": {
                    "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                    "hashed_message": os.urandom(32),
                },
                "nonce": 12345,
                "cert_req": True,
            }
        ).dump()

        def ocsp_call() -> None:
            r = http.post(
                "/pki/ocsp",
                content=ocsp_request,
                headers={"content-type": "application/ocsp-request"},
            )
            assert r.status_code == 200

        def tsa_call() -> None:
            r = http.post(
                "/pki/tsa",
                content=tsa_query,
                headers={"content-type": "application/timestamp-query"},
            )
            assert r.status_code == 200

        def issue_call() -> None:
            r = http.post(issue_path, json={}, headers=headers)
            assert r.status_code == 201, r.text

        rows = [
            (
                "OCSP response (HTTP)",
                rate(ocsp_call, args.seconds, args.threads),
                "OCSP responder key sign",
                rate(raw_sign(ocsp_key), args.seconds),
            ),
            (
                "time-stamp (HTTP)",
                rate(tsa_call, args.seconds, args.threads),
                "TSA key sign",
                rate(raw_sign(tsa_key), args.seconds),
            ),
            (
                "certificate issuance (HTTP)",
                rate(issue_call, args.seconds, args.threads),
                "organization CA key sign",
                rate(raw_sign(ca_key), args.seconds),
            ),
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(
        f"eseal PKI benchmark: SQLite, 1 uvicorn worker, {args.threads} client thread(s), "
        f"{args.seconds:.0f} s each, {os.cpu_count()} CPUs"
    )
    print(f"{'operation':32} {'ops/s':>9}   {'baseline':28} {'ops/s':>9}  ratio")
    for name, ours, base_name, baseline in rows:
        print(f"{name:32} {ours:9.1f}   {base_name:28} {baseline:9.1f}  {ours / baseline:.3f}")


if __name__ == "__main__":
    main()
