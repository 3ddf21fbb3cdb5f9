"""seal_eseal: GB/T 38540 seal data per seal

Revision ID: b7e3c1a9d2f0
Revises: 5d2e8a91c3f4
Create Date: 2026-12-07 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e3c1a9d2f0"
down_revision: str | None = "5d2e8a91c3f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seal_eseal",
        sa.Column("seal_id", sa.String(length=32), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("sm2_certificate_id", sa.String(length=32), nullable=False),
        sa.Column("maker_certificate_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["seal_id"], ["seal.id"]),
        sa.PrimaryKeyConstraint("seal_id"),
    )


def downgrade() -> None:
    op.drop_table("seal_eseal")
