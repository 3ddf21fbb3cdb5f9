"""Annotations added after signing: allowed and reported, flagged where they cover signed content.

ISO 32000 lets anyone add comments to an approved (non-certified, or certified with DocMDP P3)
document, and Acrobat, Foxit and others do so in an incremental update that appends the
annotation to the page's /Annots. pyhanko's default policy has no rule for that, so every added
comment made the document "changed after signing". `AnnotationAdditionRule` approves, at the
ANNOTATIONS level, exactly this: a page whose only change is /Annots, where every annotation of
the signed revision is still listed and each new one is a NEW object (not a widget - form fields
are judged by the form rules) together with the new objects it depends on (its appearance
stream, popup). When /Annots is an array object of its own, the update may rewrite only that
array (the page object stays as signed); that is the same change and approved the same way.
Any signed object overwritten along the way stays unexplained.

EU DSS reports such changes and checks whether annotations overlap (PdfAnnotationOverlap); an
annotation that paints over what the signer saw is how the "shadow" attacks hide or replace
signed text. `annotations_over_content` renders the page before and after and reports each new
visible annotation that hides or overwrites signed content.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.diff_analysis.rules_api import QualifiedWhitelistRule, ReferenceUpdate

from seals.indications import FindingClass
from seals.placement import PDFIUM_LOCK
from seals.reports import Finding

logger = logging.getLogger(__name__)

_HIDDEN = 1 << 1
_NO_VIEW = 1 << 5
_RENDER_DPI = 36
_INK_THRESHOLD = 200  # a pixel darker than this (0-255, luminance) is drawn content
_DARK = 100  # clearly dark: what text and strokes are, not their anti-aliased edges
_NEAR_PX = 9  # "next to signed content": within 4 px (about 8 pt) of it, at 36 dpi
_TOLERANCE_PX = 2


def _pages(resolver: HistoricalResolver) -> Iterator[generic.Reference]:
    """Page references in document order (bounded walk of the page tree)."""
    stack: list[generic.PdfObject] = [resolver.root.raw_get("/Pages")]
    seen: set[generic.Reference] = set()
    while stack and len(seen) < 10_000:
        item = stack.pop()
        if not isinstance(item, generic.IndirectObject) or item.reference in seen:
            continue
        seen.add(item.reference)
        node = item.get_object()
        if not isinstance(node, generic.DictionaryObject):
            continue
        if str(node.get("/Type", "")) == "/Pages" or "/Kids" in node:
            kids = node.get("/Kids", generic.ArrayObject())
            if isinstance(kids, generic.ArrayObject):
                stack.extend(reversed(list(kids)))
        else:
            yield item.reference


def _annot_refs(page: generic.PdfObject, resolver: HistoricalResolver) -> list[generic.Reference]:
    """The page's annotations; /Annots may be an array object of its own (read in the
    revision `resolver` shows, as many producers write it)."""
    if not isinstance(page, generic.DictionaryObject) or "/Annots" not in page:
        return []
    annots = page.raw_get("/Annots")
    if isinstance(annots, generic.IndirectObject):
        annots = resolver(annots.reference)
    if not isinstance(annots, generic.ArrayObject):
        return []
    return [a.reference for a in annots if isinstance(a, generic.IndirectObject)]


def _annots_array(page: generic.PdfObject) -> generic.Reference | None:
    """The reference of the page's /Annots array when it is an object of its own."""
    if not isinstance(page, generic.DictionaryObject) or "/Annots" not in page:
        return None
    raw = page.raw_get("/Annots")
    return raw.reference if isinstance(raw, generic.IndirectObject) else None


def _is_new_plain_annotation(old: HistoricalResolver, ref: generic.Reference) -> bool:
    if not old.is_ref_unassignable(ref):
        return False
    annot = ref.get_object()
    if not isinstance(annot, generic.DictionaryObject) or isinstance(annot, generic.StreamObject):
        return False
    return str(annot.get("/Subtype", "")) != "/Widget" and "/FT" not in annot


@dataclass(frozen=True)
class AddedAnnotation:
    page: int
    ref: generic.Reference
    subtype: str
    rect: tuple[float, float, float, float] | None
    visible: bool
    has_appearance: bool


def added_annotations(old: HistoricalResolver, new: HistoricalResolver) -> list[AddedAnnotation]:
    """Non-widget annotations present in `new` on a page that `old` has, absent from `old`."""
    old_pages = list(_pages(old))
    found: list[AddedAnnotation] = []
    for index, page_ref in enumerate(_pages(new)):
        if page_ref not in old_pages:
            continue
        before = set(_annot_refs(old(page_ref), old))
        for ref in _annot_refs(new(page_ref), new):
            if ref in before:
                continue
            annot = new(ref)
            if not isinstance(annot, generic.DictionaryObject):
                continue
            subtype = str(_value(annot, "/Subtype") or "")
            if subtype == "/Widget":
                continue
            raw_flags = _value(annot, "/F")
            flags = int(raw_flags) if isinstance(raw_flags, int) else 0
            visible = not (flags & (_HIDDEN | _NO_VIEW)) and subtype != "/Popup"
            ap = _value(annot, "/AP")
            has_ap = isinstance(ap, generic.DictionaryObject) and "/N" in ap
            found.append(AddedAnnotation(index, ref, subtype, _rect(annot), visible, has_ap))
    return found


def _value(d: generic.DictionaryObject, key: str) -> generic.PdfObject | None:
    """`d[key]`, resolved when it is an indirect object (viewers resolve it: an annotation's
    /Rect or /AP held in an object of its own draws the same); None when absent."""
    value = d.get(key)
    return value.get_object() if isinstance(value, generic.IndirectObject) else value


def _rect(annot: generic.DictionaryObject) -> tuple[float, float, float, float] | None:
    raw = _value(annot, "/Rect")
    if not isinstance(raw, generic.ArrayObject) or len(raw) != 4:
        return None
    try:
        x1, y1, x2, y2 = (float(raw[i]) for i in range(4))  # raw[i] resolves indirect numbers
    except (TypeError, ValueError):
        return None
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


class AnnotationAdditionRule(QualifiedWhitelistRule):
    """Approve pages whose only change is new annotations (see the module doc)."""

    def apply_qualified(
        self, old: HistoricalResolver, new: HistoricalResolver
    ) -> Iterable[tuple[ModificationLevel, ReferenceUpdate]]:
        changed = new.explicit_refs_in_revision()
        old_pages = set(_pages(old))
        for page_ref in _pages(new):
            if page_ref not in old_pages:
                continue
            old_page, new_page = old(page_ref), new(page_ref)
            array_ref = _annots_array(new_page)
            if page_ref in changed:
                if not _only_annots_changed(old_page, new_page):
                    continue
            elif array_ref is None or array_ref not in changed:
                continue  # neither the page nor its own /Annots array object changed
            plain = _added_plain(old, new, _annot_refs(old_page, old), _annot_refs(new_page, new))
            if not plain:
                continue
            if page_ref in changed:
                yield ModificationLevel.ANNOTATIONS, ReferenceUpdate(page_ref)
            if array_ref is not None:
                yield ModificationLevel.ANNOTATIONS, ReferenceUpdate(array_ref)
            for ref in plain:
                yield ModificationLevel.ANNOTATIONS, ReferenceUpdate(ref)
                for dep in new.collect_dependencies(
                    ref.get_object(), since_revision=old.revision + 1
                ):
                    yield ModificationLevel.ANNOTATIONS, ReferenceUpdate(dep)


def _added_plain(
    old: HistoricalResolver,
    new: HistoricalResolver,
    old_annots: list[generic.Reference],
    new_annots: list[generic.Reference],
) -> list[generic.Reference]:
    """The new non-widget annotations, when that is all that was added (none removed, any
    other addition a widget: those are the form rules' business); else nothing."""
    if not set(old_annots) <= set(new_annots):
        return []  # an annotation of the signed revision was removed
    added = [r for r in new_annots if r not in old_annots]
    plain = [r for r in added if _is_new_plain_annotation(old, r)]
    others = [r for r in added if r not in plain]
    if not all(_is_widget(new(r)) for r in others):
        return []
    return plain


def _is_widget(obj: generic.PdfObject) -> bool:
    return isinstance(obj, generic.DictionaryObject) and str(obj.get("/Subtype", "")) == "/Widget"


def _only_annots_changed(old: generic.PdfObject, new: generic.PdfObject) -> bool:
    if not (
        isinstance(old, generic.DictionaryObject) and isinstance(new, generic.DictionaryObject)
    ):
        return False
    if isinstance(old, generic.StreamObject) or isinstance(new, generic.StreamObject):
        return False
    keys = (set(old.keys()) | set(new.keys())) - {"/Annots"}
    return all(k in old and k in new and old.raw_get(k) == new.raw_get(k) for k in keys)


def annotations_over_content(
    signed_revision_pdf: bytes, final_pdf: bytes, annotations: list[AddedAnnotation]
) -> list[AddedAnnotation]:
    """The visible added annotations that alter signed content on the page.

    With its own appearance stream an annotation is judged by what it draws: the page of the
    signed revision and of the final document are rendered, and inside the annotation's
    rectangle a signed dark pixel turned light (content hidden) or new dark pixels next to
    signed content (content overwritten or added to) count; a translucent highlight or a note
    in the margin changes neither. Without an appearance stream the viewer draws it, so it
    counts as soon as its rectangle lies over signed content.
    """
    import pypdfium2 as pdfium

    candidates = [a for a in annotations if a.visible and a.rect is not None]
    if not candidates:
        return []
    covering: list[AddedAnnotation] = []
    with PDFIUM_LOCK:
        signed = pdfium.PdfDocument(signed_revision_pdf)
        final = pdfium.PdfDocument(final_pdf)
        try:
            for index in sorted({a.page for a in candidates}):
                on_page = [a for a in candidates if a.page == index]
                if index >= len(signed) or index >= len(final):
                    covering += on_page
                    continue
                before, origin = _render(signed[index])
                after, _ = _render(final[index])
                for annot in on_page:
                    box = _box(before, annot.rect, origin)
                    if box is None:
                        continue
                    if annot.has_appearance:
                        if _altered(before.crop(box), after.crop(box)):
                            covering.append(annot)
                    elif _ink(before.crop(box)).getbbox() is not None:
                        covering.append(annot)
        finally:
            signed.close()
            final.close()
    return covering


def _render(page: Any) -> tuple[Any, tuple[float, float]]:
    left, _bottom, _right, top = page.get_bbox()
    image = page.render(scale=_RENDER_DPI / 72, may_draw_forms=True).to_pil().convert("L")
    return image, (left, top)


def _box(
    image: Any, rect: tuple[float, float, float, float] | None, origin: tuple[float, float]
) -> tuple[int, int, int, int] | None:
    if rect is None:
        return None
    scale = _RENDER_DPI / 72
    left, top = origin
    x1, y1, x2, y2 = rect
    box = (
        max(0, int((x1 - left) * scale)),
        max(0, int((top - y2) * scale)),
        min(image.width, int((x2 - left) * scale) + 1),
        min(image.height, int((top - y1) * scale) + 1),
    )
    return box if box[0] < box[2] and box[1] < box[3] else None


def _ink(image: Any) -> Any:
    """A mask (255 = ink) of the pixels darker than the ink threshold."""
    return image.point(lambda v: 255 if v < _INK_THRESHOLD else 0)


def _altered(before: Any, after: Any) -> bool:
    """Clearly dark turned clearly light (hidden), or clearly light turned clearly dark next
    to signed content (overwritten); anti-aliased edges tinted by a translucent highlight are
    neither."""
    from PIL import ImageChops, ImageFilter

    def mask(image: Any, test: Any) -> Any:
        return image.point(lambda v: 255 if test(v) else 0)

    dark_before = mask(before, lambda v: v < _DARK)
    light_before = mask(before, lambda v: v >= _INK_THRESHOLD)
    dark_after = mask(after, lambda v: v < _DARK)
    light_after = mask(after, lambda v: v >= _INK_THRESHOLD)
    hidden = ImageChops.multiply(dark_before, light_after)
    near = mask(before, lambda v: v < _INK_THRESHOLD).filter(ImageFilter.MaxFilter(_NEAR_PX))
    added = ImageChops.multiply(ImageChops.multiply(light_before, dark_after), near)
    return _count(hidden) + _count(added) > _TOLERANCE_PX


def _count(mask: Any) -> int:
    """Pixels set in a 0/255 mask."""
    histogram: list[int] = mask.histogram()
    return sum(histogram[1:])


def judge_annotations(
    reader: PdfFileReader, signed_revision: int, signed_pdf: bytes | None, final_pdf: bytes
) -> tuple[FindingClass, Finding]:
    """The finding about annotations added since `signed_revision` (`signed_pdf`: the bytes
    of that revision, rendered to see what they cover; None: assume they cover content)."""
    try:
        added = added_annotations(
            reader.get_historical_resolver(signed_revision),
            reader.get_historical_resolver(reader.xrefs.total_revisions - 1),
        )
        visible = [a for a in added if a.visible]
        covering = (
            visible
            if signed_pdf is None
            else annotations_over_content(signed_pdf, final_pdf, added)
        )
        pages = sorted({a.page + 1 for a in covering})
        unknown = False
    except Exception as exc:  # cannot tell what they cover: assume the worst
        logger.info("annotation overlap check failed: %s", exc)
        added, covering, pages, unknown = [], [], [], True
    if covering or unknown:
        where = ", ".join(map(str, pages)) or "?"
        return FindingClass.ANNOTATION_OVER_CONTENT, Finding(
            code="annotation-over-content",
            zh=f"签署后添加的注释覆盖了签署时页面上的内容（第 {where} 页）："
            "页面显示的内容可能已不同于签署时。",
            en=f"Annotations added after signing cover content the signer saw (page {where}): "
            "the page may no longer show what was signed.",
        )
    kinds = ", ".join(sorted({a.subtype.lstrip("/") for a in added})) or "-"
    return FindingClass.ANNOTATIONS_ADDED, Finding(
        code="annotations-after-signing",
        zh=f"签署后添加了注释（{kinds}），未覆盖签署时的页面内容。",
        en=f"Annotations were added after signing ({kinds}); they cover none of the signed "
        "page content.",
    )
