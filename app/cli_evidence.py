"""``eseal evidence verify FILE``: the offline check of an evidence package (no service, no
database, no settings) — a thin shell over `seals.evidence_check`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from seals.evidence_check import check_package


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    evidence = sub.add_parser("evidence", help="evidence packages (存证)")
    evidence_sub = evidence.add_subparsers(dest="evidence_command", required=True)
    verify = evidence_sub.add_parser(
        "verify", help="check a package offline; exit 1 naming the first thing that fails"
    )
    verify.add_argument("file", type=Path)
    verify.add_argument(
        "--trust", type=Path, help="trust anchor (DER or PEM) instead of the package's own root"
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON")


def _anchor(path: Path | None) -> bytes | None:
    if path is None:
        return None
    data = path.read_bytes()
    if b"-----BEGIN" in data:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        return x509.load_pem_x509_certificate(data).public_bytes(Encoding.DER)
    return data


def run(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}")
        return 2
    report = check_package(data, trust_root=_anchor(args.trust))
    if args.json:
        print(json.dumps(report.__dict__, ensure_ascii=False, indent=1, default=str))
    else:
        for line in report.checks:
            print(f"ok    {line}")
        if report.valid:
            subject = report.subject
            print(
                f"VALID evidence for {subject.get('type')} {subject.get('id')}, "
                f"time-stamped {report.sealed_at}"
            )
        else:
            print(f"FAIL  {report.member}: {report.reason}")
    return 0 if report.valid else 1
