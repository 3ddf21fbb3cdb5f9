"""Verification throughput through HTTP against pyhanko's own validator in the same run.

Starts the service on SQLite in a temporary folder (uvicorn, one worker), registers an
organization with three seals, seals a 1-page and a 100-page document through the API
(PAdES B-LT, one and three seals, each seal an incremental update), then measures:

* verifications/s of ``POST /api/v1/verify`` (the full report: integrity, chain, revocation from
  our CA in process, time-stamps, difference analysis, seal lookup), and
* verifications/s of pyhanko called directly: `validate_pdf_signature` for each embedded
  signature with a ValidationContext trusting our root, no fetching (revocation soft-fail),
  plus the document parse.

    .venv/bin/python bench/verify_bench.py [--seconds 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import httpx
from asn1crypto import x509 as asn1_x509
from harness import paired_rates, running_service
from profiling import cpu_seconds, sampled

from seals.documents import make_document
from seals.fonts import find_cjk_font

SEAL_KINDS = ("contract", "finance", "official")
USCC = "91330106MA2B3C4D5D"


@dataclass
class Fixture:
    http: httpx.Client
    signer_key: str
    seal_ids: list[str]
    root_der: bytes


def setup(http: httpx.Client, platform: str) -> Fixture:
    """An organization, three active seals and an API client allowed to use them."""
    headers = {"Authorization": f"Bearer {platform}"}

    def ok(response: httpx.Response) -> Any:
        assert response.status_code in (200, 201), response.text
        return response.json()

    org = ok(
        http.post(
            "/api/v1/organizations",
            json={"name": "杭州青禾科技有限公司", "uscc": USCC, "legal_representative": "张伟"},
            headers=headers,
        )
    )
    admin = ok(
        http.post(
            f"/api/v1/organizations/{org['id']}/clients",
            json={"name": "bench-admin", "scopes": ["org:admin"]},
            headers=headers,
        )
    )["api_key"]
    signer = ok(
        http.post(
            f"/api/v1/organizations/{org['id']}/clients",
            json={"name": "bench-signer", "scopes": ["seals:read", "seals:use"]},
            headers=headers,
        )
    )
    admin_headers = {"Authorization": f"Bearer {admin}"}
    seal_ids = []
    for kind in SEAL_KINDS:
        seal = ok(
            http.post(
                f"/api/v1/organizations/{org['id']}/seals",
                json={"kind": kind, "dpi": 150},
                headers=admin_headers,
            )
        )
        ok(http.post(f"/api/v1/seals/{seal['id']}/activate", headers=admin_headers))
        ok(
            http.post(
                f"/api/v1/seals/{seal['id']}/grants",
                json={"grantee_kind": "client", "grantee_id": signer["id"]},
                headers=admin_headers,
            )
        )
        seal_ids.append(seal["id"])
    root = http.get("/pki/ca/root.crt")
    assert root.status_code == 200
    return Fixture(
        http=http, signer_key=signer["api_key"], seal_ids=seal_ids, root_der=root.content
    )


def seal_document(fx: Fixture, pdf: bytes, count: int, pages: int) -> bytes:
    """`count` seals on the last page, one incremental update each, through the API."""
    for index in range(count):
        response = fx.http.post(
            f"/api/v1/seals/{fx.seal_ids[index]}/sign",
            files={"file": ("合同.pdf", pdf, "application/pdf")},
            data={
                "placement": json.dumps(
                    {"type": "coordinates", "page": pages, "x_mm": 50 + 55 * index, "y_mm": 240}
                ),
                "level": "B-LT",
            },
            headers={"Authorization": f"Bearer {fx.signer_key}"},
            timeout=120,
        )
        assert response.status_code == 200, response.text
        pdf = response.content
    return pdf


def pyhanko_validate(root_der: bytes) -> Callable[[bytes], int]:
    """pyhanko's validator called directly: every embedded signature, our root trusted."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    root = asn1_x509.Certificate.load(root_der)

    def run(pdf: bytes) -> int:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        context = ValidationContext(
            trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail"
        )
        valid = 0
        for embedded in reader.embedded_signatures:
            status = validate_pdf_signature(embedded, signer_validation_context=context)
            valid += int(status.intact and status.valid)
        return valid

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pages", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--seals", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--profile", action="store_true", help="top-20 tables (py-spy)")
    args = parser.parse_args()

    rows: list[tuple[str, int, float, float, str, float]] = []
    profiles: dict[str, list[str]] = {}
    with running_service(
        prefix="eseal-verify-bench-",
        env={
            "ESEAL_VERIFY_RATE_PER_MINUTE": "0",  # the benchmark is one busy client
            "ESEAL_MAX_BODY_BYTES": str(64 * 1024 * 1024),
        },
    ) as svc:
        http = svc.http
        fx = setup(http, svc.platform_key)
        font = find_cjk_font()
        validate = pyhanko_validate(fx.root_der)
        for pages in args.pages:
            plain = make_document(
                title="政府采购合同",
                paragraphs=[f"第 {i + 1} 条：甲乙双方约定的条款内容。" for i in range(pages * 3)],
                pages=pages,
                font_path=font.path,
                font_number=font.index,
            )
            for count in args.seals:
                signed = seal_document(fx, plain, count, pages)
                check = http.post(
                    "/api/v1/verify", content=signed, headers={"content-type": "application/pdf"}
                ).json()
                assert check["indication"] == "TOTAL_PASSED", check["verdict_en"]
                assert len(check["signatures"]) == count
                assert validate(signed) == count

                def ours(data: bytes = signed) -> None:
                    response = http.post(
                        "/api/v1/verify",
                        content=data,
                        headers={"content-type": "application/pdf"},
                    )
                    assert response.status_code == 200

                def theirs(data: bytes = signed) -> None:
                    validate(data)

                name = f"{pages:3d} page(s), {count} seal(s)"
                cpu_before = cpu_seconds(svc.pid)
                with sampled(svc.pid, enabled=args.profile) as tables:
                    eseal, pyhanko = paired_rates(ours, theirs, args.seconds, threads=args.threads)
                cpu_ms = 1000 * (cpu_seconds(svc.pid) - cpu_before) / (eseal * args.seconds)
                rows.append((name, len(signed), eseal, pyhanko, check["indication"], cpu_ms))
                profiles[name] = tables

    print(
        f"eseal verification benchmark: SQLite, 1 uvicorn worker, {args.threads} client "
        f"thread(s), {args.seconds:.0f} s each (alternating slices with the baseline), "
        f"{os.cpu_count()} CPUs, PAdES B-LT; goal (issue 12): 1 page, 1 seal >= 1.5"
    )
    print(
        f"{'document':24} {'bytes':>9} {'eseal HTTP/s':>13} {'svc CPU ms':>10} "
        f"{'pyhanko/s':>10} {'ratio':>6}  verdict"
    )
    for name, size, eseal, pyhanko, verdict, cpu_ms in rows:
        print(
            f"{name:24} {size:9d} {eseal:13.2f} {cpu_ms:10.1f} {pyhanko:10.2f} "
            f"{eseal / pyhanko:6.2f}  {verdict}"
        )
    for name, tables in profiles.items():
        if tables:
            print(f"\n-- service profile during {name} (py-spy, % of busy samples) --")
            print("\n".join(tables))


if __name__ == "__main__":
    main()
