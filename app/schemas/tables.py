"""Imports every table module so SQLModel's metadata knows the whole schema."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "app.models",
    "app.models_jobs",
    "pki.models",
    "seals.models",
    "seals.models_envelopes",
    "seals.models_eseal",
    "app.models_webhooks",
    "app.models_policy",
    "app.models_agency",
    "app.models_blobs",
)


def load_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
