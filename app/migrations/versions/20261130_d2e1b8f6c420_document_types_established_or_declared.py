"""document types: established by the service or declared by the caller

Revision ID: d2e1b8f6c420
Revises: c1d0a7e5b310
Create Date: 2026-11-30 15:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d2e1b8f6c420"
down_revision: str | None = "c1d0a7e5b310"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("seal_grant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "requires_established_type",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
    with op.batch_alter_table("seal_usage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_type_source", sa.String(length=16), nullable=True))
    # Uses recorded before this revision carried the caller's word only.
    op.execute(
        "UPDATE seal_usage SET document_type_source = 'declared' WHERE document_type IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("seal_usage", schema=None) as batch_op:
        batch_op.drop_column("document_type_source")
    with op.batch_alter_table("seal_grant", schema=None) as batch_op:
        batch_op.drop_column("requires_established_type")
