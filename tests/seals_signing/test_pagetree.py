"""The page tree is read in one walk: same pages and inherited boxes as pyhanko's own per-page
walk, each node read once (a 100-page seal spent 70% of its CPU walking the tree per page)."""

from __future__ import annotations

from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.rw_common import find_inherited_value_in_tree
from pyhanko.pdf_utils.writer import PdfFileWriter

from seals.errors import DamagedPdfError
from seals.pagetree import pages_in_order
from seals.placement import (
    CoordinatePlacement,
    InvisiblePlacement,
    LazyPageGeometries,
    Rect,
    page_geometries,
    resolve_placement,
)


def _box(*values: float) -> generic.ArrayObject:
    return generic.ArrayObject([generic.FloatObject(v) for v in values])


def _tree_pdf(*, leaves: int, fanout: int = 4, loop: bool = False) -> bytes:
    """`leaves` pages under a nested /Pages tree (fan-out `fanout`); every other subtree sets
    its own /MediaBox and /Rotate for its pages to inherit; pages 3 and 7 have their own."""
    w = PdfFileWriter()
    page_refs = []
    for i in range(leaves):
        page = generic.DictionaryObject({pdf_name("/Type"): pdf_name("/Page")})
        if i in (3, 7):
            page[pdf_name("/MediaBox")] = _box(0, 0, 100 + i, 200)
            page[pdf_name("/CropBox")] = _box(10, 10, 90, 190)
        page_refs.append(w.add_object(page))
    level = page_refs
    depth = 0
    while len(level) > 1:
        parents = []
        for start in range(0, len(level), fanout):
            kids = level[start : start + fanout]
            count = sum(
                int(k.get_object().get("/Count", 1)) if k.get_object()["/Type"] == "/Pages" else 1
                for k in kids
            )
            node = generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/Pages"),
                    pdf_name("/Kids"): generic.ArrayObject(kids),
                    pdf_name("/Count"): generic.NumberObject(count),
                }
            )
            if (start // fanout) % 2 == 1:
                node[pdf_name("/MediaBox")] = _box(0, 0, 300 + depth, 400)
                node[pdf_name("/Rotate")] = generic.NumberObject(90)
            ref = w.add_object(node)
            for kid in kids:
                kid.get_object()[pdf_name("/Parent")] = ref
            parents.append(ref)
        level = parents
        depth += 1
    top = level[0].get_object()
    top[pdf_name("/MediaBox")] = _box(0, 0, 595, 842)
    if loop:
        top["/Kids"].append(level[0])
        top[pdf_name("/Count")] = generic.NumberObject(leaves + 1)
    w.root[pdf_name("/Pages")] = level[0]
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def _reader(pdf: bytes) -> PdfFileReader:
    return PdfFileReader(BytesIO(pdf), strict=True)


def test_one_walk_finds_the_pages_and_inherited_boxes_pyhankos_walk_finds() -> None:
    reader = _reader(_tree_pdf(leaves=37))
    nodes = pages_in_order(reader)
    assert len(nodes) == 37
    for index, node in enumerate(nodes):
        ref, _ = reader.find_page_for_modification(index)
        assert node.ref.reference == ref.reference
        for key in ("/MediaBox", "/CropBox", "/Rotate"):  # inherited along /Parent
            assert node.attribute(key) == find_inherited_value_in_tree(
                ref.get_object(), key, "/Parent"
            )
    geometries = page_geometries(reader)
    assert geometries[3].box == Rect(10, 10, 90, 190)  # its own crop box inside its media box
    assert {g.rotate for g in geometries} == {0, 90}
    assert {g.box.right for g in geometries} >= {300, 301, 595}


def test_each_node_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the one walk, 200 pages cost ~20,000 object reads (each page walks its
    predecessors); now about one read per node."""
    reader = _reader(_tree_pdf(leaves=200, fanout=50))
    reads = _counting_reads(monkeypatch)
    assert len(page_geometries(reader)) == 200
    assert len(reads) < 3 * 200


def test_a_loop_in_the_page_tree_is_a_read_error() -> None:
    with pytest.raises(PdfReadError):
        pages_in_order(_reader(_tree_pdf(leaves=9, fanout=3, loop=True)))


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    reads: list[int] = []
    original = PdfFileReader.get_object

    def counting(self: PdfFileReader, *args: object, **kwargs: object) -> object:
        reads.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PdfFileReader, "get_object", counting)
    return reads


def test_a_seal_reads_only_the_pages_its_placement_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    reader = _reader(_tree_pdf(leaves=200, fanout=50))
    reads = _counting_reads(monkeypatch)
    pages = LazyPageGeometries(reader)
    assert resolve_placement(placement=InvisiblePlacement(), pages=pages, seal_size_mm=None) == ()
    assert len(pages) == 200
    invisible = len(reads)
    (widget,) = resolve_placement(
        placement=CoordinatePlacement(page=1, x_mm=50, y_mm=50),
        pages=pages,
        seal_size_mm=(20, 20),
    )
    assert widget.page_index == 0
    assert invisible <= 3 and len(reads) - invisible <= 4, "the root, one /Pages node, page 1"
    assert pages[199] == page_geometries(reader)[199]


def test_a_damaged_tree_met_on_the_way_is_a_damaged_pdf() -> None:
    pdf = _tree_pdf(leaves=9, fanout=3, loop=True)
    pages = LazyPageGeometries(_reader(pdf))
    assert pages[0].index == 0
    with pytest.raises(DamagedPdfError):
        resolve_placement(
            placement=CoordinatePlacement(page=10, x_mm=50, y_mm=50),
            pages=pages,
            seal_size_mm=(20, 20),
        )
