"""Sealing throughput through HTTP against pyhanko signing the same file directly.

Starts the service on SQLite in a temporary folder (uvicorn, one worker), registers an
organization with a contract seal and an API client allowed to use it, then for a 1-page and a
100-page PDF and each of B-B, B-T and B-LT measures signatures/s of

* ``POST /api/v1/seals/{id}/sign`` with an invisible signature, and with the visible seal at
  coordinates (image appearance), over HTTP: authorisation, OCSP/CRL for B-LT produced per
  request by our own CA, signing, blob storage, usage row and audit event;
* pyhanko's ``signers.sign_pdf`` in this process on the same file with the same key, the same
  in-process TSA and (B-LT) the same validation material prepared once: the baseline.

    .venv/bin/python bench/signing_bench.py [--seconds 4] [--threads 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from io import BytesIO
from typing import Any

from harness import rate, running_service

from app import sealing
from app.db import unit_of_work
from seals.documents import make_document
from seals.fonts import find_cjk_font
from seals.models import Seal
from seals.signing import PadesLevel

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
            embed_validation_info=level is PadesLevel.B_LT,
            validation_context=validation if level is PadesLevel.B_LT else None,
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
                timestamper=timestamper if level is not PadesLevel.B_B else None,
                output=out,
            )
        )
        return out.getvalue()

    return sign


def main() -> None:
    logging.getLogger("pyhanko").setLevel(logging.ERROR)  # "fetching is not allowed": on purpose
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pages", type=int, nargs="+", default=[1, 100])
    parser.add_argument(
        "--formats",
        nargs="+",
        default=["pades", "sm2-cms", "gbt38540"],
        help="signature formats compared over HTTP on the first document (visible seal)",
    )
    parser.add_argument("--formats-only", action="store_true", help="skip the PAdES matrix")
    args = parser.parse_args()

    font = find_cjk_font()
    documents = {
        pages: make_document(
            title="结算单",
            paragraphs=[
                f"第{i}项：医疗费用结算明细，金额人民币壹佰元整。" for i in range(pages * 8)
            ],
            pages=pages,
            font_path=font.path,
            font_number=font.index,
        )
        for pages in args.pages
    }

    rows: list[tuple[int, PadesLevel, float, float, float]] = []
    format_rows: list[tuple[PadesLevel, str, float]] = []
    with running_service(prefix="eseal-sign-bench-") as svc:
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
        signer_auth = {"Authorization": f"Bearer {signer_client['api_key']}"}

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
        signer = identity.pyhanko_signer()

        def http_sign(
            pdf: bytes, level: PadesLevel, placement: dict[str, Any], fmt: str = "pades"
        ) -> Callable[[], None]:
            form = {"placement": json.dumps(placement), "level": level.value, "format": fmt}

            def call() -> None:
                response = http.post(
                    f"/api/v1/seals/{seal['id']}/sign",
                    files={"file": ("doc.pdf", pdf, "application/pdf")},
                    data=form,
                    headers=signer_auth,
                )
                assert response.status_code == 200, response.text

            return call

        visible = {"type": "coordinates", "page": 1, "x_mm": 150, "y_mm": 240}
        first = documents[args.pages[0]]
        for level in (PadesLevel.B_B, PadesLevel.B_T):
            for fmt in args.formats:
                http_sign(first, level, visible, fmt)()  # warm up (seal data made once)
                format_rows.append(
                    (
                        level,
                        fmt,
                        rate(http_sign(first, level, visible, fmt), args.seconds, args.threads),
                    )
                )
        for pages, pdf in ({} if args.formats_only else documents).items():
            for level in LEVELS:
                direct = pyhanko_direct(
                    pdf, level, signer=signer, timestamper=timestamper, validation=validation
                )
                direct()  # warm up (imports, caches)
                rows.append(
                    (
                        pages,
                        level,
                        rate(
                            http_sign(pdf, level, {"type": "invisible"}), args.seconds, args.threads
                        ),
                        rate(http_sign(pdf, level, visible), args.seconds, args.threads),
                        rate(direct, args.seconds),
                    )
                )

    print(
        f"eseal signing benchmark: SQLite, 1 uvicorn worker, {args.threads} client thread(s), "
        f"{args.seconds:.0f} s each, {os.cpu_count()} CPUs; "
        f"seal key {identity.signer.algorithm.value}"
    )
    print(
        f"{'pages':>5} {'level':6} {'HTTP invisible/s':>17} {'HTTP visible/s':>15} "
        f"{'pyhanko direct/s':>17} {'ratio invis.':>12} {'ratio vis.':>10}"
    )
    for pages, level, invisible, shown, baseline in rows:
        print(
            f"{pages:5d} {level.value:6} {invisible:17.1f} {shown:15.1f} {baseline:17.1f} "
            f"{invisible / baseline:12.3f} {shown / baseline:10.3f}"
        )
    print(f"formats over HTTP, visible seal, {args.pages[0]}-page document (ECDSA P-256 vs SM2):")
    print(f"{'level':6} {'format':9} {'seals/s':>8} {'vs pades':>8}")
    pades = {level: r for level, fmt, r in format_rows if fmt == "pades"}
    for level, fmt, r in format_rows:
        ratio = f"{r / pades[level]:8.2f}" if level in pades else f"{'-':>8}"
        print(f"{level.value:6} {fmt:9} {r:8.1f} {ratio}")


if __name__ == "__main__":
    main()
