"""PKI throughput through HTTP against the raw signing operation of the same key.

Starts the service on SQLite in a temporary folder (uvicorn, one worker), then measures:
OCSP responses/s (a request without a nonce, as RFC 5019 clients send, and one with a nonce),
time-stamps/s and certificate issuances/s over HTTP, and for each the signatures/s of the very
key that signs them, called directly, in alternating slices of the same run. Also the service's
CPU time per operation (its own process tree, from /proc), and with --profile the top-20
functions of the service during each measurement (py-spy).

Goals (issue 12): OCSP >= 0.5 of the responder's raw signature rate, TSA >= 1,000 tokens/s,
issuance >= 0.3 of the CA's raw signature rate. Three floor rows show where issuance's time
goes, against the same baseline: a no-op route (GET /healthz: the HTTP stack and thread
hand-off), an authenticated read (API key, one read transaction) and issuance's cryptography
alone in this process (new key, its envelope, the CA signature and its check). Their ratios
bound what issuance over HTTP can reach; the crypto row's service CPU is not applicable.

    .venv/bin/python bench/pki_bench.py [--seconds 5] [--threads 1] [--profile]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from asn1crypto import algos, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from harness import BenchService, Connections, paired_rates, running_service
from profiling import cpu_seconds, sampled

from app.db import unit_of_work
from pki.keys import KeyAlgorithm, KeySigner, load_public_key, new_pkcs8, signature_digest
from pki.profiles import CaName
from pki.signatures import verify_signature


def raw_sign(signer: KeySigner) -> Callable[[], object]:
    """One bare signature by the key store's signer, the floor under each protocol."""
    data = os.urandom(64)
    digest = signature_digest(signer.algorithm)
    return lambda: signer.sign(data, digest)


Row = tuple[str, float, str, float, float]
Case = tuple[str, Callable[[], None], str, KeySigner]


def parse_args() -> argparse.Namespace:
    """The command line: measurement length, client threads, profiling, a filter."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="top-20 tables (py-spy)")
    parser.add_argument("--only", default="", help="measure only operations containing this")
    return parser.parse_args()


def tsa_query() -> bytes:
    """A time-stamp request for a random SHA-256 imprint, with a nonce and the TSA certificate."""
    return tsp.TimeStampReq(
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


def cases(svc: BenchService) -> list[Case]:
    """Each HTTP operation with the name and key of its raw-signature baseline."""
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
    builder = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA256())
    ocsp_request = builder.build().public_bytes(Encoding.DER)
    query = tsa_query()
    conns = Connections(svc.base)

    def ocsp_call() -> None:
        conns.post("/pki/ocsp", ocsp_request, "application/ocsp-request", {})

    def ocsp_nonce_call() -> None:
        request = builder.add_extension(x509.OCSPNonce(os.urandom(16)), critical=False)
        der = request.build().public_bytes(Encoding.DER)
        conns.post("/pki/ocsp", der, "application/ocsp-request", {})

    def tsa_call() -> None:
        conns.post("/pki/tsa", query, "application/timestamp-query", {})

    def issue_call() -> None:
        conns.post(issue_path, b"{}", "application/json", headers)

    def noop_call() -> None:
        conns.get("/healthz", {})

    def read_call() -> None:
        conns.get(f"/api/v1/organizations/{org['id']}", headers)

    return [
        ("OCSP, no nonce (HTTP)", ocsp_call, "OCSP responder key sign", ocsp_key),
        ("OCSP, nonce (HTTP)", ocsp_nonce_call, "OCSP responder key sign", ocsp_key),
        ("time-stamp (HTTP)", tsa_call, "TSA key sign", tsa_key),
        ("certificate issuance (HTTP)", issue_call, "organization CA key sign", ca_key),
        # where issuance's time goes: what no issuance can avoid, measured the same way
        ("issuance floor: no-op GET", noop_call, "organization CA key sign", ca_key),
        ("issuance floor: auth+DB read", read_call, "organization CA key sign", ca_key),
        (
            "issuance floor: crypto only",
            issuance_crypto(ca_key),
            "organization CA key sign",
            ca_key,
        ),
    ]


def issuance_crypto(ca_key: KeySigner) -> Callable[[], None]:
    """The cryptography of one issuance in this process, without HTTP, database or encoding:
    a new P-256 key as PKCS#8, its AES-256-GCM envelope (data key, master key), the CA's
    signature and its check against the CA key (pki/cert_der.py verifies every signature)."""
    master = AESGCM(os.urandom(32))
    ca_public = load_public_key(ca_key.public_key_info())
    digest = signature_digest(ca_key.algorithm)
    tbs = os.urandom(600)  # about the size of an enterprise TBSCertificate

    def work() -> None:
        pkcs8 = new_pkcs8(KeyAlgorithm.EC_P256)
        data_key = AESGCM.generate_key(bit_length=256)
        AESGCM(data_key).encrypt(os.urandom(12), pkcs8, b"id")
        master.encrypt(os.urandom(12), data_key, b"id")
        signature = ca_key.sign(tbs, digest)
        assert verify_signature(ca_public, signature, tbs, digest)

    return work


def measure(
    svc: BenchService, chosen: list[Case], args: argparse.Namespace
) -> tuple[list[Row], dict[str, list[str]]]:
    """Each case against its baseline in alternating slices, with the service's CPU per op."""
    rows: list[Row] = []
    profiles: dict[str, list[str]] = {}
    for name, call, base_name, key in chosen:
        call()  # warm up: material unlocked, responses pre-produced
        cpu_before = cpu_seconds(svc.pid)
        with sampled(svc.pid, enabled=args.profile) as tables:
            ours, baseline = paired_rates(call, raw_sign(key), args.seconds, threads=args.threads)
        # the service worked only during our half of the slices
        cpu_ms = 1000 * (cpu_seconds(svc.pid) - cpu_before) / (ours * args.seconds)
        rows.append((name, ours, base_name, baseline, cpu_ms))
        profiles[name] = tables
    return rows, profiles


def report(rows: list[Row], profiles: dict[str, list[str]], args: argparse.Namespace) -> None:
    """The table of rates and ratios, then any profiles."""
    print(
        f"eseal PKI benchmark: SQLite, 1 uvicorn worker, {args.threads} client thread(s), "
        f"{args.seconds:.0f} s each (alternating slices with the baseline), {os.cpu_count()} CPUs"
    )
    print(
        f"{'operation':30} {'ops/s':>8} {'svc CPU ms/op':>14}   {'baseline':26} {'ops/s':>8}  ratio"
    )
    for name, ours, base_name, baseline, cpu_ms in rows:
        print(
            f"{name:30} {ours:8.1f} {cpu_ms:14.3f}   {base_name:26} {baseline:8.1f}  "
            f"{ours / baseline:.3f}"
        )
    for name, tables in profiles.items():
        if tables:
            print(f"\n-- service profile during {name} (py-spy, % of busy samples) --")
            print("\n".join(tables))


def main() -> None:
    args = parse_args()
    with running_service(prefix="eseal-pki-bench-") as svc:
        chosen = [c for c in cases(svc) if args.only in c[0]]
        rows, profiles = measure(svc, chosen, args)
    report(rows, profiles, args)


if __name__ == "__main__":
    main()
