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

import duckdb

from tagtrail.lift.statistics import Group

_FIRST = """
CREATE OR REPLACE TEMP TABLE lift_first AS
SELECT recipient, min(sent_at) AS first_send, arg_min(held_out, sent_at) AS held_out,
       bool_or(held_out) <> bool_and(held_out) AS mixed
FROM lift_sends GROUP BY recipient
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
SELECT held_out, count(*), count(*) FILTER (WHERE conversions > 0), sum(value),
       sum(value * value), count(*) FILTER (WHERE mixed),
       count(*) FILTER (WHERE first_send + to_seconds(CAST($window AS BIGINT)) > $data_end),
       min(first_send), max(first_send)
FROM lift_outcome GROUP BY held_out
"""

# Converters by whole days from their first send to their first conversion in the window.
_DAYS = """
SELECT held_out, CAST(floor(epoch(first_ts - first_send) / 86400) AS BIGINT) AS day, count(*)
FROM lift_outcome WHERE conversions > 0 GROUP BY ALL ORDER BY ALL
"""


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


def compute_outcome(con: duckdb.DuckDBPyConnection, *, window: int, data_end: datetime) -> Outcome:
    """Fold `lift_sends` and `lift_conversions` into the two groups (`window` in seconds);
    leaves `lift_outcome` (one row per recipient) for the caller's attribution run."""
    con.execute(_FIRST)
    con.execute(_CONVERTED, {"window": window})
    con.execute(_OUTCOME)
    rows = con.execute(_GROUPS, {"window": window, "data_end": data_end}).fetchall()
    groups = {bool(r[0]): r for r in rows}
    days = max(1, math.ceil(window / 86_400))
    by_day = {"treatment": [0] * days, "control": [0] * days}
    for held_out, day, count in con.execute(_DAYS).fetchall():
        by_day["control" if held_out else "treatment"][min(int(day), days - 1)] += int(count)

    def group(held_out: bool) -> Group:
        r = groups.get(held_out)
        if r is None:
            return Group(0, 0, 0.0, 0.0)
        return Group(int(r[1]), int(r[2]), float(r[3]), float(r[4]))

    starts = [r[7] for r in rows if r[7] is not None]
    return Outcome(
        treatment=group(False),
        control=group(True),
        mixed=sum(int(r[5]) for r in rows),
        pending=sum(int(r[6]) for r in rows),
        first_send=min(starts) if starts else None,
        converters_by_day=by_day,
    )
