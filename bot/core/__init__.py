"""The pure heart of pmadvice: domain types, parsing, ranking and services.

Nothing here knows about Slack, Discord, SQL, YAML or the scheduler.
"""
