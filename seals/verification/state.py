"""The shared state of one verification run: inputs, deadline, candidates and document data."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime

from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko_certvalidator.fetchers.api import FetcherBackend

from pki.trust import RevocationLookup, RevocationMaterial, TrustStore
from seals.reports import Finding, SealInfo, SignatureReport

logger = logging.getLogger(__name__)


SealLookup = Callable[[x509.Certificate], SealInfo | None]


class Deadline:
    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    @property
    def passed(self) -> bool:
        return time.monotonic() > self._end


@dataclass
class SigCandidate:
    field_name: str
    field: generic.DictionaryObject
    sig_ref: generic.Reference | None
    hidden_since: int | None = None
    """Revision from which this signature is no longer reachable from the form."""
    notes: list[Finding] = dataclass_field(default_factory=list)
    """Findings made before pyhanko opened the signature (e.g. several SignerInfos)."""


@dataclass
class DocTsRecord:
    revision: int
    time: datetime
    ok: bool


class VerifierState:
    """What the steps of one verification share: the inputs, the reader and what was read."""

    def __init__(
        self,
        *,
        pdf: bytes,
        trust: TrustStore,
        now: datetime,
        seal_lookup: SealLookup | None,
        revocation_lookup: RevocationLookup | None,
        deadline: Deadline,
        backend: FetcherBackend | None,
    ) -> None:
        self.pdf = pdf
        self.trust = trust
        self.now = now
        self.seal_lookup = seal_lookup
        self.revocation_lookup = revocation_lookup
        self.deadline = deadline
        self.backend = backend
        self.sha256 = hashlib.sha256(pdf).hexdigest()
        self.reader: PdfFileReader | None = None
        self.pages: int | None = None
        self.revisions: int | None = None
        self.candidates: list[SigCandidate] = []
        self.reports: list[SignatureReport] = []
        self.doc_findings: list[Finding] = []
        self.dss_material = RevocationMaterial()
        self.dss_revision: int | None = None
        self.doc_timestamps: list[DocTsRecord] = []
        self.certified_allows_forms = False
        self.certified_allows_annotations = False
        self.unaccounted: list[int] = []
        self.status = "ok"
