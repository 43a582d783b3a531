"""The web pages: a question log for the dashboard, one-time sign-in links, browser sessions,
and members' optional public portfolios.

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-01

Only hashes of link and session tokens are stored.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _aware() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _web_table(name: str, used_at: bool) -> None:
    columns = [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", _aware(), nullable=False),
        sa.Column("expires_at", _aware(), nullable=False),
    ]
    if used_at:
        columns.append(sa.Column("used_at", _aware(), nullable=True))
    op.create_table(
        name,
        *columns,
        sa.CheckConstraint("role IN ('moderator', 'member')", name=op.f(f"ck_{name}_role")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("token_hash", name=op.f(f"uq_{name}_token_hash")),
    )
    op.create_index(op.f(f"ix_{name}_expires_at"), name, ["expires_at"], unique=False)


def upgrade() -> None:
    op.create_table(
        "question_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _aware(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("snippet_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_log")),
    )
    op.create_index(op.f("ix_question_log_at"), "question_log", ["at"], unique=False)
    _web_table("web_links", used_at=True)
    _web_table("web_sessions", used_at=False)
    op.create_table(
        "portfolios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("updated_at", _aware(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portfolios")),
        sa.UniqueConstraint("slug", name=op.f("uq_portfolios_slug")),
        sa.UniqueConstraint(
            "platform", "workspace", "user_id", name=op.f("uq_portfolios_platform_workspace_user_id")
        ),
    )


def downgrade() -> None:
    for table in ("portfolios", "web_sessions", "web_links", "question_log"):
        op.drop_table(table)
