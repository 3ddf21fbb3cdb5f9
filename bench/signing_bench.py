"""Sealing throughput through HTTP against stock pyhanko signing the same file in process.

Starts the service on SQLite in a temporary folder (uvicorn, one worker, as `make run`),
registers an organization with a contract seal and an API client allowed to use it, then for
each document (1 and 100 pages) and level (B-B, B-T, B-LT) measures seals/s of

* ``POST /api/v1/seals/{id}/sign`` from `--clients` client threads, invisible, and visible at
  coordinates: authorisation, signing in the seal worker (key, chain, time-stamp, B-LT OCSP
  and CRL from our own CA), blob storage, usage row and audit event;
* **stock pyhanko** (the issue's baseline): `signers.sign_pdf` in this process on the same
  file with a fresh P-256 key and pyhanko's own `DummyTimeStamper` (B-LT: the validation
  info of that self-signed chain embedded), one thread;
* **tuned pyhanko**: the same with the service's seal key and in-process TSA (pyhanko's own
  CMS assembly, not the seal's DER template) and, for B-LT, the seal's validation material
  prepared once.

HTTP and stock pyhanko run in alternating slices (same background load). Also printed: the
service's CPU time per seal (its process tree, /proc) and, with --profile, the service's
top-20 functions per measurement (py-spy, all processes).

Goals (issue 12): 1 page B-T >= 3x stock pyhanko; B-LT >= 2.5x; 100 pages >= 2x; visible
within 10% of invisible; CPU per 1-page seal <= 10 ms.

    .venv/bin/python bench/signing_bench.py [--seconds 4] [--clients 4] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any

from harness import BenchService, Connections, multipart, paired_rates, rate, running_service
from profiling import cpu_seconds, sampled

from app import sealing
from app.db import unit_of_work
from seals.documents import make_document
from seals.fonts import find_cjk_font
from seals.models import Seal
from seals.signing import PadesLevel, SigningIdentity

LEVELS = (PadesLevel.B_B, PadesLevel.B_T, PadesLevel.B_LT)


def pyhanko_direct(
    pdf: bytes, level: PadesLevel, *, signer: Any, timestamper: Any, validation: Any
) -> Callable[[], bytes]:
    """One PAdES signature by pyhanko itself, invisible, like the service's settings."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.signers import pdf_signer as pdf_signer_mod

    counter = iter(range(10**9))

    def sign() -> bytes:
        metadata = signers.PdfSignatureMetadata(
            field_name=f"Bench{next(counter)}",
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=level.needs_validation,
            validation_context=validation if level.needs_validation else None,
            dss_settings=pdf_signer_mod.DSSContentSettings(
                include_vri=False,
                placement=pdf_signer_mod.SigDSSPlacementPreference.SEPARATE_REVISION,
            ),
        )
        out = BytesIO()
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=True)
        asyncio.run(
            signers.async_sign_pdf(
                writer,
                metadata,
                signer=signer,
                timestamper=timestamper if level.needs_timestamp else None,
                output=out,
            )
        )
        return out.getvalue()

    return sign


def tuned_signer(identity: SigningIdentity) -> Any:
    """The service's signer with pyhanko's own CMS assembly (not the seal's DER template), so
    the tuned baseline stays pyhanko."""
    from pyhanko.sign import signers

    class PyhankoAssembly(type(identity.pyhanko_signer())):  # type: ignore[misc]
        async def async_sign(self, *args: Any, **kwargs: Any) -> Any:
            return await signers.Signer.async_sign(self, *args, **kwargs)

    plain = identity.pyhanko_signer()
    return PyhankoAssembly(
        identity.signer, signing_cert=plain.signing_cert, cert_registry=plain.cert_registry
    )


def stock_pyhanko() -> tuple[Any, Any, Any]:
    """A fresh self-signed P-256 signer, pyhanko's DummyTimeStamper (RSA, self-signed TSA
    certificate: DummyTimeStamper signs with RSA only) and a context trusting both."""
    from asn1crypto import keys, x509
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign import signers
    from pyhanko.sign.timestamps import DummyTimeStamper
    from pyhanko_certvalidator import ValidationContext

    def certificate(key: Any, name: str, eku: Any = None) -> x509.Certificate:
        subject = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        builder = (
            cx509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(cx509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
        )
        if eku is not None:
            builder = builder.add_extension(cx509.ExtendedKeyUsage([eku]), critical=True)
        else:  # what pyhanko checks of a signer (non-repudiation for PAdES)
            builder = builder.add_extension(
                cx509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        cert = builder.sign(key, hashes.SHA256())
        return x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

    def private(key: Any) -> keys.PrivateKeyInfo:
        return keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    signing_key = ec.generate_private_key(ec.SECP256R1())
    signing_cert = certificate(signing_key, "stock pyhanko signer")
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_cert = certificate(tsa_key, "stock pyhanko TSA", ExtendedKeyUsageOID.TIME_STAMPING)
    signer = signers.SimpleSigner(
        signing_cert=signing_cert, signing_key=private(signing_key), cert_registry=None
    )
    stamper = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=private(tsa_key))
    context = ValidationContext(trust_roots=[signing_cert, tsa_cert], allow_fetching=False)
    return signer, stamper, context


Row = tuple[int, PadesLevel, float, float, float, float, float]
FormatRow = tuple[PadesLevel, str, float]
VISIBLE = {"type": "coordinates", "page": 1, "x_mm": 150, "y_mm": 240}


def parse_args() -> argparse.Namespace:
    """The command line: measurement length, clients, documents, levels, formats, profiling."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--pages", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--levels", nargs="+", default=[level.value for level in LEVELS])
    parser.add_argument("--profile", action="store_true", help="top-20 tables (py-spy)")
    parser.add_argument(
        "--formats",
        nargs="+",
        default=["pades", "sm2-cms", "gbt38540"],
        help="signature formats compared over HTTP on the first document (visible seal)",
    )
    parser.add_argument("--formats-only", action="store_true", help="skip the PAdES matrix")
    return parser.parse_args()


def documents(page_counts: list[int]) -> dict[int, bytes]:
    """A Chinese settlement statement of each length, eight paragraphs a page."""
    font = find_cjk_font()
    return {
        pages: make_document(
            title="结算单",
            paragraphs=[
                f"第{i}项：医疗费用结算明细，金额人民币壹佰元整。" for i in range(pages * 8)
            ],
            pages=pages,
            font_path=font.path,
            font_number=font.index,
        )
        for pages in page_counts
    }


@dataclass
class SealSetup:
    """An active contract seal, a client allowed to use it, and its signing material in
    process (for the tuned pyhanko baseline)."""

    conns: Connections
    seal_id: str
    signer_auth: dict[str, str]
    identity: SigningIdentity
    timestamper: Any
    validation: Any

    def http_sign(
        self, pdf: bytes, level: PadesLevel, placement: dict[str, Any], fmt: str = "pades"
    ) -> Callable[[], None]:
        """One `POST /api/v1/seals/{id}/sign` of `pdf`, body encoded once."""
        body, content_type = multipart(
            {"placement": json.dumps(placement), "level": level.value, "format": fmt}, pdf
        )

        def call() -> None:
            self.conns.post(
                f"/api/v1/seals/{self.seal_id}/sign", body, content_type, self.signer_auth
            )

        return call


def set_up_seal(svc: BenchService) -> SealSetup:
    """Registers an organization, its admin, a contract seal and a client granted it."""
    http, services, platform_auth = svc.http, svc.services, svc.platform_auth
    org = http.post(
        "/api/v1/organizations",
        json={"name": "某市第一人民医院", "uscc": "91330106MA2B3C4D5D"},
        headers=platform_auth,
    ).json()

    def new_client(scopes: list[str]) -> dict[str, Any]:
        response = http.post(
            f"/api/v1/organizations/{org['id']}/clients",
            json={"name": f"c{time.monotonic_ns()}", "scopes": scopes},
            headers=platform_auth,
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    admin = {"Authorization": f"Bearer {new_client(['org:admin'])['api_key']}"}
    seal = http.post(
        f"/api/v1/organizations/{org['id']}/seals",
        json={"kind": "contract", "dpi": 300},
        headers=admin,
    ).json()
    assert http.post(f"/api/v1/seals/{seal['id']}/activate", headers=admin).is_success
    signer_client = new_client(["seals:use"])
    grant = http.post(
        f"/api/v1/seals/{seal['id']}/grants",
        json={"grantee_kind": "client", "grantee_id": signer_client["id"]},
        headers=admin,
    )
    assert grant.status_code == 201, grant.text

    with unit_of_work(services.engine) as session:
        row = session.get(Seal, seal["id"])
        assert row is not None
        identity = sealing.signing_identity(
            session, services, certificate_id=row.certificate_id, key_id=row.key_id
        )
        certificate = services.authority.get(session, row.certificate_id)
        timestamper = sealing.timestamper(session, services)
        validation = sealing.validation_material(
            session, services, identity=identity, issuer_ca=certificate.issuer_ca
        ).validation_context()
    return SealSetup(
        conns=Connections(svc.base),
        seal_id=seal["id"],
        signer_auth={"authorization": f"Bearer {signer_client['api_key']}"},
        identity=identity,
        timestamper=timestamper,
        validation=validation,
    )


def measure_formats(setup: SealSetup, pdf: bytes, args: argparse.Namespace) -> list[FormatRow]:
    """Seals/s of each signature format over HTTP, visible seal, B-B and B-T."""
    format_rows: list[FormatRow] = []
    for level in (PadesLevel.B_B, PadesLevel.B_T):
        for fmt in args.formats:
            call = setup.http_sign(pdf, level, VISIBLE, fmt)
            rate(call, 1.0, args.clients)  # warm up (seal data made once)
            format_rows.append((level, fmt, rate(call, args.seconds, args.clients)))
    return format_rows


def measure_level(
    svc: BenchService,
    setup: SealSetup,
    pdf: bytes,
    level: PadesLevel,
    stock_material: tuple[Any, Any, Any],
    args: argparse.Namespace,
) -> tuple[tuple[float, float, float, float, float], list[str]]:
    """HTTP invisible and visible, stock and tuned pyhanko for one document and level, with
    the service's CPU per seal and its profile."""
    stock_signer, stock_stamper, stock_context = stock_material
    stock = pyhanko_direct(
        pdf, level, signer=stock_signer, timestamper=stock_stamper, validation=stock_context
    )
    tuned = pyhanko_direct(
        pdf,
        level,
        signer=tuned_signer(setup.identity),
        timestamper=setup.timestamper,
        validation=setup.validation,
    )
    stock(), tuned()  # warm up (imports, caches)
    invisible = setup.http_sign(pdf, level, {"type": "invisible"})
    shown = setup.http_sign(pdf, level, VISIBLE)
    # warm every seal worker: first seals unlock the key, compile queries
    rate(invisible, 1.0, args.clients), rate(shown, 1.0, args.clients)
    cpu_before = cpu_seconds(svc.pid)
    with sampled(svc.pid, enabled=args.profile) as tables:
        ours, baseline = paired_rates(invisible, stock, args.seconds, threads=args.clients)
    cpu_ms = 1000 * (cpu_seconds(svc.pid) - cpu_before) / (ours * args.seconds)
    shown_rate = rate(shown, args.seconds, args.clients)
    return (ours, shown_rate, baseline, rate(tuned, args.seconds), cpu_ms), tables


def report(
    rows: list[Row],
    format_rows: list[FormatRow],
    profiles: dict[str, list[str]],
    algorithm: str,
    args: argparse.Namespace,
) -> None:
    """The PAdES matrix, the per-format table, then any profiles."""
    print(
        f"eseal signing benchmark: SQLite, 1 uvicorn worker, {args.clients} client thread(s), "
        f"{args.seconds:.0f} s each, {os.cpu_count()} CPUs; seal key "
        f"{algorithm}; ratios against stock pyhanko (fresh P-256 key, "
        "DummyTimeStamper) measured in alternating slices"
    )
    print(
        f"{'pages':>5} {'level':6} {'HTTP invis/s':>12} {'HTTP vis/s':>10} {'svc ms/seal':>11} "
        f"{'stock/s':>8} {'ratio':>6} {'ratio vis':>9} {'tuned/s':>8}"
    )
    for pages, level, invisible, shown, baseline, tuned_rate, cpu_ms in rows:
        print(
            f"{pages:5d} {level.value:6} {invisible:12.1f} {shown:10.1f} {cpu_ms:11.1f} "
            f"{baseline:8.1f} {invisible / baseline:6.2f} {shown / baseline:9.2f} "
            f"{tuned_rate:8.1f}"
        )
    print(f"formats over HTTP, visible seal, {args.pages[0]}-page document (ECDSA P-256 vs SM2):")
    print(f"{'level':6} {'format':9} {'seals/s':>8} {'vs pades':>8}")
    pades = {level: r for level, fmt, r in format_rows if fmt == "pades"}
    for level, fmt, r in format_rows:
        ratio = f"{r / pades[level]:8.2f}" if level in pades else f"{'-':>8}"
        print(f"{level.value:6} {fmt:9} {r:8.1f} {ratio}")
    for name, tables in profiles.items():
        if tables:
            print(f"\n-- service profile during {name} (py-spy, % of busy samples) --")
            print("\n".join(tables))


def main() -> None:
    logging.getLogger("pyhanko").setLevel(logging.ERROR)  # "fetching is not allowed": on purpose
    args = parse_args()
    docs = documents(args.pages)
    stock_material = stock_pyhanko()
    rows: list[Row] = []
    profiles: dict[str, list[str]] = {}
    with running_service(prefix="eseal-sign-bench-") as svc:
        setup = set_up_seal(svc)
        format_rows = measure_formats(setup, docs[args.pages[0]], args)
        for pages, pdf in ({} if args.formats_only else docs).items():
            for level in (PadesLevel(v) for v in args.levels):
                figures, tables = measure_level(svc, setup, pdf, level, stock_material, args)
                profiles[f"{pages} page(s) {level.value} invisible"] = tables
                rows.append((pages, level, *figures))
    report(rows, format_rows, profiles, setup.identity.signer.algorithm.value, args)


if __name__ == "__main__":
    main()
