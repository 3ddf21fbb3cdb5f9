"""The seal's widgets: one signature field with one widget annotation per page it shows on,
each drawing its slice of the shared seal image upright (see `seals.signing.pades`)."""

from __future__ import annotations

from typing import Any

from seals.placement import SealWidget


def appearance_stream(writer: Any, image_ref: Any, widget: SealWidget) -> Any:
    """A form XObject showing the widget's slice of the seal image, upright on screen.

    The image XObject is shared by all widgets of a signature; a slice is the whole image
    shifted left and clipped by the form's /BBox. For a page with /Rotate R the form's /Matrix
    rotates the content counter-clockwise by R, which the page rotation undoes on screen.
    """
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name

    rect = widget.rect
    sideways = widget.rotate in (90, 270)
    width = rect.height if sideways else rect.width  # slice width as displayed
    height = rect.width if sideways else rect.height
    full_width = width * widget.slice_count
    content = b"q %.4f 0 0 %.4f %.4f 0 cm /Seal Do Q" % (
        full_width,
        height,
        -width * widget.slice_index,
    )
    matrix = {
        0: (1, 0, 0, 1),
        90: (0, 1, -1, 0),
        180: (-1, 0, 0, -1),
        270: (0, -1, 1, 0),
    }[widget.rotate]
    stream = generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Form"),
            pdf_name("/BBox"): generic.ArrayObject(
                [generic.FloatObject(v) for v in (0, 0, round(width, 4), round(height, 4))]
            ),
            pdf_name("/Matrix"): generic.ArrayObject(
                [generic.NumberObject(v) for v in matrix]
                + [generic.NumberObject(0), generic.NumberObject(0)]
            ),
            pdf_name("/Resources"): generic.DictionaryObject(
                {pdf_name("/XObject"): generic.DictionaryObject({pdf_name("/Seal"): image_ref})}
            ),
        },
        stream_data=content,
    )
    stream.compress()
    return writer.add_object(stream)


def widget_annotation(
    writer: Any, *, field_ref: Any, widget: SealWidget, image_ref: Any
) -> tuple[Any, Any]:
    """Create a widget annotation for ``widget``; returns (annotation ref, page ref)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name

    page_ref = writer.find_page_for_modification(widget.page_index)[0]
    annotation = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/Widget"),
            # print (4) + locked (128): shown when printed, cannot be moved in a viewer
            pdf_name("/F"): generic.NumberObject(132),
            pdf_name("/Rect"): generic.ArrayObject(
                [generic.FloatObject(round(v, 4)) for v in widget.rect.as_tuple()]
            ),
            pdf_name("/P"): page_ref,
            # No /Parent back-reference, as in pyhanko's own widgets: poppler takes every
            # /Kids entry that has a /Parent for a child *field* and would report N unsigned
            # signature fields instead of one signature with N widgets.
            pdf_name("/AP"): generic.DictionaryObject(
                {pdf_name("/N"): appearance_stream(writer, image_ref, widget)}
            ),
        }
    )
    return writer.add_object(annotation), page_ref


def create_visible_field(
    writer: Any, *, name: str, first: SealWidget, image_ref: Any
) -> tuple[Any, Any]:
    """A new signature field with exactly one widget (the first); returns (field ref, kids)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.sign.fields import ensure_sig_flags

    root = writer.root
    try:
        form = root["/AcroForm"]
    except KeyError:
        form = generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()})
        root[pdf_name("/AcroForm")] = writer.add_object(form)
        writer.update_root()
    try:
        fields = form["/Fields"]
    except KeyError:
        fields = form[pdf_name("/Fields")] = generic.ArrayObject()
    kids = generic.ArrayObject()
    field = generic.DictionaryObject(
        {
            pdf_name("/FT"): pdf_name("/Sig"),
            pdf_name("/T"): generic.TextStringObject(name),
            pdf_name("/Kids"): kids,
        }
    )
    field_ref = writer.add_object(field)
    annotation_ref, page_ref = widget_annotation(
        writer, field_ref=field_ref, widget=first, image_ref=image_ref
    )
    kids.append(annotation_ref)
    writer.register_annotation(page_ref, annotation_ref)
    fields.append(field_ref)
    writer.update_container(fields)
    ensure_sig_flags(writer=writer, lock_sig_flags=False)
    return field_ref, kids
