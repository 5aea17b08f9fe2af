"""What a server process holds between requests: the store, the writer, and the caches."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Concatenate, Literal, ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy import Engine

from tagtrail.clicks import BotRules, IdentityHints, RecipientTokens
from tagtrail.server.api.limits import AuthFailures
from tagtrail.service import keys
from tagtrail.service.links import ResolvedLink, links_version, resolve
from tagtrail.service.recipients import Recipient, find_recipient, hash_phone_recipients
from tagtrail.settings import Settings
from tagtrail.store.database import prepare_store
from tagtrail.store.journal import JournalClient
from tagtrail.store.loop_writer import LoopWriter
from tagtrail.store.writer import WriteQueue, Writes

logger = logging.getLogger(__name__)
_MAX_CACHED = 100_000
P = ParamSpec("P")
T = TypeVar("T")


class LinkCache:
    """code → link (or None for unknown codes), cleared whenever the store's links version
    changes, which every process checks every `poll_seconds` (so a change made through another
    process, or the CLI, is seen within that time; a change made here is seen at once)."""

    def __init__(self, engine: Engine, poll_seconds: float) -> None:
        self._engine = engine
        self._poll = poll_seconds
        self._links: dict[str, ResolvedLink | None] = {}
        self._version = -1

    def cached(self, code: str) -> ResolvedLink | None | Literal[False]:
        """The link if it is cached (None: cached as unknown), else False: then call `get`.
        A hit needs no coroutine, which counts on the redirect's hot path."""
        return self._links.get(code, False)

    async def get(self, code: str) -> ResolvedLink | None:
        try:
            return self._links[code]
        except KeyError:
            pass
        link = await anyio.to_thread.run_sync(resolve, self._engine, code)
        if len(self._links) >= _MAX_CACHED:
            self._links.clear()
        self._links[code] = link
        return link

    def invalidate(self) -> None:
        self._links.clear()

    async def watch(self) -> None:
        while True:
            try:
                version = await anyio.to_thread.run_sync(links_version, self._engine)
                if version != self._version:
                    self._version = version
                    self._links.clear()
            except Exception:  # keep serving from the cache if the store blinks
                logger.warning("could not read the links version", exc_info=True)
            await asyncio.sleep(self._poll)


class RecentClicks:
    """Per process: which links of one message a visitor clicked in the last `window` s.

    Each key keeps only the last time of each distinct link, so a visitor who clicks one link
    a thousand times costs one entry, not a thousand.
    """

    def __init__(self, window: float = 2.0) -> None:
        self._window = window
        self._seen: dict[tuple[object, ...], dict[int, float]] = {}

    def record(self, key: tuple[object, ...], link_id: int) -> int:
        """Remember this click; return how many *other* distinct links the key hit lately."""
        now = time.monotonic()
        links = self._seen.get(key)
        if links is None:
            if len(self._seen) >= _MAX_CACHED:
                self._forget_old(now)
            self._seen[key] = {link_id: now}
            return 0
        if len(links) == 1 and link_id in links:  # this link again, the usual case
            links[link_id] = now
            return 0
        others = 0
        for other, at in list(links.items()):
            if now - at > self._window:
                del links[other]
            elif other != link_id:
                others += 1
        links[link_id] = now
        return others

    def _forget_old(self, now: float) -> None:
        self._seen = {
            key: links
            for key, links in self._seen.items()
            if any(now - at <= self._window for at in links.values())
        }


class ServerState:
    """Built by `create_app`; opened by the app's lifespan."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.secret = settings.secret()
        self.tokens = RecipientTokens([self.secret])
        self.hints = IdentityHints([self.secret])
        self.bot_rules = BotRules(fast_click_seconds=settings.fast_click_seconds)
        self.origin = settings.public_origin
        self.recent = RecentClicks()
        self.auth_failures = AuthFailures(
            settings.auth_failure_limit, settings.auth_failure_window_seconds
        )
        self._recipients: dict[str, Recipient | None] = {}
        self._engine: Engine | None = None
        self._writer: Writes | None = None
        self._cache: LinkCache | None = None
        self.times_as_text = False

    @property
    def engine(self) -> Engine:
        assert self._engine is not None, "the app's lifespan has not started"
        return self._engine

    @property
    def writer(self) -> Writes:
        assert self._writer is not None, "the app's lifespan has not started"
        return self._writer

    @property
    def cache(self) -> LinkCache:
        assert self._cache is not None, "the app's lifespan has not started"
        return self._cache

    def write(
        self, fn: Callable[Concatenate[Engine, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """From a route's worker thread: run the service write `fn(engine, *args, **kwargs)` on
        the writer (`Writes.call`, with clicks and events) and return its result."""

        async def call() -> T:
            return await self.writer.call(fn, *args, **kwargs)

        return anyio.from_thread.run(call)

    async def recipient(self, public_id: str) -> Recipient | None:
        try:
            return self._recipients[public_id]
        except KeyError:
            pass
        found = await anyio.to_thread.run_sync(find_recipient, self.engine, public_id)
        if found is not None:  # unknown ids are not cached: they may be created any moment
            if len(self._recipients) >= _MAX_CACHED:
                self._recipients.clear()
            self._recipients[public_id] = found
        return found

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        settings = self.settings
        self._engine = await anyio.to_thread.run_sync(
            lambda: prepare_store(
                settings.store_url, sqlite_synchronous=settings.sqlite_synchronous
            )
        )
        # SQLite keeps times as text: rows given as `Values` carry them so (`store_time`).
        self.times_as_text = self.engine.dialect.name == "sqlite"
        await anyio.to_thread.run_sync(
            lambda: keys.ensure_workspace(self.engine, now=datetime.now(UTC).replace(tzinfo=None))
        )
        await anyio.to_thread.run_sync(hash_phone_recipients, self.engine, self.secret)
        if settings.journal_socket:
            journal = JournalClient(settings.journal_socket)
            await journal.connect()
            self._writer = journal
        elif settings.commits_in == "loop":
            on_loop = LoopWriter(self.engine, batch=settings.commit_batch)
            on_loop.start()
            self._writer = on_loop
        else:
            queue = WriteQueue(self.engine, batch=settings.commit_batch)
            queue.start()
            self._writer = queue
        self._cache = LinkCache(self.engine, settings.cache_poll_seconds)
        watcher = asyncio.create_task(self._cache.watch())
        # Everything made so far lives as long as the process: keep it out of the collector's
        # full passes, which otherwise pause every request for ~50 ms every few seconds.
        gc.collect()
        gc.freeze()
        # A /v1/batch of 100 events makes ~1,000 short-lived dicts: with the default threshold
        # of 700 that is a young-generation pass per request (~1 µs per event in all).
        gc.set_threshold(10_000, 50, 100)
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await self._writer.close()
            self.engine.dispose()
