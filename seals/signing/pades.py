"""Apply a seal to a PDF: a PAdES signature (ETSI.CAdES.detached, SHA-256) by incremental update.

``sign_pdf(pdf=..., identity=..., spec=SealingSpec(...))`` is a pure function over bytes: no
database, no network (revocation data and trust roots come in a `ValidationMaterial`,
time-stamps from the `TimeStamper` the caller hands in, the raw signature from the identity's
`KeySigner`). The stages: input checks (`checks`), the seal's widgets (`widgets`), the
signature metadata, and the pyhanko signing session.

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

import hashlib
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from seals.errors import (
    DamagedPdfError,
    MissingInputError,
    SignerNotValidError,
    SigningError,
    TimestampFailedError,
)
from seals.placement import LazyPageGeometries, SealWidget, resolve_placement
from seals.signing.checks import (
    check_lock,
    existing_field_names,
    field_name_for,
    open_writer,
)
from seals.signing.formats import blocking
from seals.signing.images import encoded_image
from seals.signing.presign import presign_validation
from seals.signing.spec import (
    DocMdpPermission,
    PadesLevel,
    SealingSpec,
    SignedPdf,
    SigningIdentity,
    ValidationMaterial,
)
from seals.signing.widgets import create_visible_field, widget_annotation

__all__ = ["PADES_PROFILE", "CmsProfile", "async_sign_cms", "async_sign_pdf", "sign_pdf"]

_MDP = {
    DocMdpPermission.NO_CHANGES: "NO_CHANGES",
    DocMdpPermission.FORM_FILLING: "FILL_FORMS",
    DocMdpPermission.ANNOTATIONS: "ANNOTATE",
}


@dataclass(frozen=True, slots=True)
class CmsProfile:
    """The CMS flavour of a format: its digest and its /SubFilter (a `SigSeedSubFilter` name).
    PAdES and the SM2 CMS form (`sm2cms`) share every other step of this module."""

    md_algorithm: str
    subfilter: str


PADES_PROFILE = CmsProfile(md_algorithm="sha256", subfilter="PADES")


@dataclass(slots=True)
class _Prepared:
    """The checked document, opened for an incremental update, and where the seal goes."""

    writer: Any
    field_name: str
    widgets: tuple[SealWidget, ...]
    image: Any

    def signed(self, data: bytes, level: PadesLevel) -> SignedPdf:
        """The result: ``data``, the whole signed document, sealed in this field at ``level``."""
        return SignedPdf(
            pdf=data,
            field_name=self.field_name,
            level=level,
            sha256=hashlib.sha256(data).hexdigest(),
            widget_count=len(self.widgets),
        )


def _check_inputs(spec: SealingSpec, timestamper: Any, validation: Any) -> None:
    if spec.level.needs_timestamp and timestamper is None:
        raise MissingInputError(f"PAdES {spec.level} needs a time-stamper.")
    if spec.level.needs_validation and validation is None:
        raise MissingInputError(
            f"PAdES {spec.level} needs validation material (chains, OCSP, CRLs)."
        )


def _prepare(pdf: bytes, spec: SealingSpec) -> _Prepared:
    """Every check on the document and the placement, before anything is written."""
    from pyhanko.pdf_utils.misc import PdfError

    writer = open_writer(pdf)
    reader = writer.prev
    check_lock(reader, certify=spec.certify)
    name = field_name_for(spec.field_name, existing_field_names(reader))
    appearance = spec.appearance
    image = encoded_image(appearance) if appearance is not None else None
    size = (appearance.width_mm, appearance.height_mm) if appearance is not None else None
    try:
        pages = LazyPageGeometries(reader)  # pages are read as the placement needs them
    except (PdfError, KeyError, ValueError, TypeError) as exc:
        raise DamagedPdfError(f"The PDF's pages cannot be read: {exc}") from exc
    widgets = resolve_placement(
        placement=spec.placement, pages=pages, seal_size_mm=size, pdf=bytes(pdf)
    )
    return _Prepared(writer=writer, field_name=name, widgets=tuple(widgets), image=image)


def _metadata(
    spec: SealingSpec,
    name: str,
    validation: ValidationMaterial | None,
    profile: CmsProfile = PADES_PROFILE,
) -> Any:
    """pyhanko's signature metadata for the spec: the profile's subfilter and digest, the
    level's revocation data and document time-stamp, the certification's DocMDP permission."""
    from pyhanko.sign import fields as sig_fields
    from pyhanko.sign import signers
    from pyhanko.sign.signers import pdf_signer as pdf_signer_mod

    certify = spec.certify
    return signers.PdfSignatureMetadata(
        field_name=name,
        md_algorithm=profile.md_algorithm,
        subfilter=getattr(sig_fields.SigSeedSubFilter, profile.subfilter),
        reason=spec.reason,
        location=spec.location,
        certify=certify is not None,
        docmdp_permissions=(
            getattr(sig_fields.MDPPerm, _MDP[certify])
            if certify is not None
            else sig_fields.MDPPerm.FILL_FORMS
        ),
        embed_validation_info=spec.level.needs_validation,
        use_pades_lta=spec.level.is_lta,
        # kept for the material's seals (see ValidationMaterial.kept_context, presign.py)
        validation_context=validation.kept_context()[0] if validation is not None else None,
        # B-LT: the DSS in its own revision after the signature. B-LTA: that DSS, then the
        # document time-stamp as the very last revision (it covers the whole file). The
        # signature's /VRI entry (deprecated in EN 319 142-1, still looked for by some older
        # validators) is on by default; none for the document time-stamp, which would force a
        # DSS update after it.
        dss_settings=pdf_signer_mod.DSSContentSettings(
            include_vri=spec.vri,
            placement=pdf_signer_mod.SigDSSPlacementPreference.SEPARATE_REVISION,
            next_ts_settings=pdf_signer_mod.TimestampDSSContentSettings(
                include_vri=False, update_before_ts=True
            ),
        ),
    )


class _SealImages:
    """The seal's signature field and widgets: the first is made before pyhanko's session
    (which handles one widget per field), the others join it before the revision is hashed."""

    def __init__(self, prepared: _Prepared) -> None:
        self.prepared = prepared
        self.field_ref: Any = None
        self.kids: Any = None
        self.image_ref: Any = None

    def new_field_spec(self) -> Any:
        """Create the visible field (None returned), or the spec of an invisible one."""
        from pyhanko.sign import fields as sig_fields

        prepared = self.prepared
        if not prepared.widgets:
            return sig_fields.SigFieldSpec(sig_field_name=prepared.field_name)
        assert prepared.image is not None  # resolve_placement refused visible without one
        self.image_ref = prepared.image.add_to(prepared.writer)
        self.field_ref, self.kids = create_visible_field(
            prepared.writer,
            name=prepared.field_name,
            first=prepared.widgets[0],
            image_ref=self.image_ref,
        )
        return None

    def add_the_others(self) -> None:
        writer = self.prepared.writer
        for widget in self.prepared.widgets[1:]:
            annotation_ref, page_ref = widget_annotation(
                writer, field_ref=self.field_ref, widget=widget, image_ref=self.image_ref
            )
            self.kids.append(annotation_ref)
            writer.register_annotation(page_ref, annotation_ref)
        if len(self.prepared.widgets) > 1:
            writer.mark_update(self.field_ref)


_RESERVED: dict[tuple[object, ...], int] = {}
"""Signature room by signer, TSA and level, learnt from pyhanko's dry run (with its 50%
margin): the same signer and TSA always produce a CMS of (nearly) the same size."""


async def _reserved_bytes(
    session: Any, pdf_signer: Any, validation_info: Any, spec: SealingSpec
) -> int:
    """Room for the signature: from an earlier seal with the same signer, TSA and level, else
    pyhanko's dry run (a whole CMS with a dummy time-stamp, signed by nobody)."""
    stamper = session.timestamper
    stamper_key = getattr(stamper, "reservation_key", None) if stamper is not None else ""
    cert = pdf_signer.signer.signing_cert
    key = None
    revinfo = getattr(validation_info, "adobe_revinfo_attr", None)  # PAdES: always None
    if stamper_key is not None and cert is not None and revinfo is None:
        key = (cert.sha256, stamper_key, spec.level, spec.certify, session.md_algorithm)
        if key in _RESERVED:
            return _RESERVED[key]
    reserved = int(await session.estimate_signature_container_size(validation_info, tight=False))
    if key is not None:
        if len(_RESERVED) > 1024:
            _RESERVED.clear()
        _RESERVED[key] = reserved
    return reserved


async def _run_session(
    pdf_signer: Any, writer: Any, images: _SealImages, spec: SealingSpec, kept: Any = None
) -> bytes:
    """pyhanko's signing session, step by step so the extra widgets join the signed revision."""
    from pyhanko.sign.general import SigningError as PyhankoSigningError
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

    session = pdf_signer.init_signing_session(writer)
    if spec.signing_time is not None:
        session.system_time = spec.signing_time
    try:
        validation_info = await presign_validation(
            session, writer, kept=kept, lta=spec.level.is_lta
        )
    except (PathBuildingError, PathValidationError, PyhankoSigningError) as exc:
        raise SignerNotValidError(
            f"A certificate does not validate with the given material: {exc}"
        ) from exc
    reserved = await _reserved_bytes(session, pdf_signer, validation_info, spec)
    tbs = session.prepare_tbs_document(validation_info=validation_info, bytes_reserved=reserved)
    images.add_the_others()
    output = BytesIO()
    prepared, _ = tbs.digest_tbs_document(output=output)
    post = await tbs.perform_signature(
        document_digest=prepared.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(
            signing_time=session.system_time,
            adobe_revinfo_attr=(
                None if validation_info is None else validation_info.adobe_revinfo_attr
            ),
            cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec,
        ),
    )
    await post.post_signature_processing(output)
    return output.getvalue()


def prepare_signature(
    pdf: bytes,
    spec: SealingSpec,
    *,
    signer: Any,
    timestamper: Any | None,
    validation: ValidationMaterial | None,
    profile: CmsProfile,
) -> tuple[_Prepared, _SealImages, Any]:
    """The steps every format that signs into a PDF signature field shares: the checked
    document opened for an incremental update, the seal's field and widgets, and pyhanko's
    `PdfSigner` for them (``timestamper``: the CMS signature time-stamp's, or None)."""
    from pyhanko.sign import signers
    from pyhanko.stamp import NoOpStampStyle

    prepared = _prepare(pdf, spec)
    images = _SealImages(prepared)
    pdf_signer = signers.PdfSigner(
        _metadata(spec, prepared.field_name, validation, profile),
        signer=signer,
        timestamper=timestamper,
        stamp_style=NoOpStampStyle(border_width=0),
        new_field_spec=images.new_field_spec(),
    )
    return prepared, images, pdf_signer


async def async_sign_pdf(
    *,
    pdf: bytes,
    identity: SigningIdentity | Any,
    spec: SealingSpec,
    timestamper: Any | None = None,
    validation: ValidationMaterial | None = None,
) -> SignedPdf:
    """Seal ``pdf``; see `sign_pdf`. For callers already inside an event loop."""
    signer = identity.pyhanko_signer() if isinstance(identity, SigningIdentity) else identity
    return await async_sign_cms(
        pdf=pdf,
        signer=signer,
        spec=spec,
        timestamper=timestamper,
        validation=validation,
        profile=PADES_PROFILE,
    )


async def async_sign_cms(
    *,
    pdf: bytes,
    signer: Any,
    spec: SealingSpec,
    timestamper: Any | None,
    validation: ValidationMaterial | None,
    profile: CmsProfile,
) -> SignedPdf:
    """A CMS signature by `signer` (a pyhanko `Signer`) in the `profile`'s flavour."""
    from pyhanko.sign.general import SigningError as PyhankoSigningError
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

    _check_inputs(spec, timestamper, validation)
    prepared, images, pdf_signer = prepare_signature(
        pdf,
        spec,
        signer=signer,
        timestamper=timestamper if spec.level.needs_timestamp else None,
        validation=validation,
        profile=profile,
    )
    try:
        context = pdf_signer.signature_meta.validation_context
        kept = validation.kept_for(context) if validation is not None else None
        data = await _run_session(pdf_signer, prepared.writer, images, spec, kept)
    except TimestampRequestError as exc:
        raise TimestampFailedError(f"Time-stamping failed: {exc}") from exc
    except (PathBuildingError, PathValidationError) as exc:
        raise SignerNotValidError(f"A certificate does not validate: {exc}") from exc
    except PyhankoSigningError as exc:
        raise SigningError(f"Signing failed: {exc}") from exc
    return prepared.signed(data, spec.level)


sign_pdf = blocking(async_sign_pdf)
"""Seal ``pdf`` with a PAdES signature as ``spec`` says; returns the whole signed document.

``identity`` is a `SigningIdentity` (its `KeySigner` signs) or any pyhanko `Signer`.
``timestamper`` (a pyhanko `TimeStamper`) is required from B-T up, ``validation`` from
B-LT up. Runs its own event loop: from async code call `async_sign_pdf`.
Raises a `SigningError` subclass (stable ``code``) before producing anything on bad input.
"""
