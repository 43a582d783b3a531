"""The semantic model loads and searches with no network at all."""

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.catalog import load_knowledge
from bot.core.ranking import SearchIndex
from bot.embedding import WordLlamaEncoder

ROOT = Path(__file__).resolve().parents[2]


class NetworkUsed(AssertionError):
    pass


def test_search_with_sockets_that_refuse_to_connect(monkeypatch):
    def refuse(*args, **kwargs):
        raise NetworkUsed(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    knowledge = load_knowledge(ROOT / "knowledge")
    encoder = WordLlamaEncoder()
    index = SearchIndex(knowledge.snippets, {t.slug: t for t in knowledge.topics}, encoder=encoder)
    result = index.search("how do I answer why product management in an interview")
    assert not result.declined
    assert index.explain("why pm").hits[0].semantic > 0


SEARCH = """
from pathlib import Path
from bot.catalog import load_knowledge
from bot.core.ranking import SearchIndex
from bot.embedding import WordLlamaEncoder
k = load_knowledge(Path("knowledge"))
index = SearchIndex(k.snippets, {t.slug: t for t in k.topics}, encoder=WordLlamaEncoder())
print(index.search("product teardown").hits[0].snippet.id)
"""


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare from util-linux")
def test_search_in_a_process_without_a_network():
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("this machine does not allow a private network namespace")
    out = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", SEARCH],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()


def test_word_cache_spares_the_model_and_keeps_no_member_words(tmp_path, monkeypatch):
    import numpy as np

    import bot.embedding as embedding

    cache = tmp_path / "words.npz"
    knowledge = load_knowledge(ROOT / "knowledge")
    texts = [s.body for s in knowledge.snippets[:40]]
    first = embedding.WordLlamaEncoder(cache)
    expected = first.encode(texts)
    first.encode(["my secret employer zorblax"])
    assert cache.exists()

    def no_model():
        raise AssertionError("the model was loaded although every word was cached")

    monkeypatch.setattr(embedding, "model_folder", no_model)
    second = embedding.WordLlamaEncoder(cache)
    assert np.allclose(second.encode(texts), expected, atol=1e-3)
    with np.load(cache) as data:
        assert "zorblax" not in set(data["words"].tolist())
