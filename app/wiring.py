"""Builds the service's long-lived parts from settings: engine, key store, authority."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from app.db import make_engine
from app.settings import Settings


@dataclass
class Services:
    """Everything a request handler needs besides its session."""

    settings: Settings
    engine: Engine


def build_services(settings: Settings) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Services(settings=settings, engine=make_engine(settings.resolved_database_url))
