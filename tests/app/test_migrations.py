"""Alembic migrations are the only way the schema is made: models and migrations agree."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from app.schemas.tables import load_all_models


def test_models_and_migrations_agree(fresh_engine: Any) -> None:
    load_all_models()
    with fresh_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models differ from migrations; run alembic revision --autogenerate: {diff}"
