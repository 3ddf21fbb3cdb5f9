"""identity: people belong to the organization that created them; invitations

Revision ID: c1d0a7e5b310
Revises: 75584737dfd9
Create Date: 2026-11-30 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c1d0a7e5b310"
down_revision: str | None = "75584737dfd9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_organization_id", sa.String(length=32), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_person_home_organization_id"), ["home_organization_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_person_home_organization_id_organization",
            "organization",
            ["home_organization_id"],
            ["id"],
        )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
    # Existing memberships were made under the old model and stay in force; a person whose
    # memberships all lie in one organization belongs to it.
    op.execute("UPDATE membership SET confirmed_at = created_at")
    op.execute(
        "UPDATE person SET home_organization_id = ("
        " SELECT MIN(m.organization_id) FROM membership m WHERE m.person_id = person.id)"
        " WHERE (SELECT COUNT(DISTINCT m.organization_id) FROM membership m"
        " WHERE m.person_id = person.id) = 1"
    )


def downgrade() -> None:
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_column("confirmed_at")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint("fk_person_home_organization_id_organization", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_person_home_organization_id"))
        batch_op.drop_column("home_organization_id")
