import pytest

from bot.catalog import YamlExporter
from bot.core.facade import PmAdvice
from bot.core.models import UserRef
from bot.core.ports import SendOutcome
from bot.core.reply import Reply
from tests.support.factories import KNOWLEDGE, START
from tests.support.fakes import FakeClock, fake_repositories


class RecordingMessenger:
    def __init__(self) -> None:
        self.sent: list[tuple[UserRef, Reply]] = []

    async def send(self, user: UserRef, reply: Reply) -> SendOutcome:
        self.sent.append((user, reply))
        return SendOutcome.sent(str(len(self.sent)))


@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def repos():
    return fake_repositories()


@pytest.fixture
def messenger():
    return RecordingMessenger()


@pytest.fixture
def bot(repos, clock, messenger):
    return PmAdvice(KNOWLEDGE, repos, clock, YamlExporter(), {"console": messenger})
