"""Open a PDF for verification: strictly first, tolerantly where mainstream readers are.

pyhanko's strict mode refuses files that the PDF specification and every mainstream reader
accept: hybrid-reference files (signature validation refused outright), xref sections whose
declared sizes shrink from one revision to the next ("XRef section sizes must be
nondecreasing"), tables whose entries run past /Size, a startxref that needs a small
correction. Word and Acrobat write such files. Refusing them would call legitimate
documents damaged, so the verifier retries without strict mode and says it did (finding
`tolerant-parsing`, reported only).

Tolerance does not lower the bar for tampering: difference analysis still runs on every
revision the reader found, and `seals.verification.bytes` flags any object in the file that no
parsed cross-reference section accounts for.

Both readers resolve a reference to an object that does not exist (yet) to null, as ISO 32000-1
7.3.10 requires ("shall not be considered an error"); pyhanko's strict mode raised instead, so
a stale trailer entry (PDFBox copies LibreOffice's /AdditionalStreams into every update) made
every signature undeterminable. What strict mode guarded against - an object the signed
revision already referred to, defined only after signing - is refused explicitly by the
difference rule `DanglingReferenceRule` (seals/verification/rules.py).
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import DecodeLimits
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader, RawPdfPath
from pyhanko.pdf_utils.xref import XRefSection

from seals.reports import Finding
from seals.verification import lexing
from seals.verification.linearized import merge_linearization

lexing.install()


_COPIED = (
    generic.DecryptedObjectProxy,
    generic.IndirectObject,
    generic.DictionaryObject,  # and streams
    generic.ArrayObject,
)
"""What `HistoricalResolver._subsume_object` copies into the revision; it returns anything
else as it is."""
Ref = generic.Reference


class SpecResolver(HistoricalResolver):
    """A revision in which a reference to an object it does not define is a reference to
    null, not a use of whatever a later revision defines under that number."""

    def _get_usages_of_ref(self, ref: generic.Reference) -> set[RawPdfPath]:
        if self.reader.xrefs.get_historical_ref(ref, self.revision) is None:
            return set()
        return super()._get_usages_of_ref(ref)

    def _subsume_object(self, obj: Any) -> Any:
        """pyhanko's, without the container reference it builds and then discards for a
        primitive (a name, number, string: most of what it copies) - a frozen dataclass
        per value, 2.7% of a verification. Anything else, or a primitive whose container
        reference pyhanko would fail on, goes to pyhanko's own."""
        if not isinstance(obj, _COPIED) and type(getattr(obj, "container_ref", None)) is Ref:
            return obj
        return super()._subsume_object(obj)

    def references_to_undefined(self, ref: generic.Reference) -> set[RawPdfPath]:
        """Where this revision refers to `ref` although it does not define it."""
        self._load_reverse_xref_cache()
        return super()._get_usages_of_ref(ref)


class SpecReader(PdfFileReader):
    """pyhanko's reader, with undefined objects read as null in strict mode too (7.3.10),
    and a linearized file's two cross-reference sections read as the one revision they are
    (`seals.verification.linearized`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stream.seek(0)
        self.linearization_main: XRefSection | None = merge_linearization(
            self, self.stream.read(1024)
        )
        xrefs = self.xrefs
        introducing = xrefs.get_introducing_revision
        known: dict[tuple[int, int], int] = {}

        def introduced(ref: generic.Reference) -> int:
            """Dependency walks ask when an object appeared: one never defined is "later
            than every revision" (and reads as null) rather than a KeyError. Remembered:
            pyhanko scans every xref section per call, and the difference analysis of a
            file with many signatures asks it hundreds of thousands of times."""
            key = (ref.idnum, ref.generation)
            if key not in known:
                try:
                    known[key] = int(introducing(ref))
                except KeyError:
                    known[key] = int(xrefs.total_revisions)
            return known[key]

        xrefs.get_introducing_revision = introduced  # type: ignore[method-assign]
        explicit = xrefs.explicit_refs_in_revision
        written: dict[int, frozenset[generic.Reference]] = {}

        def explicit_refs(revision: int) -> frozenset[generic.Reference]:
            """The refs a revision writes, built once per revision (pyhanko builds the set
            anew on every call, ~9 per signature; 7% of a verification). Frozen: every
            caller only reads it."""
            if revision not in written:
                written[revision] = frozenset(explicit(revision))
            return written[revision]

        xrefs.explicit_refs_in_revision = explicit_refs  # type: ignore[method-assign,assignment]

    def get_historical_resolver(self, revision: int) -> HistoricalResolver:
        cache = self._historical_resolver_cache
        if revision not in cache:
            cache[revision] = SpecResolver(self, revision)
        return cache[revision]

    def _read_object(self, ref: generic.Reference, marker: Any, *args: Any, **kwargs: Any) -> Any:
        if marker is None:
            null = generic.NullObject()
            null.container_ref = ref
            return null
        return super()._read_object(ref, marker, *args, **kwargs)


def open_reader(pdf: bytes, *, limits: DecodeLimits) -> tuple[PdfFileReader, Finding | None]:
    """A reader for `pdf`, and a finding when it had to be read tolerantly.

    Raises the strict reader's error when the tolerant reader cannot read the file either.
    """
    try:
        reader = SpecReader(BytesIO(pdf), strict=True, decode_limits=limits)
        _touch(reader)
        if reader.encrypted or not reader.xrefs.hybrid_xrefs_present:
            return reader, None
        # Strict pyhanko refuses to validate any signature in a hybrid-reference file (a
        # classic table plus /XRefStm, as Word and Acrobat write them); ISO 32000-1 7.5.8.4
        # defines them and every mainstream reader opens them.
        raise ValueError("hybrid-reference file (classic xref table with /XRefStm)")
    except Exception as strict_error:
        reason = str(strict_error)[:200]
        try:
            reader = SpecReader(BytesIO(pdf), strict=False, decode_limits=limits)
            _touch(reader)
        except Exception:
            raise strict_error from None
    return reader, Finding(
        code="tolerant-parsing",
        zh=f"文件的交叉引用结构不完全符合严格解析的要求，已按主流阅读器的方式容错读取：{reason}",
        en="The file's cross-reference structure does not pass strict parsing; it was read "
        f"tolerantly, as mainstream readers do: {reason}",
    )


def _touch(reader: PdfFileReader) -> None:
    """Force what lazy parsing would otherwise defer (the catalog and revision count)."""
    if not reader.encrypted:
        _ = reader.root
        _ = reader.xrefs.total_revisions
