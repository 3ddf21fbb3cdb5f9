"""Imports every table module so SQLModel's metadata knows the whole schema."""

from __future__ import annotations

import importlib

MODEL_MODULES = ("app.models", "pki.models", "seals.models")


def load_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
