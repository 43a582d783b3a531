"""The Slack adapter: slack-bolt's AsyncApp in front of the core, over HTTP or Socket Mode.

Named `slack_adapter` so it can never shadow the `slack_bolt` or `slack_sdk` packages.
"""
