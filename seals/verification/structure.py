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
    a /ParentTree REPLACED by a new object (PDFBox, Acrobat) must map every old key to the same
    value or a new object of the same content (`_rebuilt_parent_tree`); /ParentTreeNextKey may
    grow;
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
        rebuilt = _rebuilt_parent_tree(
            old, old_node.raw_get("/ParentTree"), new_node.raw_get("/ParentTree")
        )
        if rebuilt is None:
            return None
        added.extend(rebuilt)
    old_next = old_node.get("/ParentTreeNextKey")
    new_next = new_node.get("/ParentTreeNextKey")
    if old_next is not None and (new_next is None or int(new_next) < int(old_next)):
        return None
    return added


def _equal_content(old: generic.PdfObject, new: generic.PdfObject) -> bool:
    """Same value, or a NEW object holding the same value (an array or dictionary of the same
    references and numbers) as the old one resolved to."""
    if _same(old, new):
        return True
    old_value = old.get_object() if isinstance(old, generic.IndirectObject) else old
    new_value = new.get_object() if isinstance(new, generic.IndirectObject) else new
    if isinstance(old_value, generic.StreamObject) or isinstance(new_value, generic.StreamObject):
        return False
    if isinstance(old_value, generic.ArrayObject) and isinstance(new_value, generic.ArrayObject):
        return len(old_value) == len(new_value) and all(
            _same(a, b) for a, b in zip(old_value, new_value, strict=True)
        )
    return bool(old_value == new_value)


def _number_map(nums: list[generic.PdfObject]) -> dict[int, generic.PdfObject] | None:
    """A flat number tree's /Nums as a mapping; None when malformed."""
    if len(nums) % 2 or not all(isinstance(k, generic.NumberObject) for k in nums[::2]):
        return None
    return {int(k): v for k, v in zip(nums[::2], nums[1::2], strict=True)}  # type: ignore[call-overload]


def _rebuilt_parent_tree(
    old: HistoricalResolver, old_raw: generic.PdfObject, new_raw: generic.PdfObject
) -> list[generic.Reference] | None:
    """PDFBox and Acrobat may write a NEW /ParentTree instead of updating the old one: allowed
    when both are flat number trees (/Nums only) and the new one maps every old key to the
    same value (or a new object with the same content), new keys to new objects. Returns
    the new objects to approve, or None."""
    if not isinstance(new_raw, generic.IndirectObject) or not old.is_ref_unassignable(
        new_raw.reference
    ):
        return None
    old_tree, new_tree = old_raw.get_object(), new_raw.get_object()
    if not (
        isinstance(old_tree, generic.DictionaryObject)
        and isinstance(new_tree, generic.DictionaryObject)
        and set(old_tree.keys()) == set(new_tree.keys()) == {"/Nums"}
    ):
        return None
    before, after = _as_list(old_tree.raw_get("/Nums")), _as_list(new_tree.raw_get("/Nums"))
    old_map, new_map = _number_map(before), _number_map(after)
    if old_map is None or new_map is None:
        return None
    approvals = [new_raw.reference]
    for key, value in new_map.items():
        fresh = isinstance(value, generic.IndirectObject) and old.is_ref_unassignable(
            value.reference
        )
        if key in old_map:
            if not _equal_content(old_map[key], value):
                return None
        elif not fresh:
            return None  # a new entry must point to a new object
        if isinstance(value, generic.IndirectObject) and fresh:
            approvals.append(value.reference)
    return approvals if old_map.keys() <= new_map.keys() else None


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
