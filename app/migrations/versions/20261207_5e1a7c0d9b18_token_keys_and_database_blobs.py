"""keys in a PKCS#11 token (pointer + public key), the database blob store, the instance that
worked a bulk record

Revision ID: 5e1a7c0d9b18
Revises: b7e3c1a9d2f0
Create Date: 2026-12-07 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1a7c0d9b18"
down_revision: str | None = "b7e3c1a9d2f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pki_token_key",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("token_label", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("public_key_info", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "blob",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("bulk_job_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worked_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bulk_job_record", schema=None) as batch_op:
        batch_op.drop_column("worked_by")
    op.drop_table("blob")
    op.drop_table("pki_token_key")
