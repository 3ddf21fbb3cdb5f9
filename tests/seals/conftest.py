"""Fixtures for seal image tests: the CJK font and the sample-image folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from seals.fonts import CjkFont, find_cjk_font

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "seals"


@pytest.fixture(scope="session")
def cjk_font() -> CjkFont:
    """The font the renderer discovers; a missing CJK font is a failure, not a skip."""
    return find_cjk_font()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/seals/ at the repository root (git-ignored), for sample images."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
