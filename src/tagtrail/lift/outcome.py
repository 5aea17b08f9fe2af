"""Who converted (DESIGN §10 "Outcome"), in DuckDB, from two tables the caller fills.

`lift_sends(recipient VARCHAR, sent_at TIMESTAMP, held_out BOOLEAN)`: one campaign's sends, held-out
ones included; `lift_conversions(recipient VARCHAR, ts TIMESTAMP, value DOUBLE)`: the goal's
conversions. A recipient's time anchor is their first send of the campaign and their group that
send's; they convert when a conversion falls in [first send, first send + window]. Their value is
the sum of the values of those conversions. Times are naive UTC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from tagtrail.lift.statistics import Group

# Each recipient's first send, its group (of two first sends in the same second, the treated
# one's: the recipient was exposed), and whether their sends disagree on held_out.
_FIRST_OF = """
SELECT recipient, min(sent_at) AS first_send, arg_min(held_out, (sent_at, held_out)) AS held_out,
       bool_or(held_out) <> bool_and(held_out) AS mixed
FROM {sends} GROUP BY recipient
"""

_FIRST = f"CREATE OR REPLACE TEMP TABLE lift_first AS {_FIRST_OF.format(sends='lift_sends')}"

# Recipients by group; pending: their window ends after the data does.
_TOTALS = """
SELECT held_out, count(*), count(*) FILTER (WHERE mixed),
       count(*) FILTER (WHERE first_send + to_seconds(CAST($window AS BIGINT)) > $data_end),
       min(first_send)
FROM ({first}) GROUP BY held_out
"""

# Only the converters are grouped by recipient; everybody else is a row of `lift_first`.
_CONVERTED = """
CREATE OR REPLACE TEMP TABLE lift_converted AS
SELECT f.recipient, count(*) AS conversions, sum(c.value) AS value, min(c.ts) AS first_ts
FROM lift_conversions c JOIN lift_first f USING (recipient)
WHERE c.ts >= f.first_send AND c.ts <= f.first_send + to_seconds(CAST($window AS BIGINT))
GROUP BY f.recipient
"""

# A table, not a view: the groups, the curves and the attribution each read it.
_OUTCOME = """
CREATE OR REPLACE TEMP TABLE lift_outcome AS
SELECT f.recipient, f.first_send, f.held_out, f.mixed, coalesce(v.conversions, 0) AS conversions,
       coalesce(v.value, 0.0) AS value, v.first_ts
FROM lift_first f LEFT JOIN lift_converted v USING (recipient)
"""

_GROUPS = """
SELECT held_out, count(*), sum(value), sum(value * value) FROM lift_outcome
WHERE conversions > 0 GROUP BY held_out
"""

# Converters by whole days from their first send to their first conversion in the window.
_DAYS = """
SELECT held_out, CAST(floor(epoch(first_ts - first_send) / 86400) AS BIGINT) AS day, count(*)
FROM lift_outcome WHERE conversions > 0 GROUP BY ALL ORDER BY ALL
"""


@dataclass(frozen=True, slots=True)
class Totals:
    """The recipients of each group (by their first send), and what the caller warns about."""

    treatment: int
    control: int
    #: recipients whose sends disagree on held_out (their first send's group is used)
    mixed: int
    #: recipients whose window ends after the data does (their outcome may still change)
    pending: int
    first_send: datetime | None

    @classmethod
    def of_rows(cls, rows: list[tuple[Any, ...]]) -> Totals:
        """From rows of (held_out, recipients, mixed, pending, first send)."""
        by_group = {bool(r[0]): int(r[1]) for r in rows}
        starts = [r[4] for r in rows if r[4] is not None]
        return cls(
            treatment=by_group.get(False, 0),
            control=by_group.get(True, 0),
            mixed=sum(int(r[2]) for r in rows),
            pending=sum(int(r[3]) for r in rows),
            first_send=min(starts) if starts else None,
        )

    def __add__(self, other: Totals) -> Totals:
        starts = [s for s in (self.first_send, other.first_send) if s is not None]
        return Totals(
            self.treatment + other.treatment,
            self.control + other.control,
            self.mixed + other.mixed,
            self.pending + other.pending,
            min(starts) if starts else None,
        )


def sends_totals(
    con: duckdb.DuckDBPyConnection, sends: str, *, window: int, data_end: datetime
) -> Totals:
    """The `Totals` of the recipients of the sends table `sends` (all their sends in it)."""
    query = _TOTALS.format(first=_FIRST_OF.format(sends=sends))
    return Totals.of_rows(con.execute(query, {"window": window, "data_end": data_end}).fetchall())


@dataclass(frozen=True, slots=True)
class Outcome:
    """Both groups' counts, and what the caller warns about."""

    treatment: Group
    control: Group
    #: recipients whose sends disagree on held_out (their first send's group is used)
    mixed: int
    #: recipients whose window ends after the data does (their outcome may still change)
    pending: int
    first_send: datetime | None
    #: converters per group by day since send: {"treatment": [day 0, day 1, …], "control": …}
    converters_by_day: dict[str, list[int]]

    @property
    def recipients(self) -> int:
        return self.treatment.recipients + self.control.recipients


def compute_outcome(
    con: duckdb.DuckDBPyConnection,
    *,
    window: int,
    data_end: datetime,
    totals: Totals | None = None,
) -> Outcome:
    """Fold `lift_sends` and `lift_conversions` into the two groups (`window` in seconds);
    leaves `lift_outcome` (one row per recipient of `lift_sends`) for the caller's attribution
    run. `totals`: the groups' recipients when `lift_sends` holds only some of them (every
    send of each recipient that converted, `service.lift_matching`); else counted here."""
    if totals is None:
        totals = sends_totals(con, "lift_sends", window=window, data_end=data_end)
    con.execute(_FIRST)
    con.execute(_CONVERTED, {"window": window})
    con.execute(_OUTCOME)
    groups = {bool(r[0]): r for r in con.execute(_GROUPS).fetchall()}
    days = max(1, math.ceil(window / 86_400))
    by_day = {"treatment": [0] * days, "control": [0] * days}
    for held_out, day, count in con.execute(_DAYS).fetchall():
        by_day["control" if held_out else "treatment"][min(int(day), days - 1)] += int(count)

    def group(held_out: bool, recipients: int) -> Group:
        r = groups.get(held_out)
        if r is None:
            return Group(recipients, 0, 0.0, 0.0)
        return Group(recipients, int(r[1]), float(r[2]), float(r[3]))

    return Outcome(
        treatment=group(False, totals.treatment),
        control=group(True, totals.control),
        mixed=totals.mixed,
        pending=totals.pending,
        first_send=totals.first_send,
        converters_by_day=by_day,
    )
