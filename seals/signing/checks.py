"""Input checks of a sealing, run before anything is written: the PDF's syntax, encryption,
certification lock, field names and the appearance image. Each raises its `SigningError`."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from seals.errors import (
    CertificationNotFirstError,
    DamagedPdfError,
    DocumentLockedError,
    EncryptedPdfError,
    FieldNameTakenError,
    InvalidAppearanceError,
    InvalidPlacementError,
    NotAPdfError,
)
from seals.signing.spec import DocMdpPermission, SealAppearance

_PDF_HEADER_WINDOW = 1024


def open_writer(pdf: bytes) -> Any:
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


def existing_field_names(reader: Any) -> set[str]:
    """The names of the document's form fields (signature, text, button, choice)."""
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


def signature_count(reader: Any) -> int:
    """How many filled signature fields the document has."""
    from pyhanko.sign.fields import enumerate_sig_fields

    return sum(1 for _ in enumerate_sig_fields(reader, filled_status=True))


def check_lock(reader: Any, *, certify: DocMdpPermission | None) -> None:
    """Refuse a document whose certification allows no change, and a certification that
    would not be the first signature."""
    from pyhanko.sign.fields import MDPPerm
    from pyhanko.sign.validation import read_certification_data

    certification = read_certification_data(reader)
    if certification is not None and certification.permission == MDPPerm.NO_CHANGES:
        raise DocumentLockedError(
            "The document's certification signature allows no changes: it cannot be sealed again."
        )
    if certify is not None and signature_count(reader) > 0:
        raise CertificationNotFirstError(
            "A certification signature must be the first signature in the document."
        )


def field_name_for(requested: str | None, taken: set[str]) -> str:
    """The requested field name when it is usable and free, else the first free ``SealN``."""
    if requested is not None:
        if not requested or "." in requested:
            raise InvalidPlacementError("A field name must be non-empty and contain no '.'.")
        if requested in taken:
            raise FieldNameTakenError(f"The document already has a field named {requested!r}.")
        return requested
    number = 1
    while f"Seal{number}" in taken:
        number += 1
    return f"Seal{number}"


def load_image(appearance: SealAppearance) -> Any:
    """The appearance image as RGBA (transparency kept), or `InvalidAppearanceError`."""
    from PIL import Image, UnidentifiedImageError

    if not (appearance.width_mm > 0 and appearance.height_mm > 0):
        raise InvalidAppearanceError("The seal's physical width and height must be positive.")
    try:
        with Image.open(BytesIO(appearance.image)) as image:
            image.load()
            return image.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidAppearanceError(f"The seal image cannot be read: {exc}") from exc
