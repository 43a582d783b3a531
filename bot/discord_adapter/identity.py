"""Who is pressing or typing: the core's Actor for a Discord interaction."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import discord

from bot.core.models import Actor, Platform, UserRef

WORKSPACE = "discord"
"""The workspace of every Discord member. Discord user ids are global, so one member has one
subscription and one progress track wherever they talk to the bot (any server, or a DM)."""
MODERATOR_PERMISSIONS = discord.Permissions(manage_messages=True)
"""What the moderators' command group asks for by default (`default_permissions`)."""


@dataclass(frozen=True, slots=True)
class ModeratorPolicy:
    """Checked on every action: a moderator role, the moderator permission, or a listed id.

    Roles and permissions are those the interaction carries for the server it happens in; in a
    DM only a listed id counts."""

    role_ids: frozenset[int] = frozenset()
    user_ids: frozenset[str] = frozenset()

    def allows(self, interaction: discord.Interaction[discord.Client]) -> bool:
        if str(interaction.user.id) in self.user_ids:
            return True
        if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
            return False
        if interaction.permissions.administrator:
            return True
        if interaction.permissions.is_superset(MODERATOR_PERMISSIONS):
            return True
        return bool(self.role_ids) and _has_any_role(interaction.user, self.role_ids)


def _has_any_role(member: discord.Member, role_ids: Collection[int]) -> bool:
    # Member.roles resolves ids through the guild cache, which may not hold the guild yet (READY
    # does not wait for it); the role ids the interaction itself carried are in _roles.
    return any(member._roles.has(role_id) for role_id in role_ids)


def user_ref(user_id: int) -> UserRef:
    return UserRef(Platform.DISCORD.value, WORKSPACE, str(user_id))


def actor_for(interaction: discord.Interaction[discord.Client], policy: ModeratorPolicy) -> Actor:
    """The member behind an interaction: the same member in every server and in DMs; moderator
    status is decided for this interaction."""
    return Actor(
        user=user_ref(interaction.user.id),
        is_moderator=policy.allows(interaction),
        display_name=interaction.user.display_name,
    )
