"""Page thumbnails for the public page, rendered in a separate, resource-limited process.

PDFium has no decode limits of its own: a content stream that inflates to gigabytes, or a page
that draws forever, must not take the service with it. Each rendering runs
``python -m seals.thumbnails`` with a limit on address space and CPU time and a wall-clock
timeout; on any failure the page simply shows no thumbnails. The child gets a minimal
environment (no service secrets).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import seals
from seals.thumbnails import Mark, Thumbnail

logger = logging.getLogger(__name__)

MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024
"""Address space of the rendering process (PDFium, Pillow and the interpreter included)."""
_PROJECT_ROOT = Path(seals.__file__).resolve().parents[1]
_RENDERERS = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))
"""At most this many renderer processes at once; a page that waits too long gets none."""


def render_isolated(
    *,
    pdf: bytes,
    marks: Sequence[Mark],
    width_px: int,
    max_pages: int,
    max_seconds: float,
    memory_bytes: int = MEMORY_LIMIT_BYTES,
) -> tuple[Thumbnail, ...]:
    """Thumbnails as `seals.thumbnails.render_thumbnails` makes them, or () on any failure
    (unrenderable document, time or memory limit reached, crash of the renderer)."""
    header = {
        "marks": [
            {"page": m.page, "rect": list(m.rect), "label": m.label, "tone": m.tone.value}
            for m in marks
        ],
        "width_px": width_px,
        "max_pages": max_pages,
        "max_seconds": max_seconds,
        "memory_bytes": memory_bytes,
    }
    payload = json.dumps(header).encode() + b"\n" + pdf
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(_PROJECT_ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
    }
    if not _RENDERERS.acquire(timeout=max_seconds):
        logger.warning("thumbnail renderers busy; page shown without thumbnails")
        return ()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "seals.thumbnails"],
            input=payload,
            capture_output=True,
            timeout=max_seconds + 10,  # interpreter start-up and imports on top
            env=env,
            cwd=_PROJECT_ROOT,
            check=False,
        )
    except (subprocess.TimeoutExpired, OSError) as exc:
        logger.warning("thumbnail renderer stopped: %s", exc)
        return ()
    finally:
        _RENDERERS.release()
    if done.returncode != 0:
        if done.returncode != 2:
            logger.warning(
                "thumbnail renderer failed (exit %s): %s",
                done.returncode,
                done.stderr[-500:].decode(errors="replace"),
            )
        return ()
    try:
        items = json.loads(done.stdout)
        return tuple(
            Thumbnail(
                page=int(item["page"]),
                png=base64.b64decode(item["png"]),
                width=int(item["width"]),
                height=int(item["height"]),
                marks=int(item["marks"]),
            )
            for item in items
        )
    except (ValueError, KeyError, TypeError) as exc:
        logger.warning("thumbnail renderer answered nonsense: %s", exc)
        return ()
