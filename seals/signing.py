"""Apply a seal to a PDF: a PAdES signature (ETSI.CAdES.detached, SHA-256) by incremental update.

``sign_pdf(*, pdf, identity, placement, level, ...)`` is a pure function over bytes and
cryptography objects: no database, no network (revocation data and trust roots come in a
`ValidationMaterial`, time-stamps from the `TimeStamper` the caller hands in).

Levels (ETSI EN 319 142-1):

* ``B-B``: the signature.
* ``B-T``: plus a signature time-stamp (unsigned attribute) from ``timestamper``.
* ``B-LT``: plus the chains, OCSP responses and CRLs in the document security store (/DSS),
  in an incremental update after the signature. Signing fails if the material does not let
  the signer's (and the TSA's) certificate validate.
* ``B-LTA``: plus a document time-stamp (/SubFilter /ETSI.RFC3161) after the DSS.

Appearance: the seal PNG (transparent background kept as an /SMask) drawn at its physical size
as the normal appearance of the signature's widget annotation(s), no text or frame. A riding
seal (`CrossPagePlacement`) and a keyword placement with ``occurrence='all'`` are ONE signature
field with one widget per page (ISO 32000-1 §12.7.3.1 allows a field to have several widget
annotations), all added in the signed revision. Widgets rather than page content: a later
signer who adds his own seals (as widgets of a new signature field) stays within what an
approval signature may change (new signature fields), so the earlier signatures keep passing
modification analysis; stamping into page content streams would not. The whole revision is
covered by the signature, so removing, swapping or re-ordering a page afterwards is either a
broken byte range or a disallowed incremental change.

Every check on the input (PDF syntax, encryption, certification lock, page numbers, placement
inside the page, keyword present, appearance image) runs before anything is written.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from io import BytesIO
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from seals.placement import (
    CoordinatePlacement,
    CrossPagePlacement,
    InvalidPlacementError,
    InvisiblePlacement,
    KeywordNotFoundError,
    KeywordPlacement,
    PageOutOfRangeError,
    Placement,
    PlacementError,
    PlacementOutsidePageError,
    SealWidget,
    SigningError,
    page_geometries,
    resolve_placement,
)

__all__ = [
    "CertificationNotFirstError",
    "CoordinatePlacement",
    "CrossPagePlacement",
    "DamagedPdfError",
    "DocMdpPermission",
    "DocumentLockedError",
    "EncryptedPdfError",
    "FieldNameTakenError",
    "InvalidAppearanceError",
    "InvalidPlacementError",
    "InvisiblePlacement",
    "KeywordNotFoundError",
    "KeywordPlacement",
    "MissingInputError",
    "NotAPdfError",
    "PadesLevel",
    "PageOutOfRangeError",
    "Placement",
    "PlacementError",
    "PlacementOutsidePageError",
    "SealAppearance",
    "SignedPdf",
    "SignerNotValidError",
    "SigningError",
    "SigningIdentity",
    "TimestampFailedError",
    "ValidationMaterial",
    "async_sign_pdf",
    "sign_pdf",
]


# --------------------------------------------------------------------------- errors


class NotAPdfError(SigningError):
    """The bytes are not a PDF file."""

    code = "not-a-pdf"


class EncryptedPdfError(SigningError):
    """The PDF is encrypted: eseal does not seal documents it cannot read and keep readable."""

    code = "encrypted-pdf"


class DamagedPdfError(SigningError):
    """The PDF cannot be parsed strictly (broken cross-reference table, truncated file, ...)."""

    code = "damaged-pdf"


class DocumentLockedError(SigningError):
    """A certification signature on the document forbids any further change."""

    code = "document-locked"


class CertificationNotFirstError(SigningError):
    """A certification signature must be the document's first signature."""

    code = "certification-not-first"


class FieldNameTakenError(SigningError):
    """The document already has a form field with the requested name."""

    code = "field-name-taken"


class InvalidAppearanceError(SigningError):
    """The seal appearance is not a usable image or has no positive physical size."""

    code = "invalid-appearance"


class MissingInputError(SigningError):
    """The level asks for an input that was not given (time-stamper, validation material)."""

    code = "missing-signing-input"


class SignerNotValidError(SigningError):
    """The signer's (or the TSA's) certificate does not validate with the given material."""

    code = "signer-not-valid"


class TimestampFailedError(SigningError):
    """The time-stamper did not return a usable time-stamp token."""

    code = "timestamp-failed"


# --------------------------------------------------------------------------- specs and results


class PadesLevel(StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1)."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"


class DocMdpPermission(StrEnum):
    """What a certification signature still allows (ISO 32000-1 §12.8.2.2, /P 1..3)."""

    NO_CHANGES = "no-changes"
    FORM_FILLING = "form-filling"
    ANNOTATIONS = "annotations"


PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True, slots=True)
class SigningIdentity:
    """A signer's certificate, the chain above it (issuing CAs, root optional) and private key."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    private_key: PrivateKey

    def signer(self) -> Any:
        """The equivalent pyhanko `SimpleSigner` (ECDSA or RSA PKCS#1 v1.5, SHA-256)."""
        from asn1crypto import keys as asn1_keys
        from pyhanko.sign.signers import SimpleSigner
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        key_info = asn1_keys.PrivateKeyInfo.load(
            self.private_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return SimpleSigner(
            signing_cert=_asn1_cert(self.certificate),
            signing_key=key_info,
            cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in self.chain]),
        )


@dataclass(frozen=True, slots=True)
class ValidationMaterial:
    """Everything needed to validate the signer's and TSA's certificates, without fetching.

    ``certificates``: intermediates not in the signer's chain (e.g. the TSA's issuer).
    ``ocsp_responses``: DER OCSPResponse; ``crls``: DER CertificateList.
    """

    trust_roots: tuple[x509.Certificate, ...]
    certificates: tuple[x509.Certificate, ...] = ()
    ocsp_responses: tuple[bytes, ...] = ()
    crls: tuple[bytes, ...] = ()

    def validation_context(self) -> Any:
        """A pyhanko-certvalidator `ValidationContext` that never fetches and requires
        revocation information for every non-root certificate."""
        from asn1crypto import crl as asn1_crl
        from asn1crypto import ocsp as asn1_ocsp
        from pyhanko_certvalidator import ValidationContext

        return ValidationContext(
            trust_roots=[_asn1_cert(c) for c in self.trust_roots],
            other_certs=[_asn1_cert(c) for c in self.certificates],
            ocsps=[asn1_ocsp.OCSPResponse.load(r) for r in self.ocsp_responses],
            crls=[asn1_crl.CertificateList.load(c) for c in self.crls],
            allow_fetching=False,
            revocation_mode="require",
        )


@dataclass(frozen=True, slots=True)
class SealAppearance:
    """The seal image (PNG/any Pillow-readable image; transparency is kept) and its
    physical size in millimetres (e.g. 42 x 42 for an official round seal)."""

    image: bytes
    width_mm: float
    height_mm: float


@dataclass(frozen=True, slots=True)
class SignedPdf:
    """The signed document and what was done to it."""

    pdf: bytes
    field_name: str
    level: PadesLevel
    sha256: str  # hex digest of ``pdf``
    widget_count: int = 0


# --------------------------------------------------------------------------- helpers


def _asn1_cert(certificate: x509.Certificate) -> Any:
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


_PDF_HEADER_WINDOW = 1024


def _open_writer(pdf: bytes) -> Any:
    """An `IncrementalPdfFileWriter` over the document, or the right input error."""
    from pyhanko.pdf_utils.misc import PdfError

    from seals.pdfa import open_incremental_writer

    if not isinstance(pdf, bytes | bytearray) or b"%PDF-" not in bytes(pdf[:_PDF_HEADER_WINDOW]):
        raise NotAPdfError("The input is not a PDF file (no %PDF- header).")
    try:
        writer = open_incremental_writer(bytes(pdf), strict=True)
    except PdfError as exc:
        raise DamagedPdfError(f"The PDF cannot be read: {exc}") from exc
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise DamagedPdfError(f"The PDF cannot be read: {exc}") from exc
    reader = writer.prev
    if reader.encrypted:
        raise EncryptedPdfError("The PDF is encrypted; decrypt it before sealing.")
    try:
        if reader.xrefs.hybrid_xrefs_present:
            writer = _hybrid_writer(bytes(pdf))
            reader = writer.prev
        int(reader.root["/Pages"]["/Count"])
    except DamagedPdfError:
        raise
    except Exception as exc:
        raise DamagedPdfError(f"The PDF's page tree cannot be read: {exc}") from exc
    return writer


def _hybrid_writer(pdf: bytes) -> Any:
    """A writer for a hybrid-reference file (a classic xref table whose trailer's /XRefStm
    adds an xref stream, ISO 32000-1 7.5.8.4, as Word and Acrobat write them).

    The file has just passed pyhanko's strict parse, which reads the table and its stream and
    gives the classic table precedence (the stream only adds objects that readers knowing
    only classic tables cannot see). pyhanko still refuses to sign such a file from a strict
    reader, so the same bytes are reopened without strict mode for writing; the update is an
    ordinary incremental section that every reader follows back through /Prev.
    """
    from seals.pdfa import open_incremental_writer

    return open_incremental_writer(pdf, strict=False)


def _existing_field_names(reader: Any) -> set[str]:
    from pyhanko.pdf_utils.form_tools import enumerate_fields_in

    try:
        fields = reader.root["/AcroForm"]["/Fields"]
    except KeyError:
        return set()
    return {
        name
        for field_type in ("/Sig", "/Tx", "/Btn", "/Ch")
        for name, _value, _ref in enumerate_fields_in(
            fields, refs_seen=set(), target_field_type=field_type
        )
    }


def _signature_count(reader: Any) -> int:
    from pyhanko.sign.fields import enumerate_sig_fields

    return sum(1 for _ in enumerate_sig_fields(reader, filled_status=True))


def _check_lock(reader: Any, *, certify: DocMdpPermission | None) -> None:
    from pyhanko.sign.fields import MDPPerm
    from pyhanko.sign.validation import read_certification_data

    certification = read_certification_data(reader)
    if certification is not None and certification.permission == MDPPerm.NO_CHANGES:
        raise DocumentLockedError(
            "The document's certification signature allows no changes: it cannot be sealed again."
        )
    if certify is not None and _signature_count(reader) > 0:
        raise CertificationNotFirstError(
            "A certification signature must be the first signature in the document."
        )


def _load_image(appearance: SealAppearance) -> Any:
    from PIL import Image, UnidentifiedImageError

    if not (appearance.width_mm > 0 and appearance.height_mm > 0):
        raise InvalidAppearanceError("The seal's physical width and height must be positive.")
    try:
        with Image.open(BytesIO(appearance.image)) as image:
            image.load()
            return image.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidAppearanceError(f"The seal image cannot be read: {exc}") from exc


_MDP = {
    DocMdpPermission.NO_CHANGES: "NO_CHANGES",
    DocMdpPermission.FORM_FILLING: "FILL_FORMS",
    DocMdpPermission.ANNOTATIONS: "ANNOTATE",
}


def _appearance_stream(writer: Any, image_ref: Any, widget: SealWidget) -> Any:
    """A form XObject showing the widget's slice of the seal image, upright on screen.

    The image XObject is shared by all widgets of a signature; a slice is the whole image
    shifted left and clipped by the form's /BBox. For a page with /Rotate R the form's /Matrix
    rotates the content counter-clockwise by R, which the page rotation undoes on screen.
    """
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name

    rect = widget.rect
    sideways = widget.rotate in (90, 270)
    width = rect.height if sideways else rect.width  # slice width as displayed
    height = rect.width if sideways else rect.height
    full_width = width * widget.slice_count
    content = b"q %.4f 0 0 %.4f %.4f 0 cm /Seal Do Q" % (
        full_width,
        height,
        -width * widget.slice_index,
    )
    matrix = {
        0: (1, 0, 0, 1),
        90: (0, 1, -1, 0),
        180: (-1, 0, 0, -1),
        270: (0, -1, 1, 0),
    }[widget.rotate]
    stream = generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): generic.ArrayObject(
                [generic.FloatObject(v) for v in (0, 0, round(width, 4), round(height, 4))]
            ),
            pdf_name("/Matrix"): generic.ArrayObject(
                [generic.NumberObject(v) for v in matrix]
                + [generic.NumberObject(0), generic.NumberObject(0)]
            ),
            pdf_name("/Resources"): generic.DictionaryObject(
                {pdf_name("/XObject"): generic.DictionaryObject({pdf_name("/Seal"): image_ref})}
            ),
        },
        stream_data=content,
    )
    stream.compress()
    return writer.add_object(stream)


def _widget_annotation(
    writer: Any, *, field_ref: Any, widget: SealWidget, image_ref: Any
) -> tuple[Any, Any]:
    """Create a widget annotation for ``widget``; returns (annotation ref, page ref)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name

    page_ref = writer.find_page_for_modification(widget.page_index)[0]
    annotation = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/Widget"),
            # print (4) + locked (128): shown when printed, cannot be moved in a viewer
            pdf_name("/F"): generic.NumberObject(132),
            pdf_name("/Rect"): generic.ArrayObject(
                [generic.FloatObject(round(v, 4)) for v in widget.rect.as_tuple()]
            ),
            pdf_name("/P"): page_ref,
            # No /Parent back-reference, as in pyhanko's own widgets: poppler takes every
            # /Kids entry that has a /Parent for a child *field* and would report N unsigned
            # signature fields instead of one signature with N widgets.
            pdf_name("/AP"): generic.DictionaryObject(
                {pdf_name("/N"): _appearance_stream(writer, image_ref, widget)}
            ),
        }
    )
    return writer.add_object(annotation), page_ref


def _create_visible_field(
    writer: Any, *, name: str, first: SealWidget, image_ref: Any
) -> tuple[Any, Any]:
    """A new signature field with exactly one widget (the first); returns (field ref, kids)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.sign.fields import ensure_sig_flags

    root = writer.root
    try:
        form = root["/AcroForm"]
    except KeyError:
        form = generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()})
        root[pdf_name("/AcroForm")] = writer.add_object(form)
        writer.update_root()
    try:
        fields = form["/Fields"]
    except KeyError:
        fields = form[pdf_name("/Fields")] = generic.ArrayObject()
    kids = generic.ArrayObject()
    field = generic.DictionaryObject(
        {
            pdf_name("/FT"): pdf_name("/Sig"),
            pdf_name("/T"): generic.TextStringObject(name),
            pdf_name("/Kids"): kids,
        }
    )
    field_ref = writer.add_object(field)
    annotation_ref, page_ref = _widget_annotation(
        writer, field_ref=field_ref, widget=first, image_ref=image_ref
    )
    kids.append(annotation_ref)
    writer.register_annotation(page_ref, annotation_ref)
    fields.append(field_ref)
    writer.update_container(fields)
    ensure_sig_flags(writer=writer, lock_sig_flags=False)
    return field_ref, kids


def _default_field_name(taken: set[str]) -> str:
    number = 1
    while f"Seal{number}" in taken:
        number += 1
    return f"Seal{number}"


# --------------------------------------------------------------------------- signing


async def async_sign_pdf(
    *,
    pdf: bytes,
    identity: SigningIdentity | Any,
    placement: Placement,
    level: PadesLevel = PadesLevel.B_B,
    appearance: SealAppearance | None = None,
    timestamper: Any | None = None,
    validation: ValidationMaterial | None = None,
    certify: DocMdpPermission | None = None,
    field_name: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    signing_time: datetime | None = None,
    vri: bool | None = None,
) -> SignedPdf:
    """Seal ``pdf``; see `sign_pdf`. For callers already inside an event loop."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields as sig_fields
    from pyhanko.sign import signers
    from pyhanko.sign.general import SigningError as PyhankoSigningError
    from pyhanko.sign.signers import pdf_signer as pdf_signer_mod
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko.stamp import NoOpStampStyle
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

    level = PadesLevel(level)
    # 1. inputs the level needs
    if level is not PadesLevel.B_B and timestamper is None:
        raise MissingInputError(f"PAdES {level} needs a time-stamper.")
    if level in (PadesLevel.B_LT, PadesLevel.B_LTA) and validation is None:
        raise MissingInputError(f"PAdES {level} needs validation material (chains, OCSP, CRLs).")

    # 2. the document
    writer = _open_writer(pdf)
    reader = writer.prev
    _check_lock(reader, certify=certify)
    taken = _existing_field_names(reader)
    if field_name is not None:
        if not field_name or "." in field_name:
            raise InvalidPlacementError("A field name must be non-empty and contain no '.'.")
        if field_name in taken:
            raise FieldNameTakenError(f"The document already has a field named {field_name!r}.")
    name = field_name or _default_field_name(taken)

    # 3. where the seal goes, and what it looks like
    image = _load_image(appearance) if appearance is not None else None
    size = (appearance.width_mm, appearance.height_mm) if appearance is not None else None
    try:
        pages = page_geometries(reader)
    except (PdfError, KeyError, ValueError, TypeError) as exc:
        raise DamagedPdfError(f"The PDF's pages cannot be read: {exc}") from exc
    widgets = resolve_placement(placement=placement, pages=pages, seal_size_mm=size, pdf=bytes(pdf))

    # 4. the signature
    signer = identity.signer() if isinstance(identity, SigningIdentity) else identity
    metadata = signers.PdfSignatureMetadata(
        field_name=name,
        md_algorithm="sha256",
        subfilter=sig_fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        certify=certify is not None,
        docmdp_permissions=(
            getattr(sig_fields.MDPPerm, _MDP[certify])
            if certify is not None
            else sig_fields.MDPPerm.FILL_FORMS
        ),
        embed_validation_info=level in (PadesLevel.B_LT, PadesLevel.B_LTA),
        use_pades_lta=level is PadesLevel.B_LTA,
        validation_context=validation.validation_context() if validation is not None else None,
        # B-LT: the DSS in its own revision after the signature. B-LTA: that DSS, then the
        # document time-stamp as the very last revision (it covers the whole file). The
        # signature's /VRI entry (deprecated in EN 319 142-1, still looked for by some older
        # validators) is on by default; none for the document time-stamp, which would force a
        # DSS update after it.
        dss_settings=pdf_signer_mod.DSSContentSettings(
            include_vri=True if vri is None else vri,
            placement=pdf_signer_mod.SigDSSPlacementPreference.SEPARATE_REVISION,
            next_ts_settings=pdf_signer_mod.TimestampDSSContentSettings(
                include_vri=False, update_before_ts=True
            ),
        ),
    )
    kids: Any = None
    field_ref: Any = None
    image_ref: Any = None
    if widgets:
        assert image is not None  # resolve_placement refused visible placements without one
        from pyhanko.pdf_utils.images import pil_image

        image_ref = pil_image(image, writer)
        field_ref, kids = _create_visible_field(
            writer, name=name, first=widgets[0], image_ref=image_ref
        )
        new_field_spec = None
    else:
        new_field_spec = sig_fields.SigFieldSpec(sig_field_name=name)
    pdf_signer = signers.PdfSigner(
        metadata,
        signer=signer,
        timestamper=timestamper if level is not PadesLevel.B_B else None,
        stamp_style=NoOpStampStyle(border_width=0),
        new_field_spec=new_field_spec,
    )
    try:
        session = pdf_signer.init_signing_session(writer)
        if signing_time is not None:
            session.system_time = signing_time
        try:
            validation_info = await session.perform_presign_validation(writer)
        except (PathBuildingError, PathValidationError, PyhankoSigningError) as exc:
            raise SignerNotValidError(
                f"A certificate does not validate with the given material: {exc}"
            ) from exc
        reserved = await session.estimate_signature_container_size(validation_info, tight=False)
        tbs = session.prepare_tbs_document(validation_info=validation_info, bytes_reserved=reserved)
        # pyhanko's appearance step handles one widget per field; the other widgets of this
        # field join it now, before the revision is written and hashed.
        for widget in widgets[1:]:
            annotation_ref, page_ref = _widget_annotation(
                writer, field_ref=field_ref, widget=widget, image_ref=image_ref
            )
            kids.append(annotation_ref)
            writer.register_annotation(page_ref, annotation_ref)
        if len(widgets) > 1:
            writer.mark_update(field_ref)
        output = BytesIO()
        prepared, _ = tbs.digest_tbs_document(output=output)
        post = await tbs.perform_signature(
            document_digest=prepared.document_digest,
            pdf_cms_signed_attrs=PdfCMSSignedAttributes(
                signing_time=session.system_time,
                adobe_revinfo_attr=(
                    None if validation_info is None else validation_info.adobe_revinfo_attr
                ),
                cades_signed_attrs=metadata.cades_signed_attr_spec,
            ),
        )
        await post.post_signature_processing(output)
    except TimestampRequestError as exc:
        raise TimestampFailedError(f"Time-stamping failed: {exc}") from exc
    except (PathBuildingError, PathValidationError) as exc:
        raise SignerNotValidError(f"A certificate does not validate: {exc}") from exc
    except PyhankoSigningError as exc:
        raise SigningError(f"Signing failed: {exc}") from exc

    data = output.getvalue()
    return SignedPdf(
        pdf=data,
        field_name=name,
        level=level,
        sha256=hashlib.sha256(data).hexdigest(),
        widget_count=len(widgets),
    )


def sign_pdf(
    *,
    pdf: bytes,
    identity: SigningIdentity | Any,
    placement: Placement,
    level: PadesLevel = PadesLevel.B_B,
    appearance: SealAppearance | None = None,
    timestamper: Any | None = None,
    validation: ValidationMaterial | None = None,
    certify: DocMdpPermission | None = None,
    field_name: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    signing_time: datetime | None = None,
    vri: bool | None = None,
) -> SignedPdf:
    """Seal ``pdf`` with a PAdES signature at ``level``; returns the whole signed document.

    ``identity`` is a `SigningIdentity` or any pyhanko `Signer` (e.g. from a key store).
    ``placement`` says where the seal shows (`seals.placement`); a visible placement needs
    ``appearance``. ``timestamper`` (a pyhanko `TimeStamper`) is required from B-T up,
    ``validation`` from B-LT up. ``certify`` makes this a certification (author) signature with
    the given DocMDP permission; it must be the document's first signature. ``signing_time``
    is the claimed time in the signature dictionary (/M; default now). ``vri``: write the
    signature's /VRI entry in the DSS at B-LT/B-LTA (default on, for older validators).

    Runs its own event loop: from async code call `async_sign_pdf`.
    Raises a `SigningError` subclass (stable ``code``) before producing anything on bad input.
    """
    return asyncio.run(
        async_sign_pdf(
            pdf=pdf,
            identity=identity,
            placement=placement,
            level=level,
            appearance=appearance,
            timestamper=timestamper,
            validation=validation,
            certify=certify,
            field_name=field_name,
            reason=reason,
            location=location,
            signing_time=signing_time,
            vri=vri,
        )
    )
