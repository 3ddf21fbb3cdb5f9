"""A linearized file is one revision, not two.

A linearized PDF (ISO 32000-1 Annex F) carries two cross-reference sections written in one
save: the first-page section near the start of the file, which the final `startxref` points
at, and the main section at the end, which the first-page trailer's /Prev points *forward*
to. pyhanko reads every /Prev hop as an earlier revision, so it counts the main section as
revision 0 and the first-page section as revision 1. For a signature whose dictionary was
written in that same save (the signer produced the linearized file with the signature in it,
as in EU DSS's pades-ocsp-archiveCutOff-invalid.pdf) that is wrong twice over: the signature
object lies in "revision 0", whose startxref is not the one at the end of the signed bytes,
so the coverage check calls the ByteRange anomalous; and the first-page section looks like
an update made after signing.

`merge_linearization` folds the two sections (and their trailers) into the one revision they
are, before anything asks the reader about revisions. It does so only when the file is
linearized and the layout is the one Annex F describes; it never lowers the bar:

* the first indirect object of the file is a linearization dictionary (/Linearized);
* the chronologically second section lies *before* the first in the file (the forward /Prev
  only a linearized file has), so both lie in bytes a signature over the later one's end
  covers - the merged revision ends where the later-placed (main) section ends, and the
  coverage check requires every section of a signed revision inside the signed bytes;
* no object number is given two different locations by the two sections (they describe
  disjoint parts of one file), and neither is a hybrid-reference section; otherwise the file
  keeps pyhanko's reading, which is stricter.

Incremental updates appended after the linearized file stay revisions of their own, judged
as before. The merged-away main section is kept (`SpecReader.linearization_main`) so that
`seals.verification.bytes` still knows where its cross-reference stream lies.
"""

from __future__ import annotations

import re
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.xref import XRefSection, XRefSectionData, XRefSectionMetaInfo

_FIRST_OBJECT = re.compile(rb"%PDF-[^\r\n]*[\r\n]+(?:%[^\r\n]*[\r\n]+)*\s*\d+\s+\d+\s+obj\s*<<")


def is_linearized(head: bytes) -> bool:
    """Whether the file's first indirect object is a linearization dictionary."""
    match = _FIRST_OBJECT.search(head)
    if match is None:
        return False
    end = head.find(b">>", match.end())
    return end != -1 and b"/Linearized" in head[match.end() : end]


def _conflict(first: XRefSectionData, main: XRefSectionData) -> bool:
    """Whether the two sections give one object number two different locations."""
    for idnum, entry in first.standard_xrefs.items():
        if idnum in main.standard_xrefs and main.standard_xrefs[idnum] != entry:
            return True
        if idnum in main.xrefs_in_objstm:
            return True
    for idnum, loc in first.xrefs_in_objstm.items():
        if idnum in main.standard_xrefs or main.xrefs_in_objstm.get(idnum, loc) != loc:
            return True
    return any(i in main.standard_xrefs or i in main.xrefs_in_objstm for i in first.freed) or any(
        i in first.standard_xrefs or i in first.xrefs_in_objstm for i in main.freed
    )


def _merged_data(first: XRefSectionData, main: XRefSectionData) -> XRefSectionData:
    data = XRefSectionData()
    for part in (main, first):
        data.freed.update(part.freed)
        data.standard_xrefs.update(part.standard_xrefs)
        data.xrefs_in_objstm.update(part.xrefs_in_objstm)
        data.explicit_refs_in_revision |= part.explicit_refs_in_revision
        data.obj_streams_used |= part.obj_streams_used
    return data


def _merged_trailer(first: generic.DictionaryObject, main: generic.DictionaryObject) -> Any:
    merged = generic.DictionaryObject()
    for part in (main, first):
        merged.update(dict.items(part))
    merged.pop(generic.NameObject("/Prev"), None)
    merged.container_ref = first.container_ref
    return merged


def merge_linearization(reader: PdfFileReader, head: bytes) -> XRefSection | None:
    """Fold a linearized file's first-page and main sections into one revision (see the
    module doc); returns the main section it folded away, None when it changed nothing."""
    xrefs = reader.xrefs
    sections: list[XRefSection] = xrefs._xref_sections
    trailers: list[generic.DictionaryObject] = reader.trailer._trailer_revisions
    if len(sections) < 2 or len(trailers) != len(sections) or not is_linearized(head):
        return None
    main, first = sections[0], sections[1]
    if first.meta_info.start_location >= main.meta_info.start_location:
        return None
    if first.xref_data.hybrid is not None or main.xref_data.hybrid is not None:
        return None  # hybrid references: kept as pyhanko reads them (and judges them)
    if _conflict(first.xref_data, main.xref_data):
        return None
    info = first.meta_info
    meta = XRefSectionMetaInfo(
        xref_section_type=info.xref_section_type,
        size=max(info.size, main.meta_info.size),
        declared_startxref=info.declared_startxref,
        start_location=info.start_location,
        end_location=max(info.end_location, main.meta_info.end_location),
        stream_ref=info.stream_ref,
    )
    sections[0:2] = [XRefSection(meta, _merged_data(first.xref_data, main.xref_data))]
    # trailers are kept newest first: the last two are the first-page and the main one
    trailers[-2:] = [_merged_trailer(trailers[-2], trailers[-1])]
    return main
