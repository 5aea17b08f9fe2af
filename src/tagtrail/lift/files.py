"""`tagtrail lift --sends --events`: read the two files into DuckDB's lift tables.

Sends: CSV `recipient,campaign,message,sent_at,held_out` (`held_out` `true`/`false`; `message`
optional). Events: the DESIGN §7 file (CSV or Parquet) with `user_id` = recipient; every
conversion row counts as the goal. Every bad sends row is refused with its line number; the
events file is read as the attribution engine reads it (a malformed row is skipped).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from tagtrail.attribution.duckdb_engine import COLUMNS, csv_header
from tagtrail.errors import InvalidInput, NotFound

SENDS_COLUMNS = ("recipient", "campaign", "message", "sent_at", "held_out")
_REQUIRED = ("recipient", "campaign", "sent_at", "held_out")
_MAX_REPORTED = 5


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _csv(path: Path) -> str:
    columns = ", ".join(f"{_quote(c)}: 'VARCHAR'" for c in csv_header(path))
    return (
        f"read_csv({_quote(str(path))}, header = true, delim = ',', quote = '\"', "
        f"escape = '\"', columns = {{{columns}}})"
    )


def _events_source(path: Path) -> str:
    if path.suffix.lower() in (".parquet", ".pq"):
        return f"read_parquet({_quote(str(path))})"
    return _csv(path)


_SEND_ROWS = """
CREATE OR REPLACE TEMP TABLE lift_send_rows AS
SELECT trim(recipient) AS recipient, trim(coalesce(campaign, '')) AS campaign,
       TRY_CAST(TRY_CAST(trim(sent_at) AS TIMESTAMPTZ) AS TIMESTAMP) AS sent_at,
       CASE lower(trim(coalesce(held_out, ''))) WHEN 'true' THEN true WHEN 'false' THEN false
       END AS held_out, held_out AS held_out_text, sent_at AS sent_at_text
FROM {source}
"""

_SEND_PROBLEMS = """
SELECT rowid + 2 AS line, CASE
  WHEN recipient IS NULL OR recipient = '' THEN 'recipient is empty'
  WHEN sent_at IS NULL THEN 'sent_at ' || coalesce('''' || sent_at_text || '''', 'empty')
    || ' is not an ISO 8601 time'
  WHEN held_out IS NULL THEN 'held_out ' || coalesce('''' || held_out_text || '''', 'empty')
    || ' is not a boolean'
END AS problem
FROM lift_send_rows WHERE problem IS NOT NULL ORDER BY line
"""


def load_sends(con: duckdb.DuckDBPyConnection, path: Path, campaign: str) -> None:
    """Fill `lift_sends` with the campaign's sends; refuse the file if any row is bad."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", hint="pass a sends CSV")
    missing = [c for c in _REQUIRED if c not in csv_header(path)]
    if missing:
        raise InvalidInput(
            f"{path}: missing column(s) {', '.join(missing)}",
            hint="the header is " + ",".join(SENDS_COLUMNS),
        )
    try:
        con.execute(_SEND_ROWS.format(source=_csv(path)))
    except duckdb.Error as exc:
        raise InvalidInput(f"{path}: cannot read sends: {exc}") from exc
    problems = con.execute(_SEND_PROBLEMS).fetchall()
    if problems:
        listed = "; ".join(f"line {line}: {problem}" for line, problem in problems[:_MAX_REPORTED])
        raise InvalidInput(
            f"{path}: {len(problems)} bad row(s): {listed}",
            hint="held_out is true or false, sent_at an ISO 8601 time such as 2024-01-03T14:05:09Z",
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lift_sends AS SELECT recipient, sent_at, held_out "
        "FROM lift_send_rows WHERE campaign = $campaign",
        {"campaign": campaign},
    )
    found = con.execute("SELECT count(*) FROM lift_sends").fetchone()
    if found is None or found[0] == 0:
        names = [
            r[0]
            for r in con.execute(
                "SELECT campaign FROM lift_send_rows GROUP BY campaign "
                "ORDER BY count(*) DESC, campaign LIMIT 5"
            ).fetchall()
        ]
        raise NotFound(
            f"{path}: no sends of campaign {campaign!r}",
            hint="campaigns in the file: " + (", ".join(repr(n) for n in names) or "none"),
        )


_EVENTS = """
CREATE OR REPLACE TEMP TABLE lift_events AS
SELECT CAST(user_id AS VARCHAR) AS recipient,
       TRY_CAST(TRY_CAST(CAST("timestamp" AS VARCHAR) AS TIMESTAMPTZ) AS TIMESTAMP) AS ts,
       lower(trim(CAST(type AS VARCHAR))) AS type,
       CAST(channel AS VARCHAR) AS channel, CAST(source AS VARCHAR) AS source,
       CAST(medium AS VARCHAR) AS medium, CAST(campaign AS VARCHAR) AS campaign,
       CAST(value AS VARCHAR) AS value
FROM {source}
"""


def load_events(con: duckdb.DuckDBPyConnection, path: Path) -> datetime:
    """Fill `lift_events` and `lift_conversions` (every conversion row is the goal); return
    when the data ends (the latest event or send)."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", hint="pass a CSV or Parquet events file")
    try:
        con.execute(_EVENTS.format(source=_events_source(path)))
    except duckdb.Error as exc:
        raise InvalidInput(
            f"{path}: cannot read events: {exc}",
            hint="the file must be CSV with the header " + ",".join(COLUMNS) + ", or Parquet",
        ) from exc
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lift_conversions AS SELECT recipient, ts, "
        "coalesce(TRY_CAST(nullif(trim(value), '') AS DOUBLE), 0.0) AS value "
        "FROM lift_events WHERE type = 'conversion' AND ts IS NOT NULL AND recipient IS NOT NULL"
    )
    row = con.execute("SELECT count(*) FROM lift_conversions").fetchone()
    if row is None or row[0] == 0:
        raise InvalidInput(
            f"{path}: no conversion rows",
            hint="lift counts the conversions of the recipients; the events file needs rows "
            "of type conversion (DESIGN §7)",
        )
    end = con.execute(
        "SELECT greatest((SELECT max(ts) FROM lift_events), (SELECT max(sent_at) FROM lift_sends))"
    ).fetchone()
    assert end is not None and isinstance(end[0], datetime)
    return end[0]


_ATTRIBUTION_ROWS = """
COPY (
  SELECT e.recipient AS user_id, strftime(e.ts, '%Y-%m-%dT%H:%M:%SZ') AS "timestamp", e.type,
         e.channel, e.source, e.medium, e.campaign, e.value
  FROM lift_events e JOIN lift_outcome o USING (recipient)
  WHERE e.ts IS NOT NULL AND (e.type <> 'conversion' OR (e.ts >= o.first_send
    AND e.ts <= o.first_send + to_seconds(CAST({window} AS BIGINT))))
  UNION ALL
  SELECT s.recipient, strftime(s.sent_at, '%Y-%m-%dT%H:%M:%SZ'), 'exposure', 'send', '', '',
         {campaign}, ''
  FROM lift_sends s WHERE NOT s.held_out
) TO {target} (HEADER, DELIMITER ',')
"""


def write_attribution_events(
    con: duckdb.DuckDBPyConnection, target: Path, *, campaign: str, window: int
) -> None:
    """The recipients' journeys as a §7 file: their touches, their conversions within the
    window, and the campaign's treated sends as exposures (for the billboard model)."""
    con.execute(
        _ATTRIBUTION_ROWS.format(
            window=int(window), campaign=_quote(campaign), target=_quote(str(target))
        )
    )
