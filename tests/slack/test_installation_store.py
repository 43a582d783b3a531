"""slack_sdk's async SQLAlchemy stores on the tables the migrations build (SQLite and
PostgreSQL): installations per workspace, deleted on uninstall, and one-use signed states."""

from __future__ import annotations

from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.slack_adapter.workspaces import installation_store, state_store

CLIENT_ID = "1234567890.9876543210"


def installation(team: str, token: str) -> Installation:
    return Installation(
        app_id="A0APP0001",
        team_id=team,
        team_name=f"Workspace {team}",
        bot_token=token,
        bot_id="B0BOT0001",
        bot_user_id="U0BOT0001",
        bot_scopes="commands,chat:write",
        user_id="U0INSTALL1",
        is_enterprise_install=False,
    )


async def test_installations_are_kept_per_workspace_and_deleted_on_uninstall(
    engine: AsyncEngine,
) -> None:
    store = installation_store(CLIENT_ID, engine)
    await store.async_save(installation("T0AAA", "xoxb-a-000000000"))
    await store.async_save(installation("T0BBB", "xoxb-b-000000000"))
    await store.async_save(installation("T0AAA", "xoxb-a-reinstalled"))
    found = await store.async_find_installation(enterprise_id=None, team_id="T0AAA")
    assert found is not None
    assert found.bot_token == "xoxb-a-reinstalled"  # the latest install wins
    bot = await store.async_find_bot(enterprise_id=None, team_id="T0BBB")
    assert bot is not None
    assert bot.bot_token == "xoxb-b-000000000"
    await store.async_delete_all(enterprise_id=None, team_id="T0AAA")
    assert await store.async_find_installation(enterprise_id=None, team_id="T0AAA") is None
    assert await store.async_find_bot(enterprise_id=None, team_id="T0AAA") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T0BBB") is not None


async def test_a_state_is_signed_and_works_once(engine: AsyncEngine) -> None:
    states = state_store("SENTINELstatesecret000000001", engine)
    state = await states.async_issue()
    raw, _, signature = state.rpartition(".")
    assert raw
    assert len(signature) == 32
    assert not await states.async_consume(f"{raw}.{'0' * 32}")  # a forged signature
    assert not await state_store("another-secret-0000000001", engine).async_consume(state)
    assert await states.async_consume(state)
    assert not await states.async_consume(state)  # used
