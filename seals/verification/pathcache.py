"""Validated certification paths kept per process, reused only where the answer cannot differ.

Judging a signer's certificate validates its path twice (at the proven signing time, and now
to see a later revocation); with path building, revocation checking and the OCSP responder's
own path that was 16% of a verification (issue 12). Every document a seal signs asks the same
question about the same chain, with the same revocation answers from our responder (kept per
status epoch by the service) and often the same embedded ones.

What a path validation answers depends on its inputs - the certificate, the other
certificates offered, the trust anchors and intermediates of the trust store, the revocation
material, whether revocation is required - and on the validation time only through
comparisons with instants found in those inputs: validity periods, nextUpdate, revocation and
invalidity dates (pyhanko-certvalidator's default freshness model with retroactive revocation
information, as `TrustStore.validation_context` sets it: thisUpdate is compared only when
nextUpdate is missing, as thisUpdate + 30 min; 1 s tolerance). So an answer is reused

* only for exactly the same inputs (the key is a SHA-256 over all of their DER encodings, so a
  new revocation answer, a changed trust store or another certificate is another key: a
  revocation committed anywhere changes our responder's answer, hence the key, at once);
* only for a validation time in the same gap between those instants (each widened by
  `MARGIN`), and within the same `BUCKET_SECONDS` bucket; a validation time within `MARGIN`
  of an instant only for that very time (the same document's proven signing time, verified
  again: the same inputs at the same time are the same question - a seal used seconds after
  its certificate was issued or a responder answered is within `MARGIN` of that instant);
* for at most `KEEP_SECONDS`, from at most `MAX_ENTRIES` entries (least recently used out);
* never when network fetching is on (answers could then depend on what the network says),
  and never for an unexpected error (only a path or pyhanko-certvalidator's verdicts).

Two places use it: `trust.validate_at` (our judgement, before it builds a context), and
pyhanko-certvalidator's `find_valid_path`, through which pyhanko validates the signer's and the
TSA's certificates inside `async_validate_pdf_signature` (another 17%). The latter is reused
only for contexts `TrustStore.validation_context` built without fetching (they carry their
`ContextInputs`), and keyed on what the context holds when the validation starts: every
certificate in its registry (pyhanko adds the CMS's and the time-stamp token's), its anchors,
revocation material, policy and validation time.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyhanko_certvalidator
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation import generic_cms
from pyhanko_certvalidator.errors import InvalidCertificateError, PathBuildingError, ValidationError
from pyhanko_certvalidator.path import ValidationPath

from pki.trust import ContextInputs, RevocationMaterial, TrustStore

__all__ = [
    "BUCKET_SECONDS",
    "KEEP_SECONDS",
    "MARGIN",
    "MAX_ENTRIES",
    "PathCache",
    "install_find_valid_path_memo",
    "validated",
]

MARGIN = timedelta(seconds=3)
"""Around each instant: pyhanko's tolerance is 1 s, times are encoded to the second."""
FRESHNESS_FALLBACK = timedelta(minutes=30)
BUCKET_SECONDS = 300
KEEP_SECONDS = 300.0
MAX_ENTRIES = 1024

Answer = ValidationPath | Exception


@dataclass(frozen=True, slots=True)
class _Kept:
    answer: Answer
    after: datetime
    before: datetime
    until: float


class PathCache:
    def __init__(self, *, clock: object = time.monotonic) -> None:
        self._entries: OrderedDict[bytes, _Kept] = OrderedDict()
        self._lock = threading.Lock()
        self._clock = clock
        self.hits = 0
        self.misses = 0
        self.exact = 0

    @staticmethod
    def key(
        cert: asn1_x509.Certificate,
        other_certs: Iterable[asn1_x509.Certificate],
        trust: TrustStore,
        material: RevocationMaterial,
        moment: datetime,
        *,
        require_revocation: bool,
    ) -> bytes:
        return _digest(
            b"validate_at",
            b"require" if require_revocation else b"optional",
            str(int(moment.timestamp()) // BUCKET_SECONDS).encode(),
            cert.sha256,
            b"others",
            *sorted({c.sha256 for c in [*other_certs, *material.certs]}),
            b"anchors",
            *(c.sha256 for c in trust.asn1_anchors),
            b"intermediates",
            *(c.sha256 for c in trust.asn1_intermediates),
            b"ocsp",
            *material.ocsps,
            b"crl",
            *material.crls,
        )

    def get(self, key: bytes, moment: datetime) -> Answer | None:
        kept = self._entries.get(key)
        if (
            kept is None
            or kept.until <= self._now()
            or not (kept.after < moment < kept.before or kept.after == moment == kept.before)
        ):
            self.misses += 1
            return None
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
        self.hits += 1
        return kept.answer

    def put(
        self,
        key: bytes,
        moment: datetime,
        answer: Answer,
        *,
        certs: Iterable[asn1_x509.Certificate],
        material: RevocationMaterial,
    ) -> None:
        """Keep `answer` for validation times in the gap around `moment` (for `moment` alone
        when it is within `MARGIN` of an instant)."""
        found = instants(certs, material)
        if found is None:  # inputs we cannot read the times of: not kept
            return
        edges = sorted(found)
        at = bisect.bisect_left(edges, moment)
        after = edges[at - 1] + MARGIN if at > 0 else datetime.min.replace(tzinfo=moment.tzinfo)
        before = (
            edges[at] - MARGIN if at < len(edges) else datetime.max.replace(tzinfo=moment.tzinfo)
        )
        if not after < moment < before:  # too close to an instant: for this very time only
            self.exact += 1
            after = before = moment
        with self._lock:
            self._entries[key] = _Kept(answer, after, before, self._now() + KEEP_SECONDS)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _now(self) -> float:
        return float(self._clock())  # type: ignore[operator]


def _digest(*parts: bytes) -> bytes:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.digest()


def instants(
    certs: Iterable[asn1_x509.Certificate], material: RevocationMaterial
) -> list[datetime] | None:
    """Every instant a validation time is compared with, or None when some input is not
    readable (then nothing is kept)."""
    found: list[datetime] = []
    try:
        for cert in [*certs, *material.certs]:
            found += _cert_instants(cert)
        for der in material.ocsps:
            found += _ocsp_instants(asn1_ocsp.OCSPResponse.load(der))
        for der in material.crls:
            found += _crl_instants(asn1_crl.CertificateList.load(der))
    except Exception:
        return None
    return [t for t in found if t is not None]


def _cert_instants(cert: asn1_x509.Certificate) -> list[datetime]:
    validity = cert["tbs_certificate"]["validity"]
    return [validity["not_before"].native, validity["not_after"].native]


def _ocsp_instants(response: asn1_ocsp.OCSPResponse) -> list[datetime]:
    if response["response_status"].native != "successful":
        return []
    basic = response["response_bytes"]["response"].parsed
    found: list[datetime] = []
    for single in basic["tbs_response_data"]["responses"]:
        next_update = single["next_update"].native
        found.append(next_update or single["this_update"].native + FRESHNESS_FALLBACK)
        status = single["cert_status"]
        if status.name == "revoked":
            found.append(status.chosen["revocation_time"].native)
    for cert in basic["certs"] or ():
        found += _cert_instants(cert)
    return found


def _crl_instants(crl: asn1_crl.CertificateList) -> list[datetime]:
    tbs = crl["tbs_cert_list"]
    next_update = tbs["next_update"].native
    found = [next_update or tbs["this_update"].native + FRESHNESS_FALLBACK]
    for entry in tbs["revoked_certificates"] or ():
        found.append(entry["revocation_date"].native)
        found.append(entry.invalidity_date_value.native if entry.invalidity_date_value else None)
    return found


def all_certs(
    cert: asn1_x509.Certificate, other_certs: Sequence[asn1_x509.Certificate], trust: TrustStore
) -> list[asn1_x509.Certificate]:
    return [cert, *other_certs, *trust.asn1_anchors, *trust.asn1_intermediates]


validated = PathCache()
"""The process's cache (a PDF worker verifies one document at a time)."""


def _context_key(certificate: asn1_x509.Certificate, context: Any, inputs: ContextInputs) -> bytes:
    moment: datetime = context.timing_params.validation_time
    return _digest(
        b"find_valid_path",
        repr(
            (
                inputs.require_revocation,
                inputs.retroactive_revinfo,
                context.timing_params.time_tolerance,
                context.fetching_allowed,
                int(moment.timestamp()) // BUCKET_SECONDS,
            )
        ).encode(),
        certificate.sha256,
        b"registry",
        *sorted({c.sha256 for c in context.certificate_registry}),
        b"anchors",
        *(c.sha256 for c in inputs.anchors),
        b"ocsp",
        *inputs.revocation.ocsps,
        b"crl",
        *inputs.revocation.crls,
    )


def install_find_valid_path_memo() -> None:
    """Route pyhanko-certvalidator's `find_valid_path` through `validated` (idempotent)."""
    original = pyhanko_certvalidator.find_valid_path
    if getattr(original, "memo", False):
        return

    async def find_valid_path(
        certificate: asn1_x509.Certificate,
        paths: Any,
        validation_context: Any,
        pkix_validation_params: Any = None,
    ) -> ValidationPath:
        inputs = getattr(validation_context, "eseal_inputs", None)
        if not isinstance(inputs, ContextInputs) or pkix_validation_params is not None:
            return await original(certificate, paths, validation_context, pkix_validation_params)
        moment: datetime = validation_context.timing_params.validation_time
        key = _context_key(certificate, validation_context, inputs)
        kept = validated.get(key, moment)
        if kept is not None:
            await paths.cancel()
            if isinstance(kept, Exception):
                raise kept.with_traceback(None)
            return kept
        certs = [*validation_context.certificate_registry, *inputs.anchors]
        try:
            path: ValidationPath = await original(
                certificate, paths, validation_context, pkix_validation_params
            )
        except (PathBuildingError, InvalidCertificateError, ValidationError) as exc:
            validated.put(key, moment, exc, certs=certs, material=inputs.revocation)
            raise
        validated.put(key, moment, path, certs=certs, material=inputs.revocation)
        return path

    find_valid_path.memo = True  # type: ignore[attr-defined]
    pyhanko_certvalidator.find_valid_path = find_valid_path
    generic_cms.find_valid_path = find_valid_path  # pyhanko imported it by name


install_find_valid_path_memo()
