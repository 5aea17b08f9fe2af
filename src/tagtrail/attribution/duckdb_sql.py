"""The DuckDB engine's SQL, one named statement per step (placeholders filled by the engine).

Tables: ev (every row, parsed, with its problem) → channels (ids in name order) → users (keyed
by the row number of their first valid row, so numbered in order of first appearance); then the
valid touches, conversions and exposures come out sorted in R1 order for `vectorised.build`
(R2–R7 and billboard). spark_sql.py is the same on Spark.
"""

from __future__ import annotations

# A CSV has no row number column, and row_number() OVER () would run the read on one thread:
# the table is written in file order (preserve_insertion_order, DuckDB's default), so a row's
# rowid + 1 is its ordinal. Parquet gives its own file_row_number.
# A timestamp as the file writes it: ISO 8601 text (or a typed timestamp), whole seconds taken.
TIMESTAMP = """CASE WHEN regexp_full_match(trim(CAST("timestamp" AS VARCHAR)), {iso})
      THEN CAST(floor(epoch(TRY_CAST({iso_text} AS TIMESTAMPTZ))) AS BIGINT) END"""

EVENTS = """
CREATE TEMP TABLE ev_rows AS
SELECT file_rn, u, ts, typ, ch, val, {problem} AS problem FROM (
  SELECT file_rn, user_id, channel, value, CAST(user_id AS VARCHAR) AS u,
    {ts} AS ts,
    lower(trim(CAST(type AS VARCHAR))) AS typ,
    TRY_CAST(nullif(trim(CAST(value AS VARCHAR)), '') AS DOUBLE) AS val,
    {label} AS ch
  FROM (SELECT {row} AS file_rn, * FROM {source}));
CREATE TEMP VIEW ev AS
SELECT coalesce(file_rn, rowid + 1) AS rn, * EXCLUDE (file_rn) FROM ev_rows
"""

CHANNELS = """
CREATE TEMP TABLE channels AS
SELECT ch, CAST(row_number() OVER (ORDER BY ch) - 1 AS BIGINT) AS cid FROM (
  SELECT DISTINCT ch FROM ev WHERE problem IS NULL AND typ <> 'conversion'
  UNION SELECT {direct})
"""

# R1: valid touches, conversions and exposures by (user, time, touch before conversion, file
# order); exposures stay in for billboard even when they are not touches of a path.
SORTED = """
CREATE TEMP TABLE users AS
SELECT u, min(rn) AS uid FROM ev WHERE problem IS NULL GROUP BY u;
SELECT s.uid, e.ts, e.typ = 'conversion' AS is_conv, e.typ IN ({touch_types}) AS is_touch,
  e.typ = 'exposure' AS is_exp, coalesce(c.cid, -1) AS cid, coalesce(e.val, 0.0) AS val
FROM ev e JOIN users s USING (u) LEFT JOIN channels c ON c.ch = e.ch AND e.typ <> 'conversion'
WHERE e.problem IS NULL AND (e.typ IN ('conversion', 'exposure') OR e.typ IN ({touch_types}))
ORDER BY s.uid, e.ts, is_conv, e.rn
"""

COUNTS = """
SELECT count(*) FROM ev
"""

# What a run leaves in its connection, dropped before another run on the same one.
CLEAR = """
DROP VIEW IF EXISTS ev; DROP TABLE IF EXISTS ev_rows; DROP TABLE IF EXISTS channels;
DROP TABLE IF EXISTS users
"""
