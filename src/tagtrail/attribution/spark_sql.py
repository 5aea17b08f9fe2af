"""The Spark engine's SQL (Spark SQL dialect), step for step the DuckDB engine's (duckdb_sql.py).

Views: src (the rows with `rn`, their line or row number) → ev (parsed, with the same problem
rules) → channels are fetched and numbered in Python (name order) → `sorted_rows` (R1 order,
users keyed by the row number of their first valid row).
"""

from __future__ import annotations

# A timestamp must be ISO 8601 as documented (duckdb_engine.ISO_8601; Spark's cast would also
# take "2024" or "2024-01").
EVENTS = """
SELECT rn, u, ts, typ, ch, val, {problem} AS problem FROM (
  SELECT rn, csv_problem, user_id, channel, value, CAST(user_id AS STRING) AS u,
    CASE WHEN trim(CAST(`timestamp` AS STRING)) RLIKE {iso}
      THEN unix_seconds(try_cast({iso_text} AS TIMESTAMP)) END AS ts,
    lower(trim(CAST(type AS STRING))) AS typ,
    try_cast(nullif(trim(CAST(value AS STRING)), '') AS DOUBLE) AS val,
    {label} AS ch
  FROM src)
"""

PROBLEM = """CASE
  WHEN csv_problem IS NOT NULL THEN csv_problem
  WHEN user_id IS NULL OR trim(CAST(user_id AS STRING)) = '' THEN 'empty user_id'
  WHEN ts IS NULL THEN 'timestamp is not ISO 8601 (2024-01-03T14:05:09Z)'
  WHEN typ IS NULL OR typ NOT IN ('conversion', 'exposure', {touch_types}) THEN 'unknown type'
  WHEN typ <> 'conversion' AND (channel IS NULL OR trim(CAST(channel AS STRING)) = '')
    THEN 'touch without channel'
  WHEN typ = 'conversion' AND nullif(trim(CAST(value AS STRING)), '') IS NOT NULL
    AND (val IS NULL OR isnan(val) OR abs(val) = double('infinity')) THEN 'value is not a number'
  WHEN typ = 'conversion' AND val < 0 THEN 'value is negative'
END"""

CHANNELS = """
SELECT DISTINCT ch FROM ev WHERE problem IS NULL AND typ <> 'conversion'
"""

# R1: valid touches, conversions and exposures by (user, time, touch before conversion, file
# order); exposures stay in for billboard even when they are not touches of a path.
SORTED = """
SELECT min(e.rn) OVER (PARTITION BY e.u) AS uid, e.ts, e.typ = 'conversion' AS is_conv,
  e.typ IN ({touch_types}) AS is_touch, e.typ = 'exposure' AS is_exp,
  CAST(coalesce(CASE WHEN e.typ <> 'conversion' THEN c.cid END, -1) AS BIGINT) AS cid,
  coalesce(e.val, 0.0) AS val, e.rn
FROM ev e LEFT JOIN channels c ON c.ch = e.ch
WHERE e.problem IS NULL AND (e.typ IN ('conversion', 'exposure') OR e.typ IN ({touch_types}))
ORDER BY uid, ts, is_conv, rn
"""

COUNTS = """
SELECT count(*) AS n FROM ev
"""
