"""Hold-out measure: our verifier on a folder of third-party signed PDFs, as a relying party.

Kept out of the test suite on purpose: the files are someone else's (e.g. EU DSS's PAdES
validation test vectors) and are never committed. Every PDF under FOLDER is verified with no
trust anchors and no network (so trust comes out INDETERMINATE by design); what is measured
is whether we call a document *intact* - every signature's digest computed and matching, the
document readable, no change after signing judged a modification or a shadow attack - and,
with an expectations file, whether that agrees with the producer's own verdict.

    .venv/bin/python bench/holdout.py FOLDER [--expect labels.json] [--json out.json]

`labels.json` maps a path relative to FOLDER to {"expected": "intact" | "not-intact" | ...}
(other values are listed but not counted). Files not in it are listed as unlabelled.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pki.trust import TrustStore
from seals.reports import (
    Indication,
    ModificationsAfter,
    SignatureReport,
    SubIndication,
    VerificationReport,
)
from seals.verification import verify_pdf

BROKEN_SUBS = {
    SubIndication.HASH_FAILURE,
    SubIndication.SIG_CRYPTO_FAILURE,
    SubIndication.FORMAT_FAILURE,
    SubIndication.SIG_CONSTRAINTS_FAILURE,
}
"""Sub-indications that say the signed content is not (or may not be) what was signed;
the others (chain, revocation, time) are about trust, which this measure leaves aside."""


WARNINGS = {"annotations-overlap"}
"""Findings that are warnings in DSS's default policy as in ours (the indication stands): a
file DSS's tests call "modifications detected" for them alone is warned about, not broken."""


def signature_verdict(sig: SignatureReport) -> str | None:
    """None when the signature is intact, else a short reason."""
    if sig.integrity is not True:
        return f"integrity={sig.integrity}:{sig.sub_indication}"
    if sig.sub_indication in BROKEN_SUBS:
        return f"{sig.indication}/{sig.sub_indication}"
    if sig.modifications_after is ModificationsAfter.OTHER:
        return f"modified:{sig.indication}/{sig.sub_indication}"
    return None


def judge(report: VerificationReport) -> tuple[str, list[str]]:
    """('intact' | 'not-intact', reasons)."""
    reasons: list[str] = []
    if report.document.status != "ok":
        reasons.append(f"document:{report.document.status}")
    if not report.signatures:
        reasons.append("no-signatures")
    for sig in report.signatures:
        why = signature_verdict(sig)
        if why is not None:
            decisive = next((f.code for f in sig.findings), "")
            reasons.append(f"{sig.field_name}:{why}:{decisive}")
    return ("not-intact" if reasons else "intact"), reasons


def details(report: VerificationReport) -> list[dict[str, Any]]:
    return [
        {
            "field": s.field_name,
            "kind": s.kind.value,
            "indication": s.indication.value,
            "sub": s.sub_indication.value if s.sub_indication else None,
            "integrity": s.integrity,
            "modifications_after": s.modifications_after.value,
            "findings": [f"{f.code}: {f.en[:160]}" for f in s.findings],
        }
        for s in report.signatures
    ]


def run(folder: Path, expect: dict[str, Any], max_seconds: float) -> list[dict[str, Any]]:
    trust = TrustStore(own_roots=[])
    rows: list[dict[str, Any]] = []
    for path in sorted(folder.rglob("*.pdf")):
        rel = str(path.relative_to(folder))
        started = time.monotonic()
        report = verify_pdf(
            pdf=path.read_bytes(), trust=trust, now=datetime.now(UTC), max_seconds=max_seconds
        )
        ours, reasons = judge(report)
        label = expect.get(rel, {}).get("expected")
        rows.append(
            {
                "file": rel,
                "expected": label,
                "ours": ours,
                "agree": None if label not in ("intact", "not-intact") else label == ours,
                "reasons": reasons,
                "document": report.document.status,
                "document_findings": [f.code for f in report.document.modifications],
                "overall": report.indication.value,
                "signatures": details(report),
                "seconds": round(time.monotonic() - started, 2),
            }
        )
        rows[-1]["warnings"] = sorted(
            {f.code for sig in report.signatures for f in sig.findings if f.code in WARNINGS}
        )
        mark = {True: "ok  ", False: "DIFF", None: "    "}[rows[-1]["agree"]]
        if mark == "DIFF" and label == "not-intact" and rows[-1]["warnings"]:
            mark = "warn"
        print(f"{mark} {ours:10} expected={label!s:10} {rel}  {'; '.join(reasons)[:220]}")
        sys.stdout.flush()
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    counted = [r for r in rows if r["agree"] is not None]
    by = Counter((r["expected"], r["ours"]) for r in counted)
    return {
        "files": len(rows),
        "labelled": len(counted),
        "expected_intact": sum(1 for r in counted if r["expected"] == "intact"),
        "intact_and_we_agree": by[("intact", "intact")],
        "intact_but_we_call_broken": by[("intact", "not-intact")],
        "not_intact_and_we_agree": by[("not-intact", "not-intact")],
        "not_intact_but_we_call_intact": by[("not-intact", "intact")],
        "of_which_we_warn": sum(
            1
            for r in counted
            if r["expected"] == "not-intact" and r["ours"] == "intact" and r["warnings"]
        ),
        "overall_indications": Counter(r["overall"] for r in rows),
        "passed": sum(1 for r in rows if r["overall"] == Indication.TOTAL_PASSED.value),
    }


def main() -> None:
    logging.disable(logging.WARNING)  # pyhanko logs every unbuildable path: expected here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--expect", type=Path, help="labels.json (path -> expected)")
    parser.add_argument("--json", type=Path, help="write every row here")
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()
    expect = json.loads(args.expect.read_text()) if args.expect else {}
    rows = run(args.folder, expect, args.max_seconds)
    result = summary(rows)
    print(json.dumps(result, indent=1, default=dict))
    if args.json:
        args.json.write_text(json.dumps({"summary": result, "rows": rows}, indent=1, default=str))


if __name__ == "__main__":
    main()
