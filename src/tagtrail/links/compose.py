"""Short-link destinations: default UTMs layered under the destination's own (DESIGN §6)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from tagtrail.links.build import BuildResult, build_from
from tagtrail.links.destination import Destination, parse_destination
from tagtrail.links.policy import NamingPolicy


def compose_destination(
    destination: str,
    layers: Sequence[Mapping[str, str]],
    *,
    policy: NamingPolicy | None = None,
) -> BuildResult:
    """Build `destination` with default UTMs from `layers`, lowest precedence first.

    A later layer wins over an earlier one (workspace, then campaign, then link), and the
    destination's own `utm_*` parameters win over all of them.
    """
    merged: dict[str, str] = {}
    for layer in layers:
        merged.update({k: v for k, v in layer.items() if v})
    parsed = parse_destination(destination)
    own = {name for name, _ in parsed.existing} if isinstance(parsed, Destination) else set()
    return build_from(destination, {k: v for k, v in merged.items() if k not in own}, policy=policy)


def append_query(url: str, pieces: Iterable[str]) -> str:
    """`url` with query `pieces` added after its own (before any fragment)."""
    extra = "&".join(p for p in pieces if p)
    if not extra:
        return url
    base, hash_, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    if base.endswith(("?", "&")):
        joiner = ""
    return f"{base}{joiner}{extra}{hash_}{fragment}"
