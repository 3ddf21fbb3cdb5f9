"""Difference rule: a signature placed into a signature field that already existed, whose
widget the signing update puts on its page.

A document can carry an empty signature field whose widget is not yet listed in any page's
/Annots; a signing tool that fills it (EU DSS's timestamped-fields.pdf: a document time-stamp
into the pre-existing field "signature2") adds the widget to the page's /Annots in the same
update. pyhanko approves such a page rewrite only for widgets of *newly created* signature
fields, so filling an existing field this way was an unexplained change of the page. It is
the same change as creating that signature field anew on the page, which every policy allows
at FORM_FILLING, and it is approved under the same conditions pyhanko applies to new fields:
  * the page is an object of the signed revision, and nothing but its /Annots changed;
  * no annotation was removed, and every one added is the widget of a signature field that
    existed in the signed revision with no value and is signed (has a /V) in the new one;
  * /Annots is a direct array, or a new object holding nothing else (approved with it).
Whatever else the update did to the field (its value, its appearance) is judged by the form
rules as before.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.diff_analysis.commons import compare_dicts
from pyhanko.sign.diff_analysis.rules_api import QualifiedWhitelistRule, ReferenceUpdate

_MAX_DEPTH = 32


def _dict(obj: generic.PdfObject | None) -> generic.DictionaryObject | None:
    value = obj.get_object() if isinstance(obj, generic.IndirectObject) else obj
    if isinstance(value, generic.StreamObject):
        return None
    return value if isinstance(value, generic.DictionaryObject) else None


def _refs(arr: generic.PdfObject | None) -> list[generic.Reference] | None:
    """The references of an array of indirect objects (None when anything else is in it)."""
    value = arr.get_object() if isinstance(arr, generic.IndirectObject) else arr
    if not isinstance(value, generic.ArrayObject):
        return None
    out = []
    for i in range(len(value)):
        raw = value.raw_get(i)
        if not isinstance(raw, generic.IndirectObject):
            return None
        out.append(raw.reference)
    return out


def newly_signed_widgets(
    old: HistoricalResolver, new: HistoricalResolver
) -> set[generic.Reference]:
    """Widgets of signature fields of the signed revision, empty then and signed now."""
    out: set[generic.Reference] = set()
    try:
        acroform = _dict(new.root.raw_get("/AcroForm"))
        top = acroform.raw_get("/Fields") if acroform is not None else None
    except KeyError:
        return out

    def walk(fields: generic.PdfObject | None, ft: generic.PdfObject | None, depth: int) -> None:
        refs = _refs(fields) if depth <= _MAX_DEPTH else None
        for ref in refs or []:
            field = _dict(new(ref))
            if field is None or old.is_ref_unassignable(ref):
                continue  # new fields are pyhanko's signature-field creation rule's business
            own_ft = field.get("/FT", ft)
            kids = field.get("/Kids")
            if kids is not None and "/T" in field and str(own_ft) != "/Sig":
                walk(kids, own_ft, depth + 1)
                continue
            before = _dict(old(ref))
            if str(own_ft) != "/Sig" or before is None:
                continue
            if "/V" in before or "/V" not in field:
                continue
            if str(field.get("/Subtype", "")) == "/Widget":
                out.add(ref)
            out.update(_refs(kids) or [])

    walk(top, None, 0)
    return out


class ExistingSignatureFieldWidgetRule(QualifiedWhitelistRule):
    """Approve a page whose only change is listing a newly signed field's widget."""

    def apply_qualified(
        self, old: HistoricalResolver, new: HistoricalResolver
    ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        widgets: set[generic.Reference] | None = None
        for ref in new.explicit_refs_in_revision():
            if old.is_ref_unassignable(ref):
                continue
            old_page, new_page = _dict(old(ref)), _dict(new(ref))
            if old_page is None or new_page is None:
                continue
            if str(old_page.get("/Type", "")) != "/Page" or "/Annots" not in new_page:
                continue
            if not compare_dicts(old_page, new_page, frozenset({"/Annots"}), raise_exc=False):
                continue
            new_raw = new_page.raw_get("/Annots")
            old_annots = _refs(old_page.raw_get("/Annots")) if "/Annots" in old_page else []
            new_annots = _refs(new_raw)
            if old_annots is None or new_annots is None:
                continue
            added = set(new_annots) - set(old_annots)
            if not added or not set(old_annots) <= set(new_annots):
                continue
            if widgets is None:
                widgets = newly_signed_widgets(old, new)
            if not added <= widgets:
                continue
            if isinstance(new_raw, generic.IndirectObject):
                if not old.is_ref_unassignable(new_raw.reference):
                    continue  # an array object of the signed revision, possibly shared
                yield ModificationLevel.FORM_FILLING, ReferenceUpdate(new_raw.reference)
            yield ModificationLevel.FORM_FILLING, ReferenceUpdate(ref)
