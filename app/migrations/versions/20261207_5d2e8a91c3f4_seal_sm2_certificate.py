"""seal sm2 certificate: the SM2 certificate and key beside a seal's main ones

Revision ID: 5d2e8a91c3f4
Revises: 428c30836763
Create Date: 2026-12-07 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d2e8a91c3f4"
down_revision: str | None = "428c30836763"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("seal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sm2_certificate_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("sm2_key_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_seal_sm2_certificate_id", ["sm2_certificate_id"])
        batch_op.create_foreign_key(
            "fk_seal_sm2_certificate_id_pki_certificate",
            "pki_certificate",
            ["sm2_certificate_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("seal", schema=None) as batch_op:
        batch_op.drop_constraint("fk_seal_sm2_certificate_id_pki_certificate", type_="foreignkey")
        batch_op.drop_constraint("uq_seal_sm2_certificate_id", type_="unique")
        batch_op.drop_column("sm2_key_id")
        batch_op.drop_column("sm2_certificate_id")
