"""Verify the signatures and seals in a PDF for a third party: `verify_pdf(...) -> report`.

One reader per document (`reader.SpecReader`: pyhanko's, strict where the file allows it,
undefined objects read as null as ISO 32000-1 7.3.10 says, bounded stream decoding); every
signature field of every revision is examined, each signature is validated by pyhanko
(ByteRange digest, CMS signature, signature time-stamp, coverage, difference analysis against
later revisions, DocMDP) and then by our own checks where pyhanko's answer is not enough for
a verdict people rely on:

* trust and revocation at the proven signing time (`trust.py`): the path is built to
  the anchors of the `TrustStore`; revocation data for OUR certificates comes from the caller's
  `revocation_lookup` (our responder, in process), for others from the PDF (DSS and the CMS
  revocation-info attribute); network fetching only when the trust store switches it on. A
  signature time-stamp (or a later document time-stamp) is the proof of existence (POE):
  revoked before it -> TOTAL_FAILED/REVOKED; revoked after it -> passes, with a finding;
  revoked and no POE -> INDETERMINATE/REVOKED_NO_POE.
* modifications after signing: pyhanko's diff policy flags anything but signatures, form
  filling and LTV data as `OTHER`; on top of that, form-field values or annotations changed
  after an approval signature that no certification allowed are not accepted
  (INDETERMINATE/SIG_CONSTRAINTS_FAILURE) - this is the "shadow attack" family that the PDF
  standard technically permits but that changes what the page shows.
* signatures that existed in an earlier revision but are no longer reachable from the form
  (a certification or approval signature hidden by unlinking its field, /Perms /DocMDP
  removed, a signature dictionary replaced) are reported as failed signatures of their own.
* signature fields whose /Contents or /ByteRange cannot be read (universal signature forgery:
  empty or zeroed /Contents, no /ByteRange) are reported as TOTAL_FAILED/FORMAT_FAILURE, not
  silently skipped.

Indication mapping (ETSI EN 319 102-1, following EU DSS; the table and its reasons are in
seals/indications.py), first fatal finding wins:
  unreadable signature, unsupported format, ByteRange not covering its revision
      -> TOTAL_FAILED / FORMAT_FAILURE
  digest over the ByteRange differs -> TOTAL_FAILED / HASH_FAILURE (only then)
  CMS signature does not verify -> TOTAL_FAILED / SIG_CRYPTO_FAILURE
  content changed after signing (diff analysis `OTHER`, DocMDP violated, signature hidden,
      bytes after a signed revision that no parsed revision accounts for)
      -> TOTAL_FAILED / FORMAT_FAILURE (as DSS's format-checking modification checks)
  signature our parser cannot process -> INDETERMINATE / GENERIC, integrity unknown (None)
  revoked / expired / not yet valid before a proven signing time -> TOTAL_FAILED / REVOKED,
      EXPIRED, NOT_YET_VALID
  no chain to a recognised anchor -> INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND
  revoked or expired without POE -> INDETERMINATE / REVOKED_NO_POE, OUT_OF_BOUNDS_NO_POE
  no revocation data -> INDETERMINATE / TRY_LATER
  form filling / annotations after an approval signature without permission
      -> INDETERMINATE / SIG_CONSTRAINTS_FAILURE
  otherwise TOTAL_PASSED.

A document that is not a PDF, cannot be parsed, is encrypted or carries no signature yields a
report with INDETERMINATE / FORMAT_FAILURE and `document.status` telling which; `verify_pdf`
never raises for a bad document (only for a bad call: naive `now`, bad `max_seconds`).
Exceptions raised by the caller's own callables (`seal_lookup`, `revocation_lookup`) propagate.

Time budget: `max_seconds` is checked between steps (cooperatively); signatures not reached in
time are INDETERMINATE/GENERIC. Stream decoding is bounded by pyhanko's `DecodeLimits`. For
hard isolation against pathological files, run it in a worker process.

Layout, by stage: `verifier` runs the steps over the shared `state`; `document` reads the
candidates, DSS and certification (with `reader`, `cms`, `bytes`); `signature` checks one
signature or document time-stamp; `modifications` judges changes after signing (with `rules`,
`annotations`, `structure`, `formfields`, `filerules`); `trust` builds the path, gathers
revocation data and judges at the proven signing time; `signer` names who signed; `positions`
places seals on pages; `findings` holds the bilingual findings and the verdict.

Kept per process between verifications (issue 12), each reused only where the answer cannot
differ: `pathcache` (validated certification paths, keyed on every input and reused within
the gap between the instants those inputs name), `certpool` (one parsed object per
certificate; name comparisons per DER), `lexing` (pyhanko's byte-at-a-time token readers
replaced by bulk reads with the same results), and in `pki.sm2_validation` the signatures
found valid. The service adds the trust store and its own revocation answers per status
epoch (app/verification/cache.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Coroutine
from dataclasses import replace
from datetime import datetime
from typing import Any

from pki.trust import RevocationLookup, TrustStore
from seals.reports import VerificationReport
from seals.verification.state import Deadline, SealLookup
from seals.verification.verifier import Verifier

__all__ = ["SealLookup", "async_verify_pdf", "verify_pdf"]


def verify_pdf(
    *,
    pdf: bytes,
    trust: TrustStore,
    now: datetime,
    seal_lookup: SealLookup | None = None,
    revocation_lookup: RevocationLookup | None = None,
    max_seconds: float = 30.0,
) -> VerificationReport:
    """Synchronous `async_verify_pdf` (runs its own event loop; safe inside a running one).
    The loop is kept per thread: a PDF worker verifies one document after another, and a
    new loop per document (`asyncio.run`) cost a selector, a socket pair and their teardown."""
    coro_args: dict[str, Any] = {
        "pdf": pdf,
        "trust": trust,
        "now": now,
        "seal_lookup": seal_lookup,
        "revocation_lookup": revocation_lookup,
        "max_seconds": max_seconds,
    }
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run(async_verify_pdf(**coro_args))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(async_verify_pdf(**coro_args))).result()


_loops = threading.local()


def _run(coro: Coroutine[Any, Any, VerificationReport]) -> VerificationReport:
    """`asyncio.run(coro)` on this thread's kept loop: what the run leaves pending is cancelled
    before it returns, as `asyncio.run` does, so nothing carries over to the next document."""
    loop: asyncio.AbstractEventLoop | None = getattr(_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = _loops.loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())


async def async_verify_pdf(
    *,
    pdf: bytes,
    trust: TrustStore,
    now: datetime,
    seal_lookup: SealLookup | None = None,
    revocation_lookup: RevocationLookup | None = None,
    max_seconds: float = 30.0,
) -> VerificationReport:
    """Verify every signature in `pdf` at validation time `now`; see the module docstring."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if max_seconds <= 0:
        raise ValueError("max_seconds must be positive")
    started = time.monotonic()
    deadline = Deadline(max_seconds)
    backend = trust.network.backend()
    try:
        verifier = Verifier(
            pdf=pdf,
            trust=trust,
            now=now,
            seal_lookup=seal_lookup,
            revocation_lookup=revocation_lookup,
            deadline=deadline,
            backend=backend,
        )
        try:
            report = await asyncio.wait_for(verifier.run(), timeout=max_seconds)
        except TimeoutError:
            report = verifier.timed_out_report()
    finally:
        if backend is not None:
            await backend.close()
    return _with_elapsed(report, time.monotonic() - started)


def _with_elapsed(report: VerificationReport, elapsed: float) -> VerificationReport:

    return replace(report, elapsed_seconds=round(elapsed, 4))
