"""Structure-tree (tagging) updates that accompany a later signature in a tagged PDF.

When Acrobat signs a tagged (accessible) PDF, the same incremental update that adds the
signature widget also tags it: a new /Form structure element with an object reference (OBJR) to
the widget is appended to an existing element's /K, and the /ParentTree number tree gets an
entry for the widget's /StructParent. Those overwrite objects of the signed revision (the
StructTreeRoot, the parent element, the ParentTree), so pyhanko's default policy called the
whole revision a modification. Structure elements carry no page content; what they can change
is how the document is read aloud or extracted (/Alt, /ActualText) - so only ADDITIONS are
approved, at FORM_FILLING (the level of the signature they come with):
  * an overwritten structure element / StructTreeRoot keeps every other key, and its /K keeps
    every child it had (new children appended are NEW objects);
  * an overwritten /ParentTree keeps every /Nums pair it had, new pairs point to new objects;
    /ParentTreeNextKey may grow;
  * new structure elements and everything they reference that is new are approved with them.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.diff_analysis.rules_api import QualifiedWhitelistRule, ReferenceUpdate

_GROWING = {"/K", "/ParentTree", "/ParentTreeNextKey", "/Nums"}
_MAX_NODES = 20_000


def _as_list(value: generic.PdfObject | None) -> list[generic.PdfObject]:
    if value is None:
        return []
    if isinstance(value, generic.ArrayObject):
        return list(value)
    return [value]


def _same(a: generic.PdfObject, b: generic.PdfObject) -> bool:
    if isinstance(a, generic.IndirectObject) and isinstance(b, generic.IndirectObject):
        return a.reference == b.reference
    return bool(a == b)


def _keeps_prefix(old: list[generic.PdfObject], new: list[generic.PdfObject]) -> bool:
    return len(new) >= len(old) and all(_same(o, n) for o, n in zip(old, new, strict=False))


def _structure_refs(resolver: HistoricalResolver) -> set[generic.Reference]:
    """StructTreeRoot, structure elements and ParentTree nodes reachable in `resolver`."""
    try:
        raw = resolver.root.raw_get("/StructTreeRoot")
    except KeyError:
        return set()
    found: set[generic.Reference] = set()
    stack: list[generic.PdfObject] = [raw]
    while stack and len(found) < _MAX_NODES:
        item = stack.pop()
        if not isinstance(item, generic.IndirectObject) or item.reference in found:
            continue
        node = item.get_object()
        if not isinstance(node, generic.DictionaryObject) or isinstance(node, generic.StreamObject):
            continue
        node_type = str(node.get("/Type", ""))
        if node_type in ("/OBJR", "/MCR", "/Annot") or "/Subtype" in node:
            continue  # leaves: annotations and content references are judged elsewhere
        found.add(item.reference)
        for key in ("/K", "/ParentTree", "/Kids"):
            stack.extend(_as_list(node.raw_get(key)) if key in node else [])
    return found


def _growth_only(
    old: HistoricalResolver, old_node: generic.DictionaryObject, new_node: generic.DictionaryObject
) -> list[generic.Reference] | None:
    """New objects a node gained, or None when it changed in any other way."""
    keys = set(old_node.keys()) | set(new_node.keys())
    for key in keys - _GROWING:
        if key not in old_node or key not in new_node:
            return None
        if not _same(old_node.raw_get(key), new_node.raw_get(key)):
            return None
    added: list[generic.Reference] = []
    for key in ("/K", "/Nums"):
        before = _as_list(old_node.raw_get(key)) if key in old_node else []
        after = _as_list(new_node.raw_get(key)) if key in new_node else []
        if not _keeps_prefix(before, after):
            return None
        for extra in after[len(before) :]:
            if isinstance(extra, generic.IndirectObject):
                if not old.is_ref_unassignable(extra.reference):
                    return None  # reuses an object of the signed revision
                added.append(extra.reference)
            elif not isinstance(extra, generic.NumberObject | generic.DictionaryObject):
                return None
    if "/ParentTree" in old_node and not _same(
        old_node.raw_get("/ParentTree"), new_node.raw_get("/ParentTree")
    ):
        return None  # replaced rather than updated in place
    old_next = old_node.get("/ParentTreeNextKey")
    new_next = new_node.get("/ParentTreeNextKey")
    if old_next is not None and (new_next is None or int(new_next) < int(old_next)):
        return None
    return added


class StructTreeAdditionRule(QualifiedWhitelistRule):
    """Approve structure-tree growth that accompanies a later signature (see module doc)."""

    def apply_qualified(
        self, old: HistoricalResolver, new: HistoricalResolver
    ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        changed = new.explicit_refs_in_revision()
        touched = _structure_refs(old) & changed
        if not touched:
            return
        approvals: list[generic.Reference] = []
        for ref in touched:
            old_node, new_node = old(ref), new(ref)
            if not (
                isinstance(old_node, generic.DictionaryObject)
                and isinstance(new_node, generic.DictionaryObject)
            ):
                return
            added = _growth_only(old, old_node, new_node)
            if added is None:
                return  # one illegitimate change: approve nothing
            approvals.append(ref)
            for extra in added:
                approvals.append(extra)
                approvals.extend(
                    new.collect_dependencies(extra.get_object(), since_revision=old.revision + 1)
                )
        for ref in approvals:
            yield ModificationLevel.FORM_FILLING, ReferenceUpdate(ref)
