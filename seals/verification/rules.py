"""Difference-analysis rules on top of pyhanko's default policy, for benign rewrites that real
producers make when they add a later signature or fill a form.

`FormFontEncodingRule`: Adobe Acrobat, when it adds an approval signature (or fills a field)
after a certification, rewrites the AcroForm's default-resource fonts (`/AcroForm /DR /Font`),
adding an `/Encoding` reference. pyhanko's form rule accepts new objects reachable from /DR but
not an existing font object overwritten in place, so the whole revision was "changed after
signing". A font that only form fields use cannot change signed page content, so the rewrite
is approved - at FORM_FILLING, i.e. within DocMDP P2/P3 - under these conditions:
  * the font object is reached through /Root /AcroForm /DR /Font /<name>, is a dictionary (not a
    stream) of /Type /Font before and after, and nothing but /Encoding changed;
  * the new /Encoding is a name or a NEW dictionary object (never one that existed before) whose
    entries are /Type and a /Differences array of numbers and names;
  * the approval is for that path only: if the signed revision reaches the same font object any
    other way (a page's resources, an appearance stream), those uses stay unexplained and the
    change is still a modification of signed content - the shadow "replace font" attack.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, RawPdfPath
from pyhanko.sign.diff_analysis import (
    DocInfoRule,
    MetadataUpdateRule,
    ModificationLevel,
    ObjectStreamRule,
    StandardDiffPolicy,
    XrefStreamRule,
)
from pyhanko.sign.diff_analysis.rules_api import (
    Context,
    QualifiedWhitelistRule,
    ReferenceUpdate,
)

from seals.verification.annotations import AnnotationAdditionRule
from seals.verification.catalog import IdenticalCopyRule, NamesAdditionRule
from seals.verification.filerules import (
    DanglingReferenceRule,
    FreedObjectRule,
    LenientVRIRule,
)
from seals.verification.formfields import field_name_aware_form_rule
from seals.verification.producer_marks import ProducerMarkRule
from seals.verification.structure import StructTreeAdditionRule
from seals.verification.widgets import ExistingSignatureFieldWidgetRule

_ENCODING_KEYS = frozenset({"/Type", "/Differences", "/BaseEncoding"})


def _dict_at(obj: generic.PdfObject | None) -> generic.DictionaryObject | None:
    value = obj.get_object() if isinstance(obj, generic.IndirectObject) else obj
    return value if isinstance(value, generic.DictionaryObject) else None


def _dr_fonts(resolver: HistoricalResolver) -> dict[str, generic.Reference]:
    """Name -> indirect font reference under /Root /AcroForm /DR /Font."""
    try:
        acroform = _dict_at(resolver.root.raw_get("/AcroForm"))
        dr = _dict_at(acroform.raw_get("/DR")) if acroform is not None else None
        fonts = _dict_at(dr.raw_get("/Font")) if dr is not None else None
    except KeyError:
        return {}
    if fonts is None:
        return {}
    out: dict[str, generic.Reference] = {}
    for name in fonts:
        raw = fonts.raw_get(name)
        if isinstance(raw, generic.IndirectObject):
            out[str(name)] = raw.reference
    return out


def _benign_encoding(
    old: HistoricalResolver, value: generic.PdfObject
) -> tuple[bool, generic.Reference | None]:
    """Whether a new /Encoding value is harmless, and the new object to approve with it."""
    if isinstance(value, generic.NameObject):
        return True, None
    if not isinstance(value, generic.IndirectObject):
        return False, None
    ref = value.reference
    if not old.is_ref_unassignable(ref):
        return False, None  # reuses or clobbers an object of the signed revision
    enc = value.get_object()
    if isinstance(enc, generic.StreamObject) or not isinstance(enc, generic.DictionaryObject):
        return False, None
    if not set(map(str, enc.keys())) <= _ENCODING_KEYS:
        return False, None
    diffs = enc.get("/Differences", generic.ArrayObject())
    if not isinstance(diffs, generic.ArrayObject) or not all(
        isinstance(x, generic.NumberObject | generic.NameObject) for x in diffs
    ):
        return False, None
    return True, ref


def _only_encoding_changed(
    old_font: generic.DictionaryObject, new_font: generic.DictionaryObject
) -> bool:
    keys = (set(old_font.keys()) | set(new_font.keys())) - {"/Encoding"}
    for key in keys:
        if key not in old_font or key not in new_font:
            return False
        if old_font.raw_get(key) != new_font.raw_get(key):
            return False
    return str(new_font.get("/Type", "")) == "/Font" == str(old_font.get("/Type", ""))


class FormFontEncodingRule(QualifiedWhitelistRule):
    """Approve /Encoding added to or changed in an AcroForm /DR font (see the module doc)."""

    def apply_qualified(
        self, old: HistoricalResolver, new: HistoricalResolver
    ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        changed = new.explicit_refs_in_revision()
        old_fonts = _dr_fonts(old)
        for name, ref in _dr_fonts(new).items():
            if ref not in changed or old_fonts.get(name) != ref:
                continue
            old_font, new_font = old(ref), new(ref)
            if not (
                isinstance(old_font, generic.DictionaryObject)
                and isinstance(new_font, generic.DictionaryObject)
                and not isinstance(old_font, generic.StreamObject)
                and not isinstance(new_font, generic.StreamObject)
                and _only_encoding_changed(old_font, new_font)
            ):
                continue
            ok, encoding_ref = _benign_encoding(old, new_font.raw_get("/Encoding"))
            if not ok:
                continue
            path = RawPdfPath("/Root", "/AcroForm", "/DR", "/Font", name)
            yield (
                ModificationLevel.FORM_FILLING,
                ReferenceUpdate(ref, context_checked=Context.from_absolute(old, path)),
            )
            if encoding_ref is not None:
                yield ModificationLevel.FORM_FILLING, ReferenceUpdate(encoding_ref)


DIFF_POLICY = StandardDiffPolicy(
    global_rules=[
        # pyhanko's DEFAULT_DIFF_POLICY rules, its DSS rule replaced by LenientVRIRule
        NamesAdditionRule(),  # pyhanko's CatalogModificationRule, plus a benign /Names
        DocInfoRule().as_qualified(ModificationLevel.LTA_UPDATES),
        XrefStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        ObjectStreamRule().as_qualified(ModificationLevel.LTA_UPDATES),
        LenientVRIRule().as_qualified(ModificationLevel.LTA_UPDATES),
        MetadataUpdateRule().as_qualified(ModificationLevel.LTA_UPDATES),
        DanglingReferenceRule(),
        FreedObjectRule(),
        FormFontEncodingRule(),
        IdenticalCopyRule(),
        ExistingSignatureFieldWidgetRule(),
        AnnotationAdditionRule(),
        StructTreeAdditionRule(),
        ProducerMarkRule(),
    ],
    form_rule=field_name_aware_form_rule(),
    reject_object_freeing=False,  # FreedObjectRule decides
)
"""pyhanko's default policy (DSS rule relaxed for /VRI, seals/verification/filerules.py) plus
the rules above and `DanglingReferenceRule`, with a form rule that reads partial names
containing periods (seals/verification/formfields.py); what the verifier uses."""
