"""Revisions that say what they did and which YAML they were based on; suggestions that keep
their questions; flood counters; pauses; the mid-week reminder switch.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _aware() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("snippet_revisions") as batch:
        batch.add_column(
            sa.Column("action", sa.String(length=16), server_default=sa.text("'edit'"), nullable=False)
        )
        batch.add_column(sa.Column("base_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), server_default=sa.text("''"), nullable=False))
    with op.batch_alter_table("suggestions") as batch:
        batch.add_column(
            sa.Column("questions", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(
            sa.Column("reminders", sa.Boolean(), server_default=sa.text("true"), nullable=False)
        )

    op.create_table(
        "pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("start_at", _aware(), nullable=False),
        sa.Column("end_at", _aware(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pauses_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pauses")),
    )
    op.create_index(op.f("ix_pauses_user_id"), "pauses", ["user_id"], unique=False)

    op.create_table(
        "flood_counters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("window_start", _aware(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_flood_counters_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flood_counters")),
        sa.UniqueConstraint(
            "user_id",
            "action",
            "window_start",
            name=op.f("uq_flood_counters_user_id_action_window_start"),
        ),
    )


def downgrade() -> None:
    op.drop_table("flood_counters")
    op.drop_index(op.f("ix_pauses_user_id"), table_name="pauses")
    op.drop_table("pauses")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("reminders")
    with op.batch_alter_table("suggestions") as batch:
        batch.drop_column("questions")
    with op.batch_alter_table("snippet_revisions") as batch:
        batch.drop_column("note")
        batch.drop_column("base_hash")
        batch.drop_column("action")
