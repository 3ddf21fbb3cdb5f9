"""Independent checks on signed PDFs: pdfsig, qpdf, openssl, rendering with PDFium."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium

from seals.placement import MM_TO_PT, PDFIUM_LOCK

RENDER_SCALE = 2.0  # 144 dpi: 1 mm = 5.67 px


def pdfsig(path: Path, nssdb: str) -> str:
    result = subprocess.run(
        ["pdfsig", "-nssdir", nssdb, str(path)], capture_output=True, text=True, timeout=60
    )
    return result.stdout + result.stderr


def qpdf_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)


@dataclass(frozen=True)
class ByteRangeSignature:
    byte_range: tuple[int, int, int, int]
    contents: bytes  # DER, padding stripped
    sub_filter: str

    def signed_bytes(self, data: bytes) -> bytes:
        a, b, c, d = self.byte_range
        return data[a : a + b] + data[c : c + d]


def signatures(data: bytes) -> list[ByteRangeSignature]:
    """Every signature dictionary, in file order, parsed with pyhanko (not by hand)."""
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(BytesIO(data))
    found = []
    for emb in reader.embedded_signatures:
        sig = emb.sig_object
        found.append(
            ByteRangeSignature(
                byte_range=tuple(int(x) for x in sig["/ByteRange"]),  # type: ignore[arg-type]
                contents=emb.pkcs7_content,
                sub_filter=str(sig["/SubFilter"]),
            )
        )
    return sorted(found, key=lambda s: s.byte_range[2])


def raw_contents(data: bytes, sig: ByteRangeSignature) -> bytes:
    """The CMS read straight from the bytes between the ByteRange gaps (INTEROP.md recipe)."""
    a, b, c, _d = sig.byte_range
    hex_text = data[a + b : c].strip().lstrip(b"<").rstrip(b">")
    der = bytes.fromhex(hex_text.decode("ascii"))
    # strip the zero padding after the outer DER SEQUENCE
    from asn1crypto import cms

    return cms.ContentInfo.load(der, strict=False).dump()


def openssl_cms_verify(tmp: Path, cms_der: bytes, content: bytes, ca_file: Path) -> bool:
    sig = tmp / "sig.p7s"
    body = tmp / "signed-bytes.bin"
    sig.write_bytes(cms_der)
    body.write_bytes(content)
    result = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(sig),
            "-content",
            str(body),
            "-CAfile",
            str(ca_file),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
    )
    return result.returncode == 0 and "Verification successful" in result.stderr


def render_page(data: bytes, page_index: int):  # -> PIL.Image.Image
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(data)
        try:
            # signature widgets are form fields: PDFium draws them once forms are set up
            doc.init_forms()
            page = doc[page_index]
            image = page.render(scale=RENDER_SCALE, draw_annots=True).to_pil().convert("RGB")
            page.close()
            return image
        finally:
            doc.close()


def page_count(data: bytes) -> int:
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(data)
        try:
            return len(doc)
        finally:
            doc.close()


@dataclass(frozen=True)
class RedBox:
    count: int
    left_mm: float
    top_mm: float
    right_mm: float
    bottom_mm: float

    @property
    def centre_mm(self) -> tuple[float, float]:
        return ((self.left_mm + self.right_mm) / 2, (self.top_mm + self.bottom_mm) / 2)


def red_pixels(
    image, *, region_mm: tuple[float, float, float, float] | None = None
) -> RedBox | None:
    """Bounding box (mm from the displayed top-left) of seal-red pixels, or None."""
    px_per_mm = RENDER_SCALE * MM_TO_PT
    width, height = image.size
    x0, y0, x1, y1 = 0, 0, width, height
    if region_mm is not None:
        x0, y0 = int(region_mm[0] * px_per_mm), int(region_mm[1] * px_per_mm)
        x1, y1 = int(region_mm[2] * px_per_mm), int(region_mm[3] * px_per_mm)
    from PIL import ImageChops

    crop = image.crop((max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)))
    r, g, b = crop.split()
    mask = ImageChops.multiply(
        ImageChops.multiply(
            r.point(lambda v: 255 if v > 150 else 0), g.point(lambda v: 255 if v < 90 else 0)
        ),
        b.point(lambda v: 255 if v < 90 else 0),
    )
    bbox = mask.getbbox()
    if bbox is None:
        return None
    count = mask.histogram()[255]
    xs = (bbox[0] + max(x0, 0), bbox[2] - 1 + max(x0, 0))
    ys = (bbox[1] + max(y0, 0), bbox[3] - 1 + max(y0, 0))
    return RedBox(
        count=count,
        left_mm=min(xs) / px_per_mm,
        top_mm=min(ys) / px_per_mm,
        right_mm=(max(xs) + 1) / px_per_mm,
        bottom_mm=(max(ys) + 1) / px_per_mm,
    )


def pdfsig_blocks(text: str) -> list[str]:
    """pdfsig's output split per signature."""
    return re.split(r"\nSignature #\d+:", text)[1:]
