"""`tagtrail serve` with its clicks not stored: the ceiling of the click path (issue 21).

    python bench/unstored.py serve [serve's options]

The benchmark's measure of everything a click costs but its commit: the same server, the same
request handling, the same group-commit flow (each click waits for the end of its pass of the
loop, as it waits for its commit), with the commit of click rows skipped. Every other write (a
link, the workspace) is stored as usual. Granian forks its workers from this process, so they
inherit the patch. For measurement only: a 302 from it is not a stored click.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tagtrail.cli import entrypoint
from tagtrail.store.schema import clicks
from tagtrail.store.writer import GroupWriter

_commit = GroupWriter.commit


def _commit_all_but_clicks(self: GroupWriter, parts: Iterable[tuple[Any, Any]]) -> None:
    kept = [(table, rows) for table, rows in parts if table is not clicks]
    if kept:
        _commit(self, kept)


GroupWriter.commit = _commit_all_but_clicks  # type: ignore[method-assign]

if __name__ == "__main__":
    entrypoint()
