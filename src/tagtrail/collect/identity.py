"""The identity graph: anonymous ids, user ids, aliases and recipients merged into identities.

Pure: `resolve(facts)` takes every identity fact seen so far (any order) and returns the whole
graph; the caller stores the mapping and re-resolves when new facts arrive. Merges are
retroactive by construction: an anonymous id identified today maps to the user, so its
touchpoints of last week belong to the user too; two devices whose anonymous ids are identified
with one user id are one identity.

Rules, applied in this order (times are corrected event times; ties by ids):

1. **alias** `previousId → userId`, where `previousId` is a user id (it appears as a `userId`
   in some fact): the two users merge. This is the only way two user ids ever merge.
2. **Identifications**, oldest first: an identify (or any event, or an alias) that carries both
   an `anonymousId` and a `userId`, and an alias whose `previousId` is not a user id (it is an
   anonymous id). An anonymous id belongs to one user: **the first identification wins**; a
   later one naming another user is recorded as a `Conflict` and merges nothing (a shared
   computer, a forwarded email).
3. **Recipients**: a fact that says which user a recipient is (`recipient` with `user_id`: the
   store's recipient row keyed by a user id) attaches the recipient to that user, first wins.
4. **Identity hints** (`verify_hint`), oldest first, after every identification: a valid hint
   from a recipient link identifies the anonymous id *softly*. A hint naming a user identifies
   the anonymous id with that user unless rule 2 already gave it one; a hint naming only a
   recipient joins the anonymous id and the recipient (so an email recipient's click and
   later visits are one person). A hint that would join two different users is a conflict.

An event belongs to its `userId` when it has one (even if its anonymous id belongs to another
user), else to its anonymous id's identity. The identity id of a group is a user id — the one
no alias renamed away (the alias target), else the first seen — or `anon:<id>` for a visitor
never identified, `recipient:<id>` for a recipient seen only on clicks, and `visitor:<hash>`
for an anonymous click.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Literal, TypeAlias

from tagtrail.clicks.tokens import IdentityHints
from tagtrail.collect.normalize import NormalizedEvent, as_utc
from tagtrail.collect.touchpoints import Touchpoint

__all__ = [
    "Conflict",
    "FactKind",
    "IdentityFact",
    "IdentityGraph",
    "fact_of",
    "resolve",
    "verify_hint",
]

FactKind: TypeAlias = Literal["identify", "alias", "event", "hint", "recipient"]
_Node: TypeAlias = tuple[str, str]  # ("user" | "anon" | "recipient", id)


@dataclass(frozen=True, slots=True)
class IdentityFact:
    """What one event says about identity (`fact_of`, `verify_hint`, or a click's recipient)."""

    kind: FactKind
    timestamp: datetime
    anonymous_id: str | None = None
    user_id: str | None = None
    previous_id: str | None = None
    recipient: str | None = None


@dataclass(frozen=True, slots=True, order=True)
class Conflict:
    """A merge refused: `id` (an anonymous id or recipient) stays with `kept`, not `refused`."""

    timestamp: datetime
    kind: Literal["anonymous", "recipient"]
    id: str
    kept: str
    refused: str
    fact: FactKind


def fact_of(event: NormalizedEvent) -> IdentityFact | None:
    """The identity fact of a normalised event (None for an event with no id at all)."""
    if event.type == "alias":
        return IdentityFact(
            "alias", event.timestamp, event.anonymous_id, event.user_id, event.previous_id
        )
    if event.anonymous_id is None and event.user_id is None:
        return None
    kind: FactKind = "identify" if event.type == "identify" else "event"
    return IdentityFact(kind, event.timestamp, event.anonymous_id, event.user_id)


def verify_hint(
    hints: IdentityHints,
    hint: str | None,
    *,
    workspace: str,
    now: datetime,
    anonymous_id: str,
    timestamp: datetime,
    users: Mapping[str, str] | None = None,
) -> IdentityFact | None:
    """A `hint` fact when `hint` (a landing page's `tt_hint`) is valid at `now`, else None.

    `users` maps recipient public ids to user ids for recipients the store knows as users (a
    recipient given as an email has none). Never raises.
    """
    if not hint or not anonymous_id:
        return None
    recipient = hints.verify(hint, workspace, now)
    if recipient is None:
        return None
    user = (users or {}).get(recipient)
    return IdentityFact("hint", timestamp, anonymous_id, user, None, recipient)


class _UnionFind:
    """Union-find with path compression; a component knows its user root, if it has users."""

    __slots__ = ("parent", "user")

    def __init__(self) -> None:
        self.parent: dict[_Node, _Node] = {}
        self.user: dict[_Node, _Node] = {}  # component root → root of its user group

    def add(self, node: _Node) -> None:
        if node not in self.parent:
            self.parent[node] = node
            if node[0] == "user":
                self.user[node] = node

    def find(self, node: _Node) -> _Node:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:  # path compression
            self.parent[node], node = root, self.parent[node]
        return root

    def join(self, a: _Node, b: _Node, *, force: bool = False) -> bool:
        """Merge a's and b's groups; refused (False) when both hold different users."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        ua, ub = self.user.get(ra), self.user.get(rb)
        if ua is not None and ub is not None and not force:
            return False
        self.parent[rb] = ra
        found = ua if ua is not None else ub
        self.user.pop(rb, None)
        if found is not None:
            self.user[ra] = found
        return True


@dataclass(frozen=True, slots=True)
class IdentityGraph:
    """Every known id → its identity id, and the merges refused."""

    users: Mapping[str, str]
    anonymous: Mapping[str, str]
    recipients: Mapping[str, str]
    conflicts: tuple[Conflict, ...] = ()

    def identity_of(
        self,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        recipient: str | None = None,
        visitor: str | None = None,
    ) -> str | None:
        """The identity of something with these ids (the user id first); None with no id."""
        if user_id:
            return self.users.get(user_id, user_id)
        if anonymous_id:
            return self.anonymous.get(anonymous_id, f"anon:{anonymous_id}")
        if recipient:
            return self.recipients.get(recipient, f"recipient:{recipient}")
        if visitor:
            return f"visitor:{visitor}"
        return None

    def of_event(self, event: NormalizedEvent) -> str | None:
        return self.identity_of(user_id=event.user_id, anonymous_id=event.anonymous_id)

    def of_touchpoint(self, touch: Touchpoint) -> str | None:
        return self.identity_of(
            user_id=touch.user_id,
            anonymous_id=touch.anonymous_id,
            recipient=touch.recipient,
            visitor=touch.visitor,
        )


def _order(fact: IdentityFact) -> tuple[datetime, str, str, str, str, str]:
    return (
        as_utc(fact.timestamp),
        fact.kind,
        fact.anonymous_id or "",
        fact.user_id or "",
        fact.previous_id or "",
        fact.recipient or "",
    )


def _canonical(members: list[_Node], first: dict[_Node, datetime], renamed: set[str]) -> str:
    def oldest(nodes: list[_Node]) -> _Node:
        return min(nodes, key=lambda n: (first[n], n[1]))

    users = [n for n in members if n[0] == "user"]
    if users:
        kept = [n for n in users if n[1] not in renamed]
        return oldest(kept or users)[1]
    anons = [n for n in members if n[0] == "anon"]
    node = oldest(anons) if anons else oldest(members)
    return f"{node[0]}:{node[1]}"


def resolve(facts: Iterable[IdentityFact]) -> IdentityGraph:
    """The identity graph of `facts`; the same set of facts in any order gives the same graph."""
    ordered = sorted(set(facts), key=_order)
    user_ids = {f.user_id for f in ordered if f.user_id}
    groups = _UnionFind()
    first: dict[_Node, datetime] = {}

    def node(kind: str, value: str, when: datetime) -> _Node:
        key = (kind, value)
        groups.add(key)
        first[key] = min(first.get(key, when), when)
        return key

    for f in ordered:  # every id is a node, even when nothing links it
        when = as_utc(f.timestamp)
        for kind, value in (
            ("user", f.user_id),
            ("anon", f.anonymous_id),
            ("recipient", f.recipient),
        ):
            if value:
                node(kind, value, when)
        if f.previous_id:
            node("user" if f.previous_id in user_ids else "anon", f.previous_id, when)

    renamed: set[str] = set()
    for f in ordered:  # rule 1: user → user aliases always merge
        if f.kind == "alias" and f.previous_id in user_ids and f.user_id:
            groups.join(("user", f.user_id), ("user", f.previous_id), force=True)
            if f.previous_id != f.user_id:
                renamed.add(f.previous_id)

    refused: list[tuple[datetime, _Node, _Node, FactKind]] = []

    def link(a: _Node, b: _Node, f: IdentityFact) -> None:
        if not groups.join(b, a):
            refused.append((as_utc(f.timestamp), a, b, f.kind))

    for f in ordered:  # rule 2: identifications, oldest first
        if f.kind in ("identify", "event", "alias") and f.user_id:
            if f.anonymous_id:
                link(("anon", f.anonymous_id), ("user", f.user_id), f)
            if f.kind == "alias" and f.previous_id and f.previous_id not in user_ids:
                link(("anon", f.previous_id), ("user", f.user_id), f)
    for f in ordered:  # rule 3: recipients that are users
        if f.kind in ("recipient", "hint") and f.recipient and f.user_id:
            link(("recipient", f.recipient), ("user", f.user_id), f)
    for f in ordered:  # rule 4: identity hints
        if f.kind == "hint" and f.anonymous_id and (f.user_id or f.recipient):
            other = ("user", f.user_id) if f.user_id else ("recipient", str(f.recipient))
            link(("anon", f.anonymous_id), other, f)

    members: dict[_Node, list[_Node]] = {}
    for key in groups.parent:
        members.setdefault(groups.find(key), []).append(key)
    names = {root: _canonical(nodes, first, renamed) for root, nodes in members.items()}
    by_kind: dict[str, dict[str, str]] = {"user": {}, "anon": {}, "recipient": {}}
    for key in groups.parent:
        by_kind[key[0]][key[1]] = names[groups.find(key)]
    conflicts: dict[tuple[str, str, str], Conflict] = {}
    for when, a, b, fact in refused:
        what: Literal["anonymous", "recipient"] = "anonymous" if a[0] == "anon" else "recipient"
        conflict = Conflict(when, what, a[1], names[groups.find(a)], names[groups.find(b)], fact)
        conflicts.setdefault((what, conflict.id, conflict.refused), conflict)
    return IdentityGraph(
        users=MappingProxyType(by_kind["user"]),
        anonymous=MappingProxyType(by_kind["anon"]),
        recipients=MappingProxyType(by_kind["recipient"]),
        conflicts=tuple(sorted(conflicts.values())),
    )
