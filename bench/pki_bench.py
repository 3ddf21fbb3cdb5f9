"""PKI throughput through HTTP against the raw signing operation of the same key.

Starts the service on SQLite in a temporary folder (uvicorn, one worker), then measures:
OCSP responses/s, time-stamps/s and certificate issuances/s over HTTP, and for each the
signatures/s of the very key that signs them, called directly, in the same run.

    .venv/bin/python bench/pki_bench.py [--seconds 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from asn1crypto import algos, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from harness import rate, running_service

from app.db import unit_of_work
from pki.keys import KeySigner, signature_digest
from pki.profiles import CaName


def raw_sign(signer: KeySigner) -> Callable[[], object]:
    """One bare signature by the key store's signer, the floor under each protocol."""
    data = os.urandom(64)
    digest = signature_digest(signer.algorithm)
    return lambda: signer.sign(data, digest)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    with running_service(prefix="eseal-pki-bench-") as svc:
        services, http, headers = svc.services, svc.http, svc.platform_auth
        with unit_of_work(services.engine) as session:
            ocsp_key = services.authority.ca_signer(session, CaName.OCSP_ORGANIZATION)
            tsa_key = services.authority.ca_signer(session, CaName.TSA)
            ca_key = services.authority.ca_signer(session, CaName.ORGANIZATION)
            issuer = services.authority.ca_certificate(session, CaName.ORGANIZATION)
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
            ("OCSP response (HTTP)", rate(ocsp_call, args.seconds, args.threads),
             "OCSP responder key sign", rate(raw_sign(ocsp_key), args.seconds)),
            ("time-stamp (HTTP)", rate(tsa_call, args.seconds, args.threads),
             "TSA key sign", rate(raw_sign(tsa_key), args.seconds)),
            ("certificate issuance (HTTP)", rate(issue_call, args.seconds, args.threads),
             "organization CA key sign", rate(raw_sign(ca_key), args.seconds)),
        ]  # fmt: skip

    print(
        f"eseal PKI benchmark: SQLite, 1 uvicorn worker, {args.threads} client thread(s), "
        f"{args.seconds:.0f} s each, {os.cpu_count()} CPUs"
    )
    print(f"{'operation':32} {'ops/s':>9}   {'baseline':28} {'ops/s':>9}  ratio")
    for name, ours, base_name, baseline in rows:
        print(f"{name:32} {ours:9.1f}   {base_name:28} {baseline:9.1f}  {ours / baseline:.3f}")


if __name__ == "__main__":
    main()
