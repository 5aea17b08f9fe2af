"""The stores the MCP tools act on: the service's backends, opened on first use and kept open.

`Backends` holds a `Target` (the CLI's `--data-dir`/`--database-url` or `--api`/`--key`) and
opens the link backend and the collection backend (`service.backends`) the first
time a tool needs them, so a server whose store is unreachable still starts, lists its tools and
answers every call with the error the CLI would print. Tools run in worker threads; the engine
and the HTTP client are thread-safe, and opening is guarded by a lock.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import asdict
from typing import Any

from tagtrail.service.backends import (
    CollectBackend,
    LocalBackend,
    RemoteBackend,
    Target,
    link_backend,
    utcnow,
)
from tagtrail.service.lift import LiftQuery, lift_document
from tagtrail.service.messages import MessageSpec, create_message, message_stats
from tagtrail.service.stats import campaign_stats


def _announce(line: str) -> None:
    """A new workspace's admin key, on stderr (stdout carries the protocol with stdio)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class Backends:
    def __init__(self, target: Target) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._links: LocalBackend | RemoteBackend | None = None
        self._collect: CollectBackend | None = None

    @property
    def remote(self) -> bool:
        return self.target.api is not None and self.target.key is not None

    def links(self, *, create: bool = False) -> LocalBackend | RemoteBackend:
        """The link backend; a tool that writes (`create`) makes the local store on first use,
        one that reads finds it or says to run `tagtrail init`."""
        with self._lock:
            if self._links is None:
                self._links = link_backend(self.target, _announce, create=create)
            return self._links

    def collect(self) -> CollectBackend:
        with self._lock:
            if self._collect is None:
                self._collect = CollectBackend(self.target, _announce)
            return self._collect

    def campaign_stats(self, name: str) -> dict[str, Any]:
        """What GET /api/campaigns/{name}/stats answers, from either backend."""
        backend = self.links()
        if isinstance(backend, RemoteBackend):
            return backend.client.campaign_stats(name)
        return campaign_stats(backend.engine, backend.workspace_id, name)

    def create_message(self, spec: MessageSpec) -> dict[str, Any]:
        """What POST /api/messages answers (`tagtrail messages create --json`)."""
        backend = self.links()
        if isinstance(backend, RemoteBackend):
            body = {k: v for k, v in asdict(spec).items() if v is not None}
            return backend.client.create_message(body)
        return create_message(
            backend.engine, backend.workspace_id, spec, origin=backend.origin, now=utcnow()
        )

    def message_stats(self, message_id: int) -> dict[str, Any]:
        """What GET /api/messages/{id}/stats answers (`tagtrail messages stats --json`)."""
        backend = self.links()
        if isinstance(backend, RemoteBackend):
            return backend.client.message_stats(message_id)
        secret = backend.settings.secret()
        return message_stats(
            backend.engine, backend.workspace_id, message_id, secret=secret, admin=True
        )

    def campaign_lift(self, query: LiftQuery) -> dict[str, Any]:
        """What GET /api/campaigns/{name}/lift answers (DESIGN §10), from either backend."""
        backend = self.links()
        if isinstance(backend, RemoteBackend):
            return backend.client.campaign_lift(query.campaign, query.params())
        secret = backend.settings.secret()
        return lift_document(backend.engine, backend.workspace_id, secret, query, now=utcnow())

    def close(self) -> None:
        with self._lock:
            if self._links is not None:
                self._links.close()
                self._links = None
            if self._collect is not None:
                self._collect.close()
                self._collect = None
