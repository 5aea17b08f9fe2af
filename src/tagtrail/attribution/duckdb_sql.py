"""The DuckDB engine's SQL, one named statement per step (placeholders filled by the engine).

Tables: ev (every row, parsed, with its problem) → channels (ids in name order) → users (keyed
by the row number of their first valid row, so numbered in order of first appearance); then the
valid touches and conversions come out sorted in R1 order for `vectorised.build` (R2–R7), and
each conversion's billboard winner comes out of one join. spark_sql.py is the same on Spark.
"""

from __future__ import annotations

EVENTS = """
CREATE TEMP TABLE ev AS
SELECT rn, u, ts, typ, ch, val, {problem} AS problem FROM (
  SELECT rn, user_id, channel, value, CAST(user_id AS VARCHAR) AS u,
    CAST(floor(epoch(TRY_CAST(CAST("timestamp" AS VARCHAR) AS TIMESTAMPTZ))) AS BIGINT) AS ts,
    lower(trim(CAST(type AS VARCHAR))) AS typ,
    TRY_CAST(nullif(trim(CAST(value AS VARCHAR)), '') AS DOUBLE) AS val,
    {label} AS ch
  FROM (SELECT {row} AS rn, * FROM {source}))
"""

CHANNELS = """
CREATE TEMP TABLE channels AS
SELECT ch, CAST(row_number() OVER (ORDER BY ch) - 1 AS BIGINT) AS cid FROM (
  SELECT DISTINCT ch FROM ev WHERE problem IS NULL AND typ <> 'conversion'
  UNION SELECT {direct})
"""

# R1: valid touches and conversions by (user, time, touch before conversion, file order).
SORTED = """
CREATE TEMP TABLE users AS
SELECT u, min(rn) AS uid FROM ev WHERE problem IS NULL GROUP BY u;
SELECT s.uid, e.ts, e.typ = 'conversion' AS is_conv, coalesce(c.cid, -1) AS cid,
  coalesce(e.val, 0.0) AS val, e.rn
FROM ev e JOIN users s USING (u) LEFT JOIN channels c ON c.ch = e.ch AND e.typ <> 'conversion'
WHERE e.problem IS NULL AND (e.typ = 'conversion' OR e.typ IN ({touch_types}))
ORDER BY s.uid, e.ts, is_conv, e.rn
"""

# billboard: the most recent exposure (24 h) or click (3 d) at or before each conversion.
BILLBOARD = """
SELECT c.rn, coalesce(arg_max(t.cid, (t.ts, t.rn)), {direct}) AS cid
FROM (SELECT u, ts, rn FROM ev WHERE problem IS NULL AND typ = 'conversion') c
LEFT JOIN (
  SELECT v.u, v.ts, v.rn, v.typ, h.cid FROM ev v JOIN channels h USING (ch)
  WHERE v.problem IS NULL AND (v.typ = 'exposure' OR v.typ IN ({touch_types}))) t
  ON t.u = c.u AND t.ts <= c.ts AND c.ts - t.ts <= CASE
    WHEN t.typ = 'exposure' THEN {exposure_window} ELSE {click_window} END
GROUP BY c.rn
"""

COUNTS = """
SELECT (SELECT count(*) FROM ev),
  (SELECT count(*) FROM ev WHERE problem IS NULL AND typ = 'exposure')
"""
