"""Reading the document: signature candidates of every revision, the DSS, the certification."""

from __future__ import annotations

import logging
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import (
    DecodeLimits,
    DecodePurpose,
    DocumentDecodeBudget,
    StreamDecodeLimits,
)
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm, enumerate_sig_fields
from pyhanko.sign.validation import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError

from pki.trust import RevinfoKind, RevocationMaterial, classify_revinfo
from seals.verification.certpool import interned
from seals.verification.findings import msg, short
from seals.verification.state import SigCandidate, VerifierState

logger = logging.getLogger(__name__)


DECODE_LIMITS = DecodeLimits(
    per_stream=StreamDecodeLimits(max_output_size=64 * 1024 * 1024),
    document_budget=DocumentDecodeBudget(base_allowance=128 * 1024 * 1024, max_ratio=50),
)


def collect_candidates(state: VerifierState, reader: PdfFileReader) -> None:
    """Signature fields of the final revision, plus signatures only earlier revisions had."""
    final_refs: set[generic.Reference] = set()
    for name, sig_obj, fld in enumerate_sig_fields(reader, filled_status=True):
        ref = ref_of(fld)
        if ref is not None:
            if ref in final_refs:
                state.doc_findings.append(
                    msg(
                        "signature-reused",
                        f"签名 {name} 的签名字典被多个签名域共用。",
                        f"The signature dictionary of {name} is shared by several fields.",
                    )
                )
                continue
            final_refs.add(ref)
        del sig_obj
        state.candidates.append(SigCandidate(field_name=str(name), field=fld, sig_ref=ref))
    assert state.revisions is not None
    last = state.revisions - 1
    seen_hidden: set[generic.Reference] = set()
    final_docmdp = docmdp_ref(reader)
    for rev in range(last):
        if state.deadline.passed:
            break
        hist = reader.get_historical_resolver(rev)
        try:
            fields = list(enumerate_sig_fields(hist, filled_status=True))
        except Exception:  # noqa: S112 - an unreadable old revision is judged elsewhere
            continue
        for name, _sig_obj, fld in fields:
            ref = ref_of(fld)
            if ref is None or ref in final_refs or ref in seen_hidden:
                continue
            seen_hidden.add(ref)
            gone = first_revision_without(reader, ref, start=rev + 1, last=last)
            state.candidates.append(
                SigCandidate(field_name=f"{name}", field=fld, sig_ref=ref, hidden_since=gone)
            )
        old_docmdp = docmdp_ref(hist)
        if old_docmdp is not None and old_docmdp != final_docmdp:
            state.doc_findings.append(
                msg(
                    "certification-removed",
                    f"第 {rev + 1} 版中的文档认证（DocMDP）在后续修订中被删除或替换。",
                    f"The document certification (DocMDP) present in revision {rev + 1} "
                    "was removed or replaced in a later revision.",
                )
            )
            final_docmdp = old_docmdp  # report once


def read_dss(state: VerifierState, reader: PdfFileReader) -> None:
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return
    except Exception as exc:
        state.doc_findings.append(
            msg(
                "dss-unreadable",
                f"文档安全存储（DSS）无法读取：{short(exc)}",
                f"The document security store (DSS) cannot be read: {short(exc)}",
            )
        )
        return
    ocsps: list[bytes] = []
    crls: list[bytes] = []
    certs: list[asn1_x509.Certificate] = []
    try:
        for obj in dss.ocsps:
            ocsps.append(obj.get_object().read_data(DecodePurpose.OCSP_RESPONSE))
        for obj in dss.crls:
            crls.append(obj.get_object().read_data(DecodePurpose.CRL))
        certs.extend(dss.load_certs())
    except Exception as exc:
        logger.info("DSS entries unreadable: %s", exc)
    state.dss_material = RevocationMaterial(
        ocsps=tuple(o for o in ocsps if classify_revinfo(o) is RevinfoKind.OCSP),
        crls=tuple(c for c in crls if classify_revinfo(c) is RevinfoKind.CRL),
        certs=tuple(interned(certs)),
    )
    try:
        dss_ref = reader.root.raw_get("/DSS")
        if isinstance(dss_ref, generic.IndirectObject):
            state.dss_revision = reader.xrefs.get_last_change(dss_ref.reference)
        else:
            state.dss_revision = reader.xrefs.total_revisions - 1
    except Exception:
        state.dss_revision = None


def read_certification(state: VerifierState, reader: PdfFileReader) -> None:
    try:
        sig = reader.root["/Perms"]["/DocMDP"]
        perm = docmdp_of(sig)
    except Exception:
        return
    if perm is not None:
        state.certified_allows_forms = perm.value >= MDPPerm.FILL_FORMS.value
        state.certified_allows_annotations = perm.value >= MDPPerm.ANNOTATE.value


def ref_of(fld: Any) -> generic.Reference | None:
    try:
        if isinstance(fld, generic.IndirectObject):
            fld = fld.get_object()
        raw = fld.raw_get("/V")
    except Exception:
        return None
    return raw.reference if isinstance(raw, generic.IndirectObject) else None


def docmdp_ref(handler: Any) -> generic.Reference | None:
    try:
        raw = handler.root["/Perms"].raw_get("/DocMDP")
    except Exception:
        return None
    return raw.reference if isinstance(raw, generic.IndirectObject) else None


def docmdp_of(sig: Any) -> MDPPerm | None:
    try:
        for ref in sig["/Reference"]:
            ref = ref.get_object()
            if ref["/TransformMethod"] == "/DocMDP":
                return MDPPerm(ref["/TransformParams"].get("/P", 2))
    except Exception:
        return None
    return None


def is_certification_ref(reader: PdfFileReader | None, ref: generic.Reference | None) -> bool:
    return reader is not None and ref is not None and docmdp_ref(reader) == ref


def first_revision_without(
    reader: PdfFileReader, ref: generic.Reference, *, start: int, last: int
) -> int:
    for rev in range(start, last + 1):
        try:
            refs = {
                ref_of(fld)
                for _n, _s, fld in enumerate_sig_fields(
                    reader.get_historical_resolver(rev), filled_status=True
                )
            }
        except Exception:
            return rev
        if ref not in refs:
            return rev
    return last
