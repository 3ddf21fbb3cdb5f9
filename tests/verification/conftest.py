"""A real test PKI, real PDFs signed with pyhanko, real manipulations.

root CA (ours) ── issuing CA ── enterprise seal, personal, revoked-before, revoked-after,
                 │              OCSP responder (delegated)
                 └─ TSA (EKU timeStamping, critical)
recognised foreign root ── foreign leaf
unrecognised root ── rogue leaf

Revocation for our certificates comes from `pki.ocsp.respond` in process (the callable the
app will hand to `verify_pdf`); for the foreign CA it is embedded in the PDF's DSS.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as x509_ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from pki.ocsp import CertStatus, OcspIssuer
from pki.ocsp import respond as ocsp_respond
from pki.timestamper import InProcessTimeStamper
from pki.trust import TrustStore
from pki.tsa import TsaConfig
from seals.reports import SealInfo, VerificationReport
from seals.verification import verify_pdf
from tests.support.pki import Entity, issue, name

NOW = datetime.now(UTC).replace(microsecond=0)
ORG_CODE = "91330106MA2GXXXX0A"  # format only; the verifier shows it, it does not validate it
RESIDENT_ID = "330106198503121231"


def _issue(
    subject: x509.Name,
    *,
    issuer: Entity | None,
    ca: bool,
    eku: list[x509.ObjectIdentifier] | None = None,
    eku_critical: bool = False,
    ocsp_nocheck: bool = False,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> Entity:
    """A certificate of the test PKI, valid from 30 days ago; leaves name where to ask OCSP
    (like real certificates; fetching stays off in the verifier)."""
    asks_ocsp = not ca and issuer is not None and not ocsp_nocheck
    return issue(
        subject,
        issuer=issuer,
        ca=ca,
        eku=eku or (),
        eku_critical=eku_critical,
        ocsp_nocheck=ocsp_nocheck,
        ocsp_url="http://ocsp.eseal.test/" if asks_ocsp else None,
        not_before=not_before or NOW - timedelta(days=30),
        not_after=not_after,
    )


def _name(cn: str, *, org: str | None = None, extra: list[x509.NameAttribute] | None = None):
    return name(cn, org=org, extra=extra or ())


@dataclass(frozen=True)
class Pki:
    root: Entity
    issuing: Entity
    ocsp: Entity
    tsa: Entity
    enterprise: Entity
    person: Entity
    revoked_before: Entity
    revoked_after: Entity
    foreign_root: Entity
    foreign_leaf: Entity
    rogue_root: Entity
    rogue_leaf: Entity
    revoked_at: dict[int, datetime]

    def status(self, serial: int) -> CertStatus:
        when = self.revoked_at.get(serial)
        if when is None:
            return CertStatus.good()
        return CertStatus.revoked(at=when, reason=x509.ReasonFlags.key_compromise)


@pytest.fixture(scope="session")
def pki() -> Pki:
    root = _issue(_name("eseal 测试根 CA", org="eseal"), issuer=None, ca=True)
    issuing = _issue(_name("eseal 机构 CA", org="eseal"), issuer=root, ca=True)
    ocsp = _issue(
        _name("eseal OCSP", org="eseal"),
        issuer=issuing,
        ca=False,
        eku=[ExtendedKeyUsageOID.OCSP_SIGNING],
        ocsp_nocheck=True,
    )
    tsa = _issue(
        _name("eseal TSA", org="eseal"),
        issuer=root,
        ca=False,
        eku=[ExtendedKeyUsageOID.TIME_STAMPING],
        eku_critical=True,
    )
    org_id = x509.NameAttribute(x509.ObjectIdentifier("2.5.4.97"), f"NTRCN-{ORG_CODE}")
    enterprise = _issue(
        _name("杭州测试科技有限公司 合同专用章", org="杭州测试科技有限公司", extra=[org_id]),
        issuer=issuing,
        ca=False,
    )
    person = _issue(
        _name(
            "张三",
            extra=[x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IDCCN-{RESIDENT_ID}")],
        ),
        issuer=issuing,
        ca=False,
    )
    revoked_before = _issue(_name("revoked before signing", org="x"), issuer=issuing, ca=False)
    revoked_after = _issue(_name("revoked after signing", org="x"), issuer=issuing, ca=False)
    foreign_root = _issue(_name("Recognised Province CA", org="foreign"), issuer=None, ca=True)
    foreign_leaf = _issue(_name("外省企业", org="外省企业"), issuer=foreign_root, ca=False)
    rogue_root = _issue(_name("eseal 测试根 CA", org="eseal"), issuer=None, ca=True)
    rogue_leaf = _issue(_name("冒充企业", org="杭州测试科技有限公司"), issuer=rogue_root, ca=False)
    return Pki(
        root=root,
        issuing=issuing,
        ocsp=ocsp,
        tsa=tsa,
        enterprise=enterprise,
        person=person,
        revoked_before=revoked_before,
        revoked_after=revoked_after,
        foreign_root=foreign_root,
        foreign_leaf=foreign_leaf,
        rogue_root=rogue_root,
        rogue_leaf=rogue_leaf,
        revoked_at={
            revoked_before.cert.serial_number: NOW - timedelta(hours=2),
            revoked_after.cert.serial_number: NOW + timedelta(hours=2),
        },
    )


@pytest.fixture(scope="session")
def trust(pki: Pki) -> TrustStore:
    return TrustStore(
        own_roots=[pki.root.cert],
        recognised=[pki.foreign_root.cert],
        intermediates=[pki.issuing.cert],
    )


def ocsp_der(
    pki: Pki, issuer: Entity, responder: Entity, cert: x509.Certificate, now: datetime
) -> bytes:
    request = (
        x509_ocsp.OCSPRequestBuilder()
        .add_certificate(cert, issuer.cert, hashes.SHA256())
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    return ocsp_respond(
        request,
        issuers=[
            OcspIssuer(
                issuer_cert=issuer.cert,
                responder_cert=responder.cert,
                responder_key=responder.signer,
                name="ca",
            )
        ],
        lookup=lambda _name, serial: pki.status(serial),
        now=now,
        validity=timedelta(days=7),
    )


def make_revocation_lookup(
    pki: Pki, now: datetime
) -> Callable[[x509.Certificate, x509.Certificate], bytes | None]:
    """What the app does: our own OCSP responder, in process, for our issuing CA."""

    def lookup(issuer: x509.Certificate, cert: x509.Certificate) -> bytes | None:
        if issuer == pki.issuing.cert:
            return ocsp_der(pki, pki.issuing, pki.ocsp, cert, now)
        return None

    return lookup


def make_seal_lookup(pki: Pki) -> Callable[[x509.Certificate], SealInfo | None]:
    def lookup(cert: x509.Certificate) -> SealInfo | None:
        if cert == pki.enterprise.cert:
            return SealInfo(
                code="3301060000001", kind="contract", owner="杭州测试科技有限公司", status="active"
            )
        return None

    return lookup


# --------------------------------------------------------------------------- documents


def make_pdf(
    *,
    pages: int = 1,
    text: str = "Contract amount: 100 CNY",
    with_field: bool = False,
    with_overlay: bool = False,
) -> bytes:
    """A simple PDF written with pyhanko's writer.

    `with_field`: an AcroForm text field `amount` (value 100) with an appearance stream.
    `with_overlay`: page 1 draws XObject /Secret ("999") and then XObject /Cover over it
    (white box + "100") - the set-up of a shadow "hide" attack.
    """
    w = PdfFileWriter()
    font = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name("/Helvetica"),
            }
        )
    )
    fonts = generic.DictionaryObject({pdf_name("/F1"): font})
    for i in range(pages):
        resources = generic.DictionaryObject({pdf_name("/Font"): fonts})
        body = f"BT /F1 18 Tf 72 720 Td ({text} - page {i + 1}) Tj ET".encode()
        if with_overlay and i == 0:
            secret = _form_xobject(w, b"BT /F1 18 Tf 72 600 Td (Pay 999999 CNY) Tj ET", fonts)
            cover = _form_xobject(
                w,
                b"1 1 1 rg 60 590 400 40 re f 0 0 0 rg BT /F1 18 Tf 72 600 Td (Pay 100 CNY) Tj ET",
                fonts,
            )
            resources[pdf_name("/XObject")] = generic.DictionaryObject(
                {pdf_name("/Secret"): secret, pdf_name("/Cover"): cover}
            )
            body += b"\nq /Secret Do Q q /Cover Do Q"
        contents = w.add_object(generic.StreamObject(stream_data=body))
        page = PageObject(contents=contents, media_box=(0, 0, 595, 842), resources=resources)
        w.insert_page(page)
    if with_field:
        _add_text_field(w, fonts, value="100")
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def _form_xobject(w: PdfFileWriter, data: bytes, fonts: generic.DictionaryObject):
    return w.add_object(
        generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (0, 0, 595, 842)]
                ),
                pdf_name("/Resources"): generic.DictionaryObject({pdf_name("/Font"): fonts}),
            },
            stream_data=data,
        )
    )


def _text_appearance(w: Any, fonts: generic.DictionaryObject, value: str):
    return w.add_object(
        generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (0, 0, 200, 30)]
                ),
                pdf_name("/Resources"): generic.DictionaryObject({pdf_name("/Font"): fonts}),
            },
            stream_data=f"/Tx BMC BT /F1 14 Tf 2 8 Td ({value}) Tj ET EMC".encode(),
        )
    )


def _add_text_field(w: PdfFileWriter, fonts: generic.DictionaryObject, *, value: str) -> None:
    page_ref = w.find_page_for_modification(0)[0]
    page = page_ref.get_object()
    ap = _text_appearance(w, fonts, value)
    field_dict = generic.DictionaryObject(
        {
            pdf_name("/FT"): pdf_name("/Tx"),
            pdf_name("/T"): generic.TextStringObject("amount"),
            pdf_name("/V"): generic.TextStringObject(value),
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/Widget"),
            pdf_name("/Rect"): generic.ArrayObject(
                [generic.NumberObject(n) for n in (72, 500, 272, 530)]
            ),
            pdf_name("/F"): generic.NumberObject(4),
            pdf_name("/P"): page_ref,
            pdf_name("/DA"): generic.TextStringObject("/F1 14 Tf 0 g"),
            pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): ap}),
        }
    )
    field_ref = w.add_object(field_dict)
    page[pdf_name("/Annots")] = generic.ArrayObject([field_ref])
    w.root[pdf_name("/AcroForm")] = generic.DictionaryObject(
        {
            pdf_name("/Fields"): generic.ArrayObject([field_ref]),
            pdf_name("/DR"): generic.DictionaryObject({pdf_name("/Font"): fonts}),
            pdf_name("/DA"): generic.TextStringObject("/F1 14 Tf 0 g"),
        }
    )


# --------------------------------------------------------------------------- signing


def pyhanko_signer(pki: Pki, who: Entity, issuer: Entity | None = None) -> signers.SimpleSigner:
    issuer = issuer or pki.issuing
    chain = [issuer.asn1]
    if issuer is pki.issuing:
        chain.append(pki.root.asn1)
    return signers.SimpleSigner(
        signing_cert=who.asn1,
        signing_key=asn1_keys.PrivateKeyInfo.load(
            who.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )


def timestamper(pki: Pki, clock: Callable[[], datetime] | None = None) -> InProcessTimeStamper:
    return InProcessTimeStamper(
        config=TsaConfig(
            cert=pki.tsa.cert,
            key=pki.tsa.signer,
            chain=[pki.root.cert],
            policy_oid="1.2.156.1.1",
            accuracy=timedelta(seconds=1),
        ),
        clock=clock or (lambda: datetime.now(UTC)),
    )


def sign(
    pki: Pki,
    pdf: bytes,
    *,
    who: Entity | None = None,
    issuer: Entity | None = None,
    field: str = "Seal1",
    timestamp: bool = True,
    certify: MDPPerm | None = None,
    lt: bool = False,
    lta: bool = False,
    box: tuple[int, int, int, int] | None = (400, 60, 520, 180),
    reason: str | None = "合同盖章",
    strict: bool = True,
) -> bytes:
    who = who or pki.enterprise
    w = IncrementalPdfFileWriter(BytesIO(pdf), strict=strict)
    if box is not None:
        fields.append_signature_field(
            w, fields.SigFieldSpec(sig_field_name=field, on_page=0, box=box)
        )
    vc = None
    if lt or lta:
        now = datetime.now(UTC)
        vc = ValidationContext(
            trust_roots=[pki.root.asn1],
            allow_fetching=False,
            ocsps=[
                ocsp_der(pki, pki.issuing, pki.ocsp, who.cert, now),
            ],
            other_certs=[pki.issuing.asn1],
        )
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        certify=certify is not None,
        docmdp_permissions=certify or MDPPerm.FILL_FORMS,
        embed_validation_info=lt or lta,
        use_pades_lta=lta,
        validation_context=vc,
    )
    out = signers.sign_pdf(
        w,
        meta,
        signer=pyhanko_signer(pki, who, issuer),
        timestamper=timestamper(pki) if (timestamp or lta) else None,
    )
    return out.getvalue()


def sign_as_seal2(pki: Pki, w: IncrementalPdfFileWriter) -> bytes:
    """Finish the update `w` with a second, time-stamped signature "Seal2" by the person."""
    fields.append_signature_field(
        w, fields.SigFieldSpec(sig_field_name="Seal2", on_page=0, box=(60, 60, 180, 120))
    )
    meta = signers.PdfSignatureMetadata(
        field_name="Seal2", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    return signers.sign_pdf(
        w, meta, signer=pyhanko_signer(pki, pki.person), timestamper=timestamper(pki)
    ).getvalue()


def incremental(pdf: bytes, change: Callable[[IncrementalPdfFileWriter], None]) -> bytes:
    """Append one incremental update made by `change` (an attacker's edit after signing)."""
    w = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    change(w)
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def add_foreign_dss(pki: Pki, pdf: bytes) -> bytes:
    """Embed the foreign CA's OCSP response for its leaf in a DSS (what a B-LT signer does)."""
    reader = PdfFileReader(BytesIO(pdf))
    sig = reader.embedded_signatures[0]
    ocsp = ocsp_der(pki, pki.foreign_root, pki.foreign_root, pki.foreign_leaf.cert, NOW)
    from asn1crypto import ocsp as asn1_ocsp

    out = BytesIO(pdf)
    DocumentSecurityStore.add_dss(
        out,
        sig.pkcs7_content,
        certs=[pki.foreign_root.asn1],
        ocsps=[asn1_ocsp.OCSPResponse.load(ocsp)],
    )
    return out.getvalue()


# --------------------------------------------------------------------------- byte surgery


_BR = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def byte_range(pdf: bytes, index: int = -1) -> tuple[re.Match[bytes], list[int]]:
    matches = list(_BR.finditer(pdf))
    m = matches[index]
    return m, [int(g) for g in m.groups()]


def replace_same_length(pdf: bytes, start: int, end: int, new: bytes) -> bytes:
    old = pdf[start:end]
    assert len(new) <= len(old), (new, old)
    return pdf[:start] + new.ljust(len(old)) + pdf[end:]


def set_byte_range(pdf: bytes, values: list[int], index: int = -1) -> bytes:
    m, _ = byte_range(pdf, index)
    text = b"/ByteRange [" + b" ".join(str(v).encode() for v in values) + b"]"
    return replace_same_length(pdf, m.start(), m.end(), text)


def resign_over(pki: Pki, pdf: bytes, values: list[int], who: Entity | None = None) -> bytes:
    """Set /ByteRange to `values` and put a VALID CMS over exactly those bytes into /Contents.

    This is what an attacker holding any valid certificate can do: a cryptographically sound
    signature whose byte range leaves part of the document unsigned.
    """
    _, orig = byte_range(pdf)
    gap_start, gap_end = orig[0] + orig[1], orig[2]
    pdf = set_byte_range(pdf, values)
    a, b, c, d = values
    digest = hashlib.sha256(pdf[a : a + b] + pdf[c : c + d]).digest()
    signer = pyhanko_signer(pki, who or pki.enterprise)
    cms = asyncio.run(signer.async_sign(digest, "sha256", use_pades=True))
    hex_cms = cms.dump().hex().encode()
    hole = gap_end - gap_start - 2
    assert len(hex_cms) <= hole
    return pdf[: gap_start + 1] + hex_cms.ljust(hole, b"0") + pdf[gap_end - 1 :]


def contents_span(pdf: bytes, index: int = -1) -> tuple[int, int]:
    """Offsets of the hex digits inside /Contents <...> of the signature (excluding <>)."""
    _, (a, b, c, _d) = byte_range(pdf, index)
    return a + b + 1, c - 1


# --------------------------------------------------------------------------- verifying


class Verify:
    def __init__(self, pki: Pki, trust: TrustStore) -> None:
        self.pki = pki
        self.trust = trust

    def __call__(
        self, pdf: bytes, *, now: datetime | None = None, max_seconds: float = 30.0
    ) -> VerificationReport:
        now = now or datetime.now(UTC)
        return verify_pdf(
            pdf=pdf,
            trust=self.trust,
            now=now,
            seal_lookup=make_seal_lookup(self.pki),
            revocation_lookup=make_revocation_lookup(self.pki, now),
            max_seconds=max_seconds,
        )


@pytest.fixture(scope="session")
def verify(pki: Pki, trust: TrustStore) -> Verify:
    return Verify(pki, trust)


@pytest.fixture(scope="session")
def base_pdf() -> bytes:
    return make_pdf()


@pytest.fixture(scope="session")
def signed(pki: Pki, base_pdf: bytes) -> bytes:
    """One enterprise seal, B-T (signature time-stamp)."""
    return sign(pki, base_pdf)
