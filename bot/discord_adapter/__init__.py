"""The Discord adapter: slash commands, embeds, buttons and modals over discord.py.

Named `discord_adapter` so it can never shadow the `discord` package. Built and run through
`bot.discord_adapter.service.build_service`.
"""
