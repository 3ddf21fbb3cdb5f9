"""Difference rules about the file's plumbing: references to objects that did not exist yet,
and the document security store's /VRI entries.

`DanglingReferenceRule`. ISO 32000-1 7.3.10: a reference to an undefined object is a reference
to null, not an error - producers leave such references behind (PDFBox copies LibreOffice's
trailer entry /AdditionalStreams, pointing at an object number the next update then uses for
its signature field). Our reader therefore reads them as null (seals/verification/reader.py).
The danger pyhanko's strict mode guarded against is a *planted* reference: signed content that
points at an object number nobody defined (so it showed nothing when signed), then defined
after signing - e.g. as a dependency of a new signature field's appearance, which pyhanko's
rules approve wholesale - so the signed page suddenly shows new content. The rule refuses any
object a later revision defines that the signed revision already referred to from its
document catalog (/Root). Trailer-only leftovers such as /AdditionalStreams stay allowed, as
they are not part of the document anyone sees: our reader does not count a reference to an
undefined object as a use of it (`SpecResolver`), so the new object is judged like any other
new object - explained by some rule, or a modification.

`FreedObjectRule`: see its docstring.

`LenientVRIRule`. pyhanko's DSS rule insists that an entry of the DSS's /VRI dictionary, once
written, is never rewritten, and that every key looks like a SHA-1 hex digest; PAdES (ETSI EN
319 142-1, 5.4) lets later updates refresh validation data, and Acrobat, PDFBox-based tools
and DSS itself rewrite VRI entries (adding /TS, new /OCSP) and write a /Type /VRI entry in the
VRI dictionary. The rule here is pyhanko's DSSCompareRule with those two checks relaxed; the
structure checks stay: the DSS and every VRI entry hold only the expected keys, pointing only
at streams, and a rewritten VRI entry object is approved only through its own DSS path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import HistoricalResolver, RawPdfPath
from pyhanko.sign.diff_analysis import (
    ModificationLevel,
    SuspiciousModification,
    WhitelistRule,
)
from pyhanko.sign.diff_analysis.commons import assert_not_stream, compare_key_refs
from pyhanko.sign.diff_analysis.constants import VRI_KEY_PATTERN
from pyhanko.sign.diff_analysis.rules.form_field_rules import _validate_dss_substructure
from pyhanko.sign.diff_analysis.rules_api import Context, QualifiedWhitelistRule, ReferenceUpdate

from seals.verification.reader import SpecResolver


class DanglingReferenceRule(QualifiedWhitelistRule):
    """Refuse objects defined after signing that the signed catalog already referred to."""

    def apply_qualified(
        self, old: HistoricalResolver, new: HistoricalResolver
    ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        if not isinstance(old, SpecResolver):
            return  # pyhanko's own strict reader refuses such references by itself
        xrefs = old.reader.xrefs
        for ref in new.explicit_refs_in_revision():
            if xrefs.get_historical_ref(ref, old.revision) is not None:
                continue  # an object of the signed revision: the other rules judge its update
            planted = [p for p in old.references_to_undefined(ref) if p.path[:1] == ("/Root",)]
            if planted:
                raise SuspiciousModification(
                    f"{ref} was referred to by the signed document ({planted[0]}) before it "
                    "existed, and defined after signing."
                )
        yield from ()


class FreedObjectRule(QualifiedWhitelistRule):
    """Free entries that delete nothing of the signed revision (Acrobat lists the next unused
    object number as free, generation 65535, in every update) are allowed; freeing an object
    the signed revision had is a modification. pyhanko refuses every free entry, so its
    policy runs with `reject_object_freeing=False` and this rule decides instead."""

    def apply_qualified(
        self, old: HistoricalResolver, new: HistoricalResolver
    ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        xrefs = old.reader.xrefs
        # Judged by object NUMBER, whatever generation the free entry names: viewers treat
        # "n 65535 f" as deleting object n, while pyhanko would still resolve n 0 R from the
        # older section - the one way to make the two disagree about signed content.
        for idnum in xrefs.get_xref_data(new.revision).freed:
            if idnum and _live(xrefs, idnum, old.revision):
                raise SuspiciousModification(
                    f"Object {idnum} of the signed revision was deleted (a free entry)."
                )
        for ref in new.refs_freed_in_revision():
            yield ModificationLevel.LTA_UPDATES, ReferenceUpdate(ref)


def _live(xrefs: Any, idnum: int, revision: int) -> bool:
    """Whether object number `idnum` is in use in `revision` (newest section first)."""
    for rev in range(revision, -1, -1):
        data = xrefs.get_xref_data(rev)
        sections = [data] + ([data.hybrid.xref_data] if data.hybrid is not None else [])
        for section in sections:
            if idnum in section.standard_xrefs or idnum in section.xrefs_in_objstm:
                return True
        if idnum in data.freed:
            return False
    return False


class LenientVRIRule(WhitelistRule):
    """pyhanko's DSSCompareRule with VRI entries rewritable and /Type allowed (module doc)."""

    def apply(self, old: HistoricalResolver, new: HistoricalResolver) -> Iterable[ReferenceUpdate]:
        dss_context = Context.from_absolute(old, RawPdfPath("/Root", "/DSS"))
        old_dss, new_dss = yield from misc.map_with_return(
            compare_key_refs("/DSS", old, old.root, new.root),
            ReferenceUpdate.curry_ref(context_checked=dss_context),
        )
        if new_dss is None:
            return
        if old_dss is None:
            old_dss = generic.DictionaryObject()
        if not isinstance(old_dss, generic.DictionaryObject):
            raise misc.PdfReadError("/DSS is not a dictionary")
        if not isinstance(new_dss, generic.DictionaryObject):
            raise SuspiciousModification("/DSS is not a dictionary")
        stream_keys = {"/Certs", "/CRLs", "/OCSPs"}
        unexpected = set(new_dss.keys()) - ({"/Type", "/VRI"} | stream_keys)
        if unexpected:
            raise SuspiciousModification(f"Unexpected keys in DSS: {unexpected}.")
        yield from _validate_dss_substructure(
            old, new, old_dss, new_dss, stream_keys, is_vri=False, context=dss_context
        )
        old_vri, new_vri = yield from misc.map_with_return(
            compare_key_refs("/VRI", old, old_dss, new_dss),
            ReferenceUpdate.curry_ref(
                context_checked=Context.from_absolute(old, RawPdfPath("/Root", "/DSS", "/VRI"))
            ),
        )
        if new_vri is None:
            return
        if not isinstance(new_vri, generic.DictionaryObject):
            raise SuspiciousModification("/VRI is not a dictionary")
        if not isinstance(old_vri, generic.DictionaryObject):
            old_vri = generic.DictionaryObject()
        yield from self._check_vri(old, new, old_vri, new_vri)

    @staticmethod
    def _check_vri(
        old: HistoricalResolver,
        new: HistoricalResolver,
        old_vri: generic.DictionaryObject,
        new_vri: generic.DictionaryObject,
    ) -> Iterable[ReferenceUpdate]:
        stream_keys = {"/Cert", "/CRL", "/OCSP"}
        expected = {"/Type", "/TU", "/TS"} | stream_keys
        for key in new_vri:
            raw = new_vri.raw_get(key)
            if key == "/Type":
                if not isinstance(raw, generic.NameObject):
                    raise SuspiciousModification("/Type in /VRI is not a name.")
                continue
            if key in old_vri and raw == old_vri.raw_get(key):
                continue  # unchanged (same reference or same direct value)
            if not VRI_KEY_PATTERN.match(key):
                raise SuspiciousModification(f"VRI key {key} is not formatted correctly.")
            path = RawPdfPath("/Root", "/DSS", "/VRI", key)
            if isinstance(raw, generic.IndirectObject):
                if old.is_ref_unassignable(raw.reference):
                    yield ReferenceUpdate(raw.reference)
                else:  # an existing object rewritten: only through this VRI entry
                    yield ReferenceUpdate(
                        raw.reference, context_checked=Context.from_absolute(old, path)
                    )
            entry = raw.get_object()
            assert_not_stream(entry)
            if not isinstance(entry, generic.DictionaryObject):
                raise SuspiciousModification("VRI entries should be dictionaries")
            unexpected = set(entry.keys()) - expected
            if unexpected:
                raise SuspiciousModification(f"Unexpected keys in VRI dictionary: {unexpected}.")
            yield from _validate_dss_substructure(
                old,
                new,
                generic.DictionaryObject(),
                entry,
                stream_keys,
                is_vri=True,
                context=Context.from_absolute(old, path),
            )
            try:
                ts_ref = entry.get_value_as_reference("/TS", optional=True)
            except misc.IndirectObjectExpected:
                ts_ref = None
            if ts_ref is not None and old.is_ref_unassignable(ts_ref):
                yield ReferenceUpdate(ts_ref)
