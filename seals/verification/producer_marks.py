"""iText's version mark in the page tree is not a change to the document.

iText 5 (PdfStamper, in append mode too) writes its release into the root of the page tree,
`/ITXT (5.0.0)`, whenever it saves - so a signature added with iText after another one
rewrites the /Pages root in place. pyhanko's analysis has no rule for the page tree root and
called the earlier signature's document "changed after signing" (EU DSS's pkcs7_sha1.pdf,
which DSS reports without modification). A viewer never shows /ITXT: it is a producer mark
like the Info dictionary's /Producer, which pyhanko's DocInfoRule allows at the same level.

`ProducerMarkRule` approves the rewrite of the /Pages root object only when everything but
/ITXT is, entry for entry and reference for reference, what the signed revision had, and the
mark is a direct string or name. Anything else in the same rewrite - inherited /Rotate,
/MediaBox or /Resources (which change every page), /Kids, /Count - leaves the object
unexplained, a modification as before.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.diff_analysis.rules_api import QualifiedWhitelistRule, ReferenceUpdate

from seals.verification.catalog import raw_equal

MARKS = frozenset({"/ITXT"})
_MARK_TYPES = (generic.TextStringObject, generic.ByteStringObject, generic.NameObject)


def _pages_ref(resolver: HistoricalResolver) -> generic.Reference | None:
    try:
        raw = resolver.root.raw_get("/Pages")
    except KeyError:
        return None
    return raw.reference if isinstance(raw, generic.IndirectObject) else None


def only_marks_differ(old: generic.PdfObject, new: generic.PdfObject) -> bool:
    """Whether `new` is `old` with producer marks added or changed, and nothing else."""
    if isinstance(old, generic.StreamObject) or isinstance(new, generic.StreamObject):
        return False
    if not (
        isinstance(old, generic.DictionaryObject) and isinstance(new, generic.DictionaryObject)
    ):
        return False
    kept = set(old.keys()) - MARKS
    if set(new.keys()) - MARKS != kept:
        return False
    if not all(isinstance(new.raw_get(k), _MARK_TYPES) for k in MARKS & set(new.keys())):
        return False
    return all(raw_equal(old.raw_get(k), new.raw_get(k)) for k in kept)


class ProducerMarkRule(QualifiedWhitelistRule):
    """Approve a /Pages root rewritten only to add or update /ITXT (see the module doc)."""

    def apply_qualified(
        self, old: HistoricalResolver, new: HistoricalResolver
    ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        ref = _pages_ref(old)
        if ref is None or ref != _pages_ref(new) or ref not in new.explicit_refs_in_revision():
            return
        if only_marks_differ(old(ref), new(ref)):
            yield ModificationLevel.LTA_UPDATES, ReferenceUpdate(ref)
