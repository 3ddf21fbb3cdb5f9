"""PDF work of the HTTP layer, done in the bounded worker pools (app.pdfpool): verification,
page sizes, page thumbnails and signing. A document over a limit becomes an INDETERMINATE /
FORMAT_FAILURE report (verification) or a `document-too-complex` problem (everything else); a
pool with every worker busy beyond the admission wait is `503 overloaded`.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, cast

from app.errors import Overloaded
from app.pdfpool import PdfWorkerPool, PoolBusy
from app.services import stat_counters
from app.wiring import Services
from seals.pdflimits import DocumentTooComplexError
from seals.reports import (
    DocumentFindings,
    Finding,
    Indication,
    SubIndication,
    VerificationReport,
)


def _call(
    services: Services,
    kind: str,
    payload: Any,
    *,
    pool: PdfWorkerPool | None = None,
    wait_seconds: float | None = None,
) -> Any:
    settings = services.settings
    pool = pool or services.pdf_pool
    wait = settings.admission_wait_seconds if wait_seconds is None else wait_seconds
    try:
        return pool.call(kind, payload, wait_seconds=wait)
    except PoolBusy as exc:
        raise Overloaded(
            "every PDF worker is busy; retry shortly",
            retry_after=settings.retry_after_seconds,
        ) from exc


def verify_isolated(services: Services, pdf: bytes) -> VerificationReport:
    """`app.verification.verify.verify_document` in a worker; over a limit: a FORMAT_FAILURE
    report. The request is counted for the statistics here, in the service's process (in
    memory, written a few times a minute at most: verification never queues for the write
    lock)."""
    stat_counters.verification_tally.add(services.engine)
    try:
        return cast(VerificationReport, _call(services, "verify", pdf))
    except DocumentTooComplexError as exc:
        return too_complex_report(pdf, exc)


def too_complex_report(pdf: bytes, error: DocumentTooComplexError) -> VerificationReport:
    limit = str(error.extra.get("limit", "limit"))
    finding = Finding(
        "document-too-complex",
        f"文档超出处理限制（{limit}），无法验证。",
        f"The document exceeds a processing limit ({limit}) and cannot be verified.",
    )
    return VerificationReport(
        document=DocumentFindings(
            sha256=hashlib.sha256(pdf).hexdigest(),
            size=len(pdf),
            page_count=None,
            revisions=None,
            signatures=0,
            modified_after_last_signature=False,
            modifications=(finding,),
            status="too_complex",
        ),
        signatures=(),
        indication=Indication.INDETERMINATE,
        sub_indication=SubIndication.FORMAT_FAILURE,
        verdict_zh="无法验证：" + finding.zh,
        verdict_en="Cannot be verified: " + finding.en,
        validation_time=datetime.now(UTC),
    )


def sign_isolated(services: Services, job: Any, *, wait_seconds: float | None = None) -> Any:
    """`app.sealing_staged.sign_job` in a seal worker (its own pool, so sealing saturating
    its workers never delays verification or page rendering). Background work (bulk jobs)
    waits longer for a worker than a request does (``wait_seconds``)."""
    return _call(services, "sign", job, pool=services.seal_pool, wait_seconds=wait_seconds)


def page_sizes(services: Services, pdf: bytes) -> Any:
    """`app.pdfpages.page_sizes`, computed by PDFium in a worker."""
    return _call(services, "page_sizes", pdf)


def page_png(services: Services, pdf: bytes, *, sha256: str, number: int) -> bytes:
    """`app.pdfpages.page_png`, rendered in a worker (cached here as well)."""
    from app.pdfpages import thumbs

    cached = thumbs.get((sha256, number))
    if cached is not None:
        return cached
    png = cast(bytes, _call(services, "page_png", (pdf, sha256, number)))
    thumbs.put((sha256, number), png)
    return png
