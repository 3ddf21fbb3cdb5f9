"""The table of the database blob store: documents kept in the shared database itself.

For several instances on one PostgreSQL without extra infrastructure: every instance reads
what any instance stored. Content-addressed like the local folder (key = SHA-256 hex).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models import utcnow
from pki.dbtypes import UtcDateTime


class BlobRecord(SQLModel, table=True):
    __tablename__ = "blob"

    key: str = Field(primary_key=True, max_length=64)
    size: int
    data: bytes
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
