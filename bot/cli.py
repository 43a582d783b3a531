"""The `pmadvice` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.app import (
    DatabaseNotReady,
    DatabaseUnavailable,
    StartupError,
    background_services,
    build_runtime,
    configure_logging,
    http_listener,
    known_secrets,
    load_factory,
    nudge_engine,
    nudge_grace,
    nudge_scheduler,
    open_library,
    serve,
    start_listener,
    watch_readiness,
    web_routes,
)
from bot.core.library import merge
from bot.core.models import Actor, Platform
from bot.core.ranking import Explanation
from bot.settings import Settings, SettingsError, load_settings

DEFAULT_WEB_PORT = 8765
"""`pmadvice web` without PMADVICE_HTTP_PORT; `make run` serves the console's pages here too."""
if TYPE_CHECKING:
    from rich.console import Console

log = logging.getLogger(__name__)

SLACK_HTTP_PORT = 3000
"""Where Slack's HTTP mode listens when neither --port nor PMADVICE_HTTP_PORT says."""

FIRST_TICK_TIMEOUT = 10.0
"""Seconds the console waits for its first nudge tick before showing the prompt anyway."""


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(argv) if argv is not None else sys.argv[1:]
    parser = _parser()
    args = parser.parse_args(arguments)
    if not hasattr(args, "run"):
        args = parser.parse_args(["run", *arguments])
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    level = settings.log_level if not getattr(args, "quiet_logs", False) else "WARNING"
    configure_logging(level, settings.log_format, known_secrets(settings))
    try:
        result: int = args.run(args, settings)
    except (DatabaseNotReady, DatabaseUnavailable, StartupError) as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        # The YAML loader is imported only by commands that parse the knowledge base.
        from bot.catalog import KnowledgeError

        if not isinstance(error, KnowledgeError):
            raise
        print(
            f"PMADVICE_KNOWLEDGE_DIR: the knowledge base at {settings.knowledge_dir} has "
            f"problems; fix them (or point the variable at a valid knowledge folder):\n{error}",
            file=sys.stderr,
        )
        return 2
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pmadvice",
        description="Advice and weekly portfolio exercises for people moving from ops into PM.",
    )
    parser.add_argument("--version", action="version", version=f"pmadvice {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = sub.add_parser("run", help="run the bot (the console when no platform is configured)")
    run.add_argument(
        "platform",
        nargs="?",
        default="auto",
        choices=["auto", "console", "slack", "discord", "all"],
        help="auto (default) serves every platform with credentials, else the console",
    )
    run.add_argument("--http", action="store_true", help="Slack over HTTP instead of Socket Mode")
    run.add_argument(
        "--port",
        type=int,
        default=None,
        help="HTTP port for health, metrics and --http (default PMADVICE_HTTP_PORT; 3000 with "
        "--http)",
    )
    run.set_defaults(run=_run, user=None, mod=False, name="")

    console = sub.add_parser("console", help="talk to the bot in this terminal, no tokens needed")
    _console_options(console)
    console.set_defaults(run=_console)

    search = sub.add_parser("search", help="rank snippets for a question")
    search.add_argument("query", nargs="*")
    search.add_argument("--json", action="store_true", help="one JSON object per query")
    search.add_argument("--limit", type=int, default=3)
    search.add_argument("--stdin", action="store_true", help="read one query per line")
    search.add_argument(
        "--explain", action="store_true", help="show the signals behind each result and decline"
    )
    search.set_defaults(run=_search, quiet_logs=True)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(run=_db_upgrade)
    db_sub.add_parser("current", help="show the applied migration").set_defaults(run=_db_current)

    knowledge = sub.add_parser("knowledge", help="the curated knowledge base")
    k_sub = knowledge.add_subparsers(metavar="ACTION", required=True)
    k_sub.add_parser("check", help="validate knowledge/*.yaml").set_defaults(run=_knowledge_check)
    export = k_sub.add_parser("export", help="write chat changes back into the YAML files")
    export.add_argument("--out", type=Path, default=None, help="knowledge directory to write")
    export.set_defaults(run=_knowledge_export)

    _nudges_parser(sub)

    web_cmd = sub.add_parser("web", help="serve the web library and dashboard alone")
    web_cmd.add_argument("--host", default=None, help="address to bind (PMADVICE_HTTP_HOST)")
    web_cmd.add_argument("--port", type=int, default=None, help="port (PMADVICE_HTTP_PORT)")
    web_cmd.set_defaults(run=_web)
    return parser


def _nudges_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    nudges = sub.add_parser("nudges", help="the weekly nudge deliveries")
    n_sub = nudges.add_subparsers(metavar="ACTION", required=True)
    status = n_sub.add_parser("status", help="what is due, pending, failed and paused")
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(run=_nudges_status, quiet_logs=True)
    once = n_sub.add_parser("run-once", help="one tick now; all due work done before it exits")
    once.add_argument("--dry-run", action="store_true", help="count what is due; send nothing")
    once.add_argument("--json", action="store_true", help="this run's counts as one JSON object")
    once.set_defaults(run=_nudges_run_once, quiet_logs=True)


def _console_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", default=None, help="member id to act as")
    parser.add_argument("--name", default="", help="display name")
    parser.add_argument("--mod", action="store_true", help="act as a moderator")


def _configured_platforms(settings: Settings) -> list[str]:
    platforms = []
    if settings.slack_bot_token is not None or settings.slack_client_id:
        platforms.append("slack")
    if settings.discord_token is not None:
        platforms.append("discord")
    return platforms


def _run(args: argparse.Namespace, settings: Settings) -> int:
    choice: str = args.platform
    if choice == "auto":
        platforms = _configured_platforms(settings)
        if not platforms and not sys.stdin.isatty():
            print(
                "No platform is configured and there is no terminal for the console: set "
                "SLACK_BOT_TOKEN or DISCORD_TOKEN (see .env.example), or run `pmadvice console`.",
                file=sys.stderr,
            )
            return 2
        if not platforms:
            return _console(args, settings)
    elif choice == "console":
        return _console(args, settings)
    elif choice == "all":
        platforms = _configured_platforms(settings)
        if not platforms:
            print(
                "No platform is configured: set SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET or "
                "SLACK_APP_TOKEN) or DISCORD_TOKEN, or run `pmadvice console`.",
                file=sys.stderr,
            )
            return 2
    else:
        platforms = [choice]
    port = args.port
    if port is None and args.http and settings.http_port is None:
        port = SLACK_HTTP_PORT
    options: dict[str, Any] = {"http": args.http, "port": port}
    return asyncio.run(_serve(settings, platforms, options))


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signame in ("SIGINT", "SIGTERM"):
        with contextlib.suppress(NotImplementedError, AttributeError):
            loop.add_signal_handler(getattr(signal, signame), stop.set)


async def _serve(settings: Settings, platforms: list[str], options: dict[str, Any]) -> int:
    from bot.observability.metrics import PrometheusTelemetry
    from bot.observability.probe import DatabaseProbe
    from bot.storage.preflight import lock_sqlite

    stop = asyncio.Event()
    _stop_on_signals(stop)
    lock = lock_sqlite(settings.database_url)
    telemetry = PrometheusTelemetry()
    # Slack's HTTP mode has always listened on all interfaces (PMADVICE_SLACK_HOST) unless
    # PMADVICE_HTTP_HOST says otherwise.
    host = os.environ.get("PMADVICE_SLACK_HOST", "0.0.0.0") if options.get("http") else None
    listener = http_listener(settings, options.get("port"), telemetry.registry, host)
    try:
        async with build_runtime(settings, telemetry=telemetry) as runtime:
            probe = DatabaseProbe(runtime.engine)
            await runtime.facade.warm_up()
            options["listener"] = listener
            services = [await load_factory(name)(runtime, dict(options)) for name in platforms]
            if listener is not None:
                watch_readiness(listener, runtime, probe, services)
                listener.mount(web_routes(runtime))
            await serve(runtime, services, [probe, *background_services(runtime)], stop, listener)
    finally:
        if lock is not None:
            lock.close()
    log.info("stopped")
    return 0


def _console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console_adapter import ConsoleMessenger, ConsoleSession, console_user
    from bot.observability.metrics import PrometheusTelemetry
    from bot.observability.probe import DatabaseProbe
    from bot.storage.preflight import lock_sqlite

    user_id = args.user or settings.console_user
    actor = Actor(
        user=console_user(user_id),
        is_moderator=args.mod or user_id in settings.moderator_ids,
        display_name=args.name or user_id,
    )
    telemetry = PrometheusTelemetry()
    listener = http_listener(settings, getattr(args, "port", None), telemetry.registry)

    async def go() -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        async with build_runtime(settings, telemetry=telemetry) as runtime:
            session = ConsoleSession(runtime.facade.handle, runtime.facade.submit_form, actor)
            # Nudges for console members are delivered by printing them here.
            runtime.facade.register_messenger(
                Platform.CONSOLE.value, ConsoleMessenger(session.console)
            )
            nudges = nudge_scheduler(runtime)
            probe = DatabaseProbe(runtime.engine)
            await runtime.facade.warm_up()
            await nudges.start()
            await probe.start()
            if listener is not None:
                watch_readiness(listener, runtime, probe, [])
                listener.mount(web_routes(runtime))
                await start_listener(listener)
                address = f"http://{listener.host}:{listener.bound_port}"
                runtime.facade.web_links.base = settings.public_url or address
                print(f"Web pages: {address} (moderators: `dashboard` sends a sign-in link)")
            try:
                # Anything that came due while the bot was off shows up before the prompt.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(nudges.first_tick_done.wait(), FIRST_TICK_TIMEOUT)
                await _until_stopped(session.run(sys.stdin), stop)
            finally:
                if listener is not None:
                    await listener.stop()
                await probe.stop()
                await nudges.stop()

    lock = lock_sqlite(settings.database_url)
    try:
        asyncio.run(go())
    finally:
        if lock is not None:
            lock.close()
    return 0


async def _until_stopped(work: Any, stop: asyncio.Event) -> None:
    """Run `work` until it ends or a signal asks us to stop (the reply in flight finishes
    first: the session is cancelled only between lines, while it waits for input)."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    else:
        task.result()


def _web(args: argparse.Namespace, settings: Settings) -> int:
    port = args.port if args.port is not None else (settings.http_port or DEFAULT_WEB_PORT)
    listener = http_listener(settings, port, host=args.host)
    assert listener is not None

    async def go() -> int:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        async with build_runtime(settings) as runtime:
            listener.mount(web_routes(runtime))
            try:
                await start_listener(listener)
            except StartupError as error:
                print(error, file=sys.stderr)
                return 2
            address = f"http://{listener.host}:{listener.bound_port}"
            runtime.facade.web_links.base = settings.public_url or address
            print(f"Serving the web pages on {address}", flush=True)
            try:
                await stop.wait()
            finally:
                await listener.stop()
        return 0

    return asyncio.run(go())


def _search(args: argparse.Namespace, settings: Settings) -> int:
    queries = [line.rstrip("\n") for line in sys.stdin] if args.stdin else [" ".join(args.query)]
    limit = max(1, min(args.limit, 50))

    async def go() -> None:
        async with open_library(settings) as library:
            index = (await library.state()).index
            for query in queries:
                if args.explain:
                    print(format_explanation(index.explain(query, limit=limit)))
                    continue
                result = index.search(query, limit=limit)
                if args.json:
                    print(json.dumps({
                        "query": query,
                        "results": [
                            {"id": h.snippet.id, "title": h.snippet.title,
                             "topics": list(h.snippet.topics), "score": h.score}
                            for h in result.hits
                        ],
                    }, ensure_ascii=False))  # fmt: skip
                elif result.declined:
                    print(f"{query}\n  (no confident match)")
                else:
                    print(query)
                    for hit in result.hits:
                        print(f"  {hit.score:.3f}  {hit.snippet.id}  {hit.snippet.title}")

    asyncio.run(go())
    return 0


def format_explanation(found: Explanation) -> str:
    """A plain-text account of why a query was answered or declined."""
    lines = [f"query: {found.query}"]
    if found.question_part:
        lines.append(f"  question part of a long message: {found.question_part}")
    lines.append(f"  terms: {' '.join(found.terms) or '(none)'}")
    if found.corrections:
        fixes = ", ".join(f"{c.typed} -> {c.meant}" for c in found.corrections)
        lines.append(f"  typos corrected: {fixes}")
    if found.unknown:
        lines.append(f"  words the index does not know: {' '.join(found.unknown)}")
    if found.backgrounds:
        lines.append(f"  background named: {', '.join(found.backgrounds)}")
    lines.append(f"  semantic model: {found.encoder}")
    vocabulary = "uses the field's vocabulary" if found.domain else "no word of the field"
    lines.append(f"  question: {vocabulary}; {found.known:.0%} of its words are in the base")
    if found.aim.product or found.aim.elsewhere:
        heading = [*(["product management"] if found.aim.product else []), *found.aim.elsewhere]
        lines.append(f"  career named as the aim: {', '.join(heading)}")
    if found.scope is not None:
        lines.append(
            f"  scope: {found.scope:.2f} chance it is about moving into product; closeness to "
            f"out-of-scope questions {found.outside:.3f} (nearest: {found.nearest_outside})"
        )
    if found.term_scope is not None:
        lines.append(f"  scope from its words alone: {found.term_scope:.2f}")
    lines.append(f"  decision: {found.reason}")
    for rank, hit in enumerate(found.hits, 1):
        lines.append(
            f"  {rank}. {hit.snippet.id}  score {hit.score:.3f}  chance {hit.answerability:.2f}"
        )
        lines.append(
            f"     lexical {hit.lexical:.3f} (bm25 {hit.bm25:.2f}, title/topic/question "
            f"coverage {hit.strong:.2f}, best example question {hit.question:.2f}; "
            f"{hit.part} message)"
        )
        lines.append(f"     semantic {hit.semantic:.3f} via {hit.semantic_field or '-'}")
        extras = []
        if hit.audience:
            extras.append(f"audience match: {', '.join(hit.audience)}")
        if hit.prior != 1.0:
            extras.append(f"feedback prior x{hit.prior:.3f}")
        if extras:
            lines.append(f"     {'; '.join(extras)}")
    return "\n".join(lines)


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.migrate import current, upgrade

    with _database_faults(settings.database_url):
        upgrade(settings.database_url)
        print(f"Database is at migration {current(settings.database_url)}.")
    return 0


@contextlib.contextmanager
def _database_faults(url: str) -> Any:
    """Turn a database that cannot be reached or written into one line naming the setting."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.storage.preflight import check_sqlite_writable, unreachable

    check_sqlite_writable(url)
    try:
        yield
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        raise unreachable(url, error) from None


def _db_current(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.migrate import current, head

    with _database_faults(settings.database_url):
        have, want = current(settings.database_url), head()
    state = "up to date" if have == want else f"behind (latest is {want})"
    print(f"{have or 'empty'}: {state}")
    return 0 if have == want else 1


def _knowledge_check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.catalog import load_knowledge

    knowledge = load_knowledge(settings.knowledge_dir)
    print(
        f"OK: {len(knowledge.snippets)} snippets, {len(knowledge.exercises)} exercises, "
        f"{len(knowledge.topics)} topics in {settings.knowledge_dir}"
    )
    return 0


def _knowledge_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.catalog import ExportPlan, export_to_directory

    root: Path = args.out or settings.knowledge_dir
    if not (root / "snippets").is_dir():
        # A fresh folder: start from the knowledge base the bot runs on.
        shutil.copytree(settings.knowledge_dir, root, dirs_exist_ok=True)

    async def go() -> ExportPlan:
        async with build_runtime(settings, warm=False) as runtime:
            revisions = await runtime.repositories.revisions.latest()
            in_force = merge(runtime.knowledge.snippets, revisions).overrides
            return export_to_directory(root, list(in_force.values()))

    try:
        if root.resolve() != settings.knowledge_dir.resolve() and not (root / "snippets").is_dir():
            # A fresh folder (e.g. on the data volume) starts as a copy of the running base.
            shutil.copytree(settings.knowledge_dir, root, dirs_exist_ok=True)
        plan = asyncio.run(go())
    except PermissionError as error:
        where = "--out" if args.out else "PMADVICE_KNOWLEDGE_DIR"
        print(
            f"{where}: cannot write {error.filename or root} (permission denied); export to a "
            "writable folder, e.g. `pmadvice knowledge export --out /data/knowledge`.",
            file=sys.stderr,
        )
        return 2
    if not plan.files:
        print("No chat changes to export: the YAML already carries them.")
    for name in sorted(plan.files):
        print(f"wrote {root / name}")
    for snippet_id in plan.conflicts:
        print(
            f"left out {snippet_id}: git changed it after the chat change; settle it with "
            f"`history {snippet_id}` in chat",
            file=sys.stderr,
        )
    return 0


def _nudges_status(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> dict[str, object]:
        async with build_runtime(settings, warm=False) as runtime:
            now = runtime.clock.now()
            grace = nudge_grace(settings)
            seen = await runtime.deliveries.overview(now, now - grace)
        next_tick = None if seen.next_due_at is None else max(seen.next_due_at, now)
        return {
            "due_now": seen.subscriptions_due + seen.deliveries_due,
            "pending": seen.pending,
            "retrying": seen.retrying,
            "sending": seen.sending,
            "failed": seen.failed,
            "paused": seen.paused,
            "next_tick": None if next_tick is None else next_tick.isoformat(),
        }

    status = asyncio.run(go())
    if args.json:
        print(json.dumps(status))
        return 0
    print(
        f"Due now: {status['due_now']}. Pending: {status['pending']}, retrying: "
        f"{status['retrying']}, in flight: {status['sending']}, failed: {status['failed']}. "
        f"Paused subscriptions: {status['paused']}."
    )
    print(f"Next tick with work: {status['next_tick'] or 'none scheduled'}.")
    return 0


def _nudges_run_once(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> dict[str, int]:
        async with build_runtime(settings, warm=False) as runtime:
            # Only console members can be reached from here; the others stay pending for the
            # bot processes that run their platforms. With --json, DMs go to stderr.
            from bot.console_adapter import ConsoleMessenger, terminal

            shown = _stderr_console() if args.json else terminal()
            runtime.facade.register_messenger(Platform.CONSOLE.value, ConsoleMessenger(shown))
            engine = nudge_engine(runtime)
            report = await (engine.preview() if args.dry_run else engine.tick())
            return report.as_dict()

    counts = asyncio.run(go())
    if args.json:
        print(json.dumps(counts))
        return 0
    if args.dry_run:
        print(
            f"Due now: {counts['due']} (dry run, nothing sent). Missed weeks that would be "
            f"skipped: {counts['skipped']}."
        )
        return 0
    print(
        f"Due: {counts['due']}. Sent {counts['sent']}, retrying {counts['retrying']}, failed "
        f"{counts['failed']}. Missed weeks skipped: {counts['skipped']}."
    )
    return 0


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr, highlight=False, soft_wrap=True)
