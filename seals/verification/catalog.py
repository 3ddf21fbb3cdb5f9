"""Difference rules for two benign rewrites other producers make when they sign again.

`IdenticalCopyRule` (with `tolerant_compare_dicts`). Some signing tools (the German
"Signature-P-DE" vectors in EU DSS) rewrite a page to add a new signature's widget and, in the
same update, replace an entry such as the page's /Resources by a NEW object whose content is
exactly the old one's. pyhanko compares the page before and after by reference, so the whole
analysis failed ("Values for dict key /Resources differ"). Here a value counts as unchanged
when the new one is a fresh indirect object (one the signed revision did not have) that is not
a stream and whose entries are, reference for reference and value for value, those of the old
value: the page then shows exactly what was signed. A replacement that differs in anything -
another font, one more XObject, a stream - is still a modification.

`NamesAdditionRule`. Acrobat adds a /Names dictionary to the catalog when a comment (stamp)
is added after signing: a name tree /AP of named appearance streams (EU DSS's
pades-signed-annot-added.pdf), and producers add /Dests (named destinations) for links.
Neither changes what a page shows: named appearances are only drawn when an annotation uses
them (annotations are judged by their own rule) and destinations are only jump targets.
Accepted only when the signed catalog had no /Names, the new one holds nothing but /AP and
/Dests, and every object it brings is new; /JavaScript, /EmbeddedFiles, /Pages (templates)
or any other name tree - which can run code or carry files - is a modification, as is any
/Names of the signed revision changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver
from pyhanko.sign.diff_analysis import CatalogModificationRule, ModificationLevel
from pyhanko.sign.diff_analysis import commons as _commons
from pyhanko.sign.diff_analysis.constants import ROOT_EXEMPT_STRICT_COMPARISON
from pyhanko.sign.diff_analysis.policy_api import SuspiciousModification
from pyhanko.sign.diff_analysis.rules import form_field_rules as _form_field_rules
from pyhanko.sign.diff_analysis.rules_api import QualifiedWhitelistRule, ReferenceUpdate

_original_compare_dicts = _commons.compare_dicts
_NAMES_ALLOWED = frozenset({"/AP", "/Dests"})


def raw_equal(a: generic.PdfObject, b: generic.PdfObject, depth: int = 0) -> bool:
    """Equal as written: references by object number, everything else by value."""
    if depth > 32:
        return False
    if isinstance(a, generic.IndirectObject) or isinstance(b, generic.IndirectObject):
        return (
            isinstance(a, generic.IndirectObject)
            and isinstance(b, generic.IndirectObject)
            and a.reference == b.reference
        )
    if isinstance(a, generic.StreamObject) or isinstance(b, generic.StreamObject):
        return False
    if isinstance(a, generic.DictionaryObject) and isinstance(b, generic.DictionaryObject):
        return set(a.keys()) == set(b.keys()) and all(
            raw_equal(a.raw_get(k), b.raw_get(k), depth + 1) for k in a
        )
    if isinstance(a, generic.ArrayObject) and isinstance(b, generic.ArrayObject):
        return len(a) == len(b) and all(
            raw_equal(a.raw_get(i), b.raw_get(i), depth + 1) for i in range(len(a))
        )
    return type(a) is type(b) and a == b


def identical_copy(old_val: generic.PdfObject, new_val: generic.PdfObject) -> bool:
    """Whether `new_val` is a fresh indirect object with exactly the content of `old_val`."""
    if not isinstance(new_val, generic.IndirectObject):
        return False
    if isinstance(old_val, generic.IndirectObject):
        old_resolver = old_val.get_pdf_handler()
        if not isinstance(old_resolver, HistoricalResolver):
            return False
        if not old_resolver.is_ref_unassignable(new_val.reference):
            return False  # an object the signed revision had, reused or overwritten
        old_obj = old_val.get_object()
    else:
        return False
    new_obj = new_val.get_object()
    if isinstance(new_obj, generic.StreamObject) or isinstance(old_obj, generic.StreamObject):
        return False
    if not isinstance(new_obj, generic.DictionaryObject | generic.ArrayObject):
        return False
    return raw_equal(old_obj, new_obj)


def tolerant_compare_dicts(
    old_dict: generic.PdfObject | None,
    new_dict: generic.PdfObject | None,
    ignored: frozenset[str] = frozenset(),
    raise_exc: bool = True,
) -> bool:
    """pyhanko's `compare_dicts`, counting an identical fresh copy as the same value."""
    if _original_compare_dicts(old_dict, new_dict, ignored, raise_exc=False):
        return True
    if isinstance(old_dict, generic.DictionaryObject) and isinstance(
        new_dict, generic.DictionaryObject
    ):
        keys = set(new_dict.keys()) - ignored
        if keys == set(old_dict.keys()) - ignored and all(
            new_dict.raw_get(k) == old_dict.raw_get(k)
            or identical_copy(old_dict.raw_get(k), new_dict.raw_get(k))
            for k in keys
        ):
            return True
    return _original_compare_dicts(old_dict, new_dict, ignored, raise_exc=raise_exc)


# The form rules compare a page (or field) before and after with this function; the fresh
# copy itself is approved by IdenticalCopyRule below.
_form_field_rules.compare_dicts = tolerant_compare_dicts


class IdenticalCopyRule(QualifiedWhitelistRule):
    """Approve fresh objects that replace, identically, a value of a rewritten object."""

    def apply_qualified(
        self, old: HistoricalResolver, new: HistoricalResolver
    ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        for ref in new.explicit_refs_in_revision():
            if old.is_ref_unassignable(ref):
                continue  # new objects are containers of nothing signed
            old_obj, new_obj = old(ref), new(ref)
            if not (
                isinstance(old_obj, generic.DictionaryObject)
                and isinstance(new_obj, generic.DictionaryObject)
            ):
                continue
            for key in set(old_obj.keys()) & set(new_obj.keys()):
                new_val = new_obj.raw_get(key)
                if identical_copy(old_obj.raw_get(key), new_val):
                    assert isinstance(new_val, generic.IndirectObject)
                    yield ModificationLevel.LTA_UPDATES, ReferenceUpdate(new_val.reference)


class NamesAdditionRule(CatalogModificationRule):
    """pyhanko's catalog rule, also allowing a new /Names of /AP and /Dests (module doc)."""

    def __init__(self) -> None:
        super().__init__(ignored_keys=ROOT_EXEMPT_STRICT_COMPARISON | {"/Names"})

    def apply_qualified(
        self, old: HistoricalResolver, new: HistoricalResolver
    ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        old_raw = old.root.raw_get("/Names") if "/Names" in old.root else None
        new_raw = new.root.raw_get("/Names") if "/Names" in new.root else None
        if old_raw is not None or new_raw is not None:
            if old_raw is None:
                assert new_raw is not None
                yield from self._new_names(old, new, new_raw)
            elif new_raw is None or not raw_equal(old_raw, new_raw):
                raise SuspiciousModification("The catalog's /Names was changed or removed.")
        yield from super().apply_qualified(old, new)

    @staticmethod
    def _new_names(
        old: HistoricalResolver, new: HistoricalResolver, raw: generic.PdfObject
    ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        if isinstance(raw, generic.IndirectObject) and not old.is_ref_unassignable(raw.reference):
            raise SuspiciousModification("/Names added as an object of the signed revision.")
        names = raw.get_object()
        if isinstance(names, generic.StreamObject) or not isinstance(
            names, generic.DictionaryObject
        ):
            raise SuspiciousModification("/Names is not a dictionary.")
        unexpected = set(names.keys()) - _NAMES_ALLOWED
        if unexpected:
            raise SuspiciousModification(f"/Names added with {sorted(unexpected)}.")
        fresh = {
            r
            for r in new.collect_dependencies(raw, since_revision=old.revision + 1)
            if old.is_ref_unassignable(r)
        }
        if isinstance(raw, generic.IndirectObject):
            fresh.add(raw.reference)
        for ref in fresh:
            yield ModificationLevel.ANNOTATIONS, ReferenceUpdate(ref)
