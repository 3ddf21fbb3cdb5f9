"""enterprise licences, audit checkpoints, custom seal kinds, counterparty directory

Revision ID: c15a0e1a7d01
Revises: d2e1b8f6c420
Create Date: 2026-11-30 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c15a0e1a7d01"
down_revision: str | None = "d2e1b8f6c420"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enterprise_licence",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("authority_organization_id", sa.String(length=32), nullable=False),
        sa.Column("seal_id", sa.String(length=32), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["authority_organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["storeddocument.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("enterprise_licence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enterprise_licence_organization_id"), ["organization_id"], unique=False
        )
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("merkle_root", sa.String(length=64), nullable=False),
        sa.Column("timestamp_token", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_checkpoint_seq"), ["seq"], unique=False)
    op.create_table(
        "custom_seal_kind",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=12), nullable=False),
        sa.Column("label_en", sa.String(length=60), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "label"),
    )
    with op.batch_alter_table("custom_seal_kind", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_custom_seal_kind_organization_id"), ["organization_id"], unique=False
        )
    op.create_table(
        "seal_custom_kind",
        sa.Column("seal_id", sa.String(length=32), nullable=False),
        sa.Column("custom_kind_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["custom_kind_id"], ["custom_seal_kind.id"]),
        sa.ForeignKeyConstraint(["seal_id"], ["seal.id"]),
        sa.PrimaryKeyConstraint("seal_id"),
    )
    with op.batch_alter_table("seal_custom_kind", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_seal_custom_kind_custom_kind_id"), ["custom_kind_id"], unique=False
        )

    op.create_table(
        "directory_listing",
        sa.Column("seal_id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("listed_by", sa.String(length=120), nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["seal_id"], ["seal.id"]),
        sa.PrimaryKeyConstraint("seal_id"),
    )
    with op.batch_alter_table("directory_listing", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_listing_organization_id"), ["organization_id"], unique=False
        )
    op.create_table(
        "envelope_invitation",
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("envelope_id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("invited_by", sa.String(length=120), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["envelope_id"], ["envelope.id"]),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["participant_id"], ["envelope_participant.id"]),
        sa.PrimaryKeyConstraint("participant_id"),
    )
    with op.batch_alter_table("envelope_invitation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_envelope_invitation_envelope_id"), ["envelope_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_envelope_invitation_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("envelope_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_envelope_invitation_organization_id"))
        batch_op.drop_index(batch_op.f("ix_envelope_invitation_envelope_id"))
    op.drop_table("envelope_invitation")
    with op.batch_alter_table("directory_listing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_listing_organization_id"))
    op.drop_table("directory_listing")
    with op.batch_alter_table("seal_custom_kind", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seal_custom_kind_custom_kind_id"))
    op.drop_table("seal_custom_kind")
    with op.batch_alter_table("custom_seal_kind", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_custom_seal_kind_organization_id"))
    op.drop_table("custom_seal_kind")
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_checkpoint_seq"))
    op.drop_table("audit_checkpoint")
    with op.batch_alter_table("enterprise_licence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprise_licence_organization_id"))
    op.drop_table("enterprise_licence")
