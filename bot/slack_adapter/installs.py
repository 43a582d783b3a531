"""Installing the app in a workspace and leaving it: the OAuth scopes and the events Slack
sends when a workspace uninstalls the app or revokes its tokens."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.slack_adapter.workspaces import InstalledWorkspaces, WorkspaceClients

log = logging.getLogger(__name__)

BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "users:read",
    "usergroups:read",
    "app_mentions:read",
)
"""The bot scopes the install link asks for; a test holds them equal to slack-manifest.yaml."""


def register_installation_events(app: AsyncApp, clients: WorkspaceClients) -> None:
    """Drop a workspace's tokens when it uninstalls the app or revokes the bot token.

    Its members are paused by the nudge engine the next time one is due: with no token for
    the workspace the messenger reports a permanent failure, which pauses that member instead
    of retrying. A reinstall stores fresh tokens; members resume with `/pmadvice resume`.
    """

    async def forget(context: AsyncBoltContext, what: str) -> None:
        team = str(context.team_id or context.enterprise_id or "")
        if isinstance(clients, InstalledWorkspaces):
            await clients.store.async_delete_all(
                enterprise_id=context.enterprise_id, team_id=context.team_id
            )
            log.info("workspace %s %s; its tokens are deleted", team, what)
        else:
            log.error(
                "workspace %s %s; SLACK_BOT_TOKEN no longer works there. Reinstall the app "
                "and set the new token.",
                team,
                what,
            )
        clients.forget(team)

    async def on_uninstalled(context: AsyncBoltContext) -> None:
        await forget(context, "uninstalled the app")

    async def on_tokens_revoked(event: dict[str, Any], context: AsyncBoltContext) -> None:
        # The app asks for no user scopes, so only the bot token matters here.
        if (event.get("tokens") or {}).get("bot"):
            await forget(context, "revoked the bot token")

    app.event("app_uninstalled")(on_uninstalled)
    app.event("tokens_revoked")(on_tokens_revoked)
