"""The seal image as PDF image XObjects, encoded once per image (issue 12).

pyhanko's `pil_image` decodes the PNG, splits off the alpha channel and Flate-compresses both
planes for every document it is drawn on; for a 300 dpi seal that made a visible seal cost a
third more than an invisible one. The compressed streams depend on nothing but the image, so
they are made once per image (by `pil_image` itself, into a recorder) and each document gets
copies of those streams: the same bytes `pil_image` would have written.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from seals.signing.checks import load_image
from seals.signing.spec import SealAppearance

__all__ = ["EncodedImage", "encoded_image"]

_MAX_KEPT = 64


@dataclass(frozen=True, slots=True)
class _Stream:
    entries: tuple[tuple[str, Any], ...]  # dictionary entries; an int value refers to an
    encoded: bytes  # earlier stream of the same image (the /SMask)


@dataclass(frozen=True, slots=True)
class EncodedImage:
    """The image's streams in the order pyhanko wrote them (soft mask first)."""

    streams: tuple[_Stream, ...]

    def add_to(self, writer: Any) -> Any:
        """Write the streams into `writer`; returns the reference of the image XObject."""
        from pyhanko.pdf_utils import generic

        refs: list[Any] = []
        for stream in self.streams:
            entries = {
                generic.NameObject(k): refs[v] if isinstance(v, int) and k == "/SMask" else v
                for k, v in stream.entries
            }
            refs.append(
                writer.add_object(
                    generic.StreamObject(
                        generic.DictionaryObject(entries), encoded_data=stream.encoded
                    )
                )
            )
        return refs[-1]


class _Recorder:
    """Stands in for a writer while `pil_image` encodes: keeps the streams, numbers them."""

    def __init__(self) -> None:
        self.streams: list[Any] = []

    def add_object(self, obj: Any) -> int:
        self.streams.append(obj)
        return len(self.streams) - 1


_kept: dict[str, EncodedImage] = {}
_lock = threading.Lock()


def encoded_image(appearance: SealAppearance) -> EncodedImage:
    """The encoded streams of the appearance image (`InvalidAppearanceError` when unreadable)."""
    key = hashlib.sha256(appearance.image).hexdigest()
    kept = _kept.get(key)
    if kept is not None:
        if not (appearance.width_mm > 0 and appearance.height_mm > 0):
            load_image(appearance)  # raises the same InvalidAppearanceError as the first time
        return kept
    from pyhanko.pdf_utils.images import pil_image

    recorder = _Recorder()
    pil_image(load_image(appearance), recorder)  # type: ignore[arg-type]  # add_object only
    encoded = EncodedImage(
        tuple(
            _Stream(tuple((str(k), v) for k, v in stream.items()), stream.encoded_data)
            for stream in recorder.streams
        )
    )
    with _lock:
        if len(_kept) >= _MAX_KEPT:
            _kept.clear()
        _kept[key] = encoded
    return encoded
