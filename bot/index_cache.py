"""An on-disk cache of what every process would otherwise rebuild: the parsed knowledge base
and the built search index, so a one-shot `pmadvice search` neither parses YAML nor indexes
(nor embeds) the whole knowledge base again.

Each entry is keyed by a hash of everything it was made from: the knowledge files' bytes, or
the index builder's arguments (the merged snippets with their chat changes, the votes, the
ranking settings, which encoder), together with the source of the code that builds it and the
versions of the libraries it relies on. A change to any of them is a different key, so a stale
entry is never loaded; old entries are pruned.

Entries are pickles, so they are read only from a folder this user owns that nobody else can
write to (created 0700), through a handle on that folder (no path is looked up twice), and
only from files this user owns that nobody else can write to. Anything odd - a missing, corrupt,
foreign or unreadable entry, an unwritable folder - is ignored and the value is rebuilt.

The index is opaque here: collaborators handed to its builder (the analyzer, the encoder) are
not copied into the entry but handed back when it is read, and memoised methods come back
with empty caches.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import gc
import hashlib
import importlib.util
import inspect
import io
import logging
import os
import pickle
import secrets
import stat
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

PACKAGE = Path(__file__).resolve().parent
CODE = ("core", "catalog.py", "embedding.py", "index_cache.py", "data")
"""What the cached values are made by, relative to the package: a change to any file here
(the ranking modules among them) makes every key new."""
LIBRARIES = ("numpy", "snowballstemmer", "wordllama", "tokenizers", "safetensors", "pydantic")
"""Libraries whose installed files take part in the key: an upgrade rebuilds."""
MAGIC = b"pmadvice-cache 1\n"
KEEP = 3
"""Entries of each kind kept; older ones are removed when a new one is written."""
FOLDER = "built"
"""The cache's own subfolder of PMADVICE_CACHE_DIR (owner-only)."""


@functools.cache
def code_version() -> str:
    """A hash of the source that builds cached values and of the libraries it uses."""
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    for name in CODE:
        top = PACKAGE / name
        if not top.exists():
            continue
        files = sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else [top]
        for path in files:
            if path.suffix in (".pyc", ".pyo"):
                continue
            digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    for library in LIBRARIES:
        spec = importlib.util.find_spec(library)
        origin = spec.origin if spec is not None else None
        if origin:
            info = os.stat(origin)
            digest.update(f"{library}:{origin}:{info.st_size}:{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def files_digest(root: Path) -> str:
    """A hash of every file under `root`, names and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


class NotData(TypeError):
    """A value that is not plain data, so it cannot be part of a key."""


def fingerprint(value: object) -> str:
    """A canonical text of plain data (dataclasses, containers, scalars), equal for equal
    values in every process: sets are sorted, unlike their repr."""
    out: list[str] = []
    _canonical(value, out)
    return "".join(out)


def _canonical(value: object, out: list[str]) -> None:
    if value is None or isinstance(value, str | int | float | bytes | enum.Enum):
        out.append(repr(value))
    elif isinstance(value, tuple | list):
        out.append("[")
        for item in value:
            _canonical(item, out)
            out.append(",")
        out.append("]")
    elif isinstance(value, Mapping):
        out.append("{" + ",".join(sorted(_pair(k, v) for k, v in value.items())) + "}")
    elif isinstance(value, set | frozenset):
        out.append("<" + ",".join(sorted(fingerprint(item) for item in value)) + ">")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        out.append(type(value).__qualname__ + "(")
        for field in dataclasses.fields(value):
            out.append(field.name + "=")
            _canonical(getattr(value, field.name), out)
            out.append(",")
        out.append(")")
    elif hasattr(value, "isoformat"):
        out.append(f"{type(value).__name__}({value.isoformat()})")
    else:
        raise NotData(type(value).__qualname__)


def _pair(key: object, value: object) -> str:
    return fingerprint(key) + ":" + fingerprint(value)


def _rewrap(method: Callable[..., Any], maxsize: int | None, typed: bool) -> Any:
    return functools.lru_cache(maxsize=maxsize, typed=typed)(method)


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: Mapping[int, str]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = shared

    def persistent_id(self, obj: Any) -> str | None:
        return self._shared.get(id(obj))

    def reducer_override(self, obj: Any) -> Any:
        # A method memoised per instance (lru_cache(self.method)) comes back with an empty cache.
        if isinstance(obj, functools._lru_cache_wrapper) and inspect.ismethod(obj.__wrapped__):
            parameters = obj.cache_parameters()
            return _rewrap, (obj.__wrapped__, parameters["maxsize"], parameters["typed"])
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, shared: Mapping[str, object]) -> None:
        super().__init__(file)
        self._shared = shared

    def persistent_load(self, pid: Any) -> object:
        return self._shared[pid]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Reading or writing an entry makes tens of thousands of objects and no garbage."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class PickleCache:
    """Entries of one kind in an owner-only folder; every failure is a miss."""

    def __init__(self, folder: Path | None, kind: str, keep: int = KEEP) -> None:
        self.folder = folder
        self.kind = kind
        self.keep = keep

    def _name(self, key: str) -> str:
        return f"{self.kind}-{key}.pickle"

    @contextmanager
    def _directory(self, create: bool) -> Iterator[int | None]:
        """A handle on the cache folder, or None if there is none we may trust."""
        if self.folder is None or os.open not in os.supports_dir_fd:
            yield None
            return
        try:
            if create:
                self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as error:
            log.debug("cache folder %s not used: %s", self.folder, error)
            yield None
            return
        try:
            info = os.fstat(handle)
            if info.st_uid != os.getuid() or info.st_mode & 0o077:
                log.warning(
                    "cache folder %s is not private to this user (uid %d, mode %o); not used",
                    self.folder,
                    os.getuid(),
                    stat.S_IMODE(info.st_mode),
                )
                yield None
            else:
                yield handle
        finally:
            os.close(handle)

    def load(self, key: str, shared: Mapping[str, object] | None = None) -> object | None:
        with self._directory(create=False) as folder:
            if folder is None:
                return None
            try:
                data = self._read(folder, self._name(key))
            except OSError as error:
                log.debug("no cached %s %s: %s", self.kind, key[:12], error)
                return None
        header = MAGIC + key.encode() + b"\n"
        if data is None or not data.startswith(header):
            log.debug("cached %s %s is not ours or not whole; rebuilding", self.kind, key[:12])
            return None
        try:
            with _collector_paused():
                value: object = _Unpickler(io.BytesIO(data[len(header) :]), shared or {}).load()
                return value
        except Exception as error:  # a corrupt entry is a miss, whatever it raises
            log.debug("cached %s %s unreadable (%s); rebuilding", self.kind, key[:12], error)
            return None

    @staticmethod
    def _read(folder: int, name: str) -> bytes | None:
        handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder)
        with os.fdopen(handle, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
                return None
            return file.read()

    def store(self, key: str, value: object, shared: Mapping[int, str] | None = None) -> None:
        buffer = io.BytesIO()
        buffer.write(MAGIC + key.encode() + b"\n")
        try:
            with _collector_paused():
                _Pickler(buffer, shared or {}).dump(value)
        except Exception as error:  # something in it cannot be pickled: just not cached
            log.debug("%s not cached: %s", self.kind, error)
            return
        with self._directory(create=True) as folder:
            if folder is None:
                return
            temporary = f".{self._name(key)}.{secrets.token_hex(6)}"
            try:
                handle = os.open(
                    temporary,
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                    0o600,
                    dir_fd=folder,
                )
                with os.fdopen(handle, "wb") as file:
                    file.write(buffer.getbuffer())
                os.replace(temporary, self._name(key), src_dir_fd=folder, dst_dir_fd=folder)
                self._prune(folder, self._name(key))
            except OSError as error:
                log.debug("%s not cached in %s: %s", self.kind, self.folder, error)
                with suppress(OSError):
                    os.unlink(temporary, dir_fd=folder)

    def _prune(self, folder: int, newest: str) -> None:
        prefix = f"{self.kind}-"
        entries = []
        for name in os.listdir(folder):
            if name.startswith(prefix) and name != newest:
                with suppress(OSError):
                    entries.append((os.stat(name, dir_fd=folder).st_mtime_ns, name))
        for _, name in sorted(entries, reverse=True)[self.keep - 1 :]:
            with suppress(OSError):
                os.unlink(name, dir_fd=folder)


def cache_folder(cache_dir: Path | None) -> Path | None:
    return None if cache_dir is None else cache_dir / FOLDER


def cached_knowledge(root: Path, cache_dir: Path | None, parse: Callable[[Path], T]) -> T:
    """`parse(root)`, or what it returned for the same files and code before."""
    cache = PickleCache(cache_folder(cache_dir), "knowledge")
    try:
        key = hashlib.sha256(f"{code_version()}:{files_digest(root)}".encode()).hexdigest()
    except OSError:
        return parse(root)  # the loader reports unreadable files properly
    found = cache.load(key)
    if found is not None:
        return found  # type: ignore[return-value]
    value = parse(root)
    cache.store(key, value)
    return value


class CachedBuilder:
    """Wraps an index builder (any callable): the same plain-data arguments give the index
    built before, read back from the cache; other arguments (the analyzer, the encoder) are
    keyed by their type and `name` and handed back to the index as they are now."""

    def __init__(
        self, build: Callable[..., object], cache_dir: Path | None, kind: str = "index"
    ) -> None:
        self._build = build
        self._cache = PickleCache(cache_folder(cache_dir), kind)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        arguments = {str(i): v for i, v in enumerate(args)} | kwargs
        shared: dict[str, object] = {}
        try:
            key_parts = [code_version(), _qualified(self._build)]
        except OSError as error:
            log.debug("index not cached: %s", error)
            return self._build(*args, **kwargs)
        for name, value in sorted(arguments.items()):
            try:
                key_parts.append(f"{name}={fingerprint(value)}")
            except NotData:
                shared[name] = value
                key_parts.append(f"{name}={_qualified(type(value))}:{getattr(value, 'name', '')}")
        key = hashlib.sha256("\n".join(key_parts).encode()).hexdigest()
        found = self._cache.load(key, shared)
        if found is not None and (
            not isinstance(self._build, type) or isinstance(found, self._build)
        ):
            return found
        built = self._build(*args, **kwargs)
        self._cache.store(key, built, {id(v): name for name, v in shared.items()})
        return built


def _qualified(thing: Any) -> str:
    return f"{getattr(thing, '__module__', '')}.{getattr(thing, '__qualname__', repr(thing))}"
