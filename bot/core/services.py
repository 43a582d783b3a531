"""What a command's handler may use: the services, built once by the facade."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.advice import AdviceService
from bot.core.curation import CurationService
from bot.core.history import SnippetHistory
from bot.core.library import SnippetLibrary
from bot.core.models import Actor, Knowledge
from bot.core.ports import Clock
from bot.core.presenter import help_reply
from bot.core.privacy import PrivacyService
from bot.core.progress import ProgressService
from bot.core.reply import Reply
from bot.core.reports import Reports
from bot.core.review import ReviewWorkflow
from bot.core.web_access import WebSignIn


@dataclass(frozen=True)
class Services:
    knowledge: Knowledge
    library: SnippetLibrary
    advice: AdviceService
    progress: ProgressService
    curation: CurationService
    review: ReviewWorkflow
    reports: Reports
    clock: Clock
    history: SnippetHistory
    privacy: PrivacyService
    web: WebSignIn

    async def help(self, actor: Actor) -> Reply:
        return help_reply(actor.is_moderator)
