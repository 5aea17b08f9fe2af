"""The journeys builder's SQL (DuckDB), one named statement per step of `load_collected`.

Inputs are the store's rows as Arrow tables (`journeys.py` registers them): `ev_in` (events),
`tp_in` (stored touchpoints), `ck_in` (human clicks), `links_in` (the workspace's links),
`recipients_in` (its recipients, with the user id of those that are users), `nodes_in` (the
identity mapping), `traffic_in` (each click landing's traffic source, worked out in Python
once per distinct (url, referrer)), `goal_in` (the goal events) and `goals_in` (the goals, in
the order added).
Times are microseconds since the epoch (BIGINT) throughout, as exact as Python's datetimes.
"""

from __future__ import annotations

from typing import Final

# --- typed inputs ------------------------------------------------------------------------------

_TRAFFIC: Final = ("kind", "source", "medium", "campaign", "content", "term", "channel")


def _text(columns: dict[str, str]) -> str:
    """`CAST(column AS VARCHAR) AS name, …` for each name → column."""
    return ", ".join(f"CAST({column} AS VARCHAR) AS {name}" for name, column in columns.items())


_EVENT_COLUMNS: Final = {"anon": "anonymous_id", "uid": "user_id"} | {
    name: f"tp_{name}" for name in _TRAFFIC
}
_STORED_COLUMNS: Final = {name: name for name in _TRAFFIC} | {
    "anon": "anonymous_id", "uid": "user_id", "recipient": "recipient", "visitor": "visitor"
}  # fmt: skip
_KEYED: Final = "CAST(message_id AS VARCHAR) AS mid, epoch_us(CAST(ts AS TIMESTAMP)) AS ts"

INPUTS: Final = f"""
CREATE TEMP VIEW store_events AS SELECT {_KEYED}, {_text(_EVENT_COLUMNS)} FROM ev_in;
CREATE TEMP VIEW stored_touches AS SELECT {_KEYED}, {_text(_STORED_COLUMNS)} FROM tp_in;
CREATE TEMP VIEW human_clicks AS SELECT
  'click:' || CAST(c.id AS VARCHAR) AS mid, epoch_us(CAST(c.ts AS TIMESTAMP)) AS ts,
  CAST(c.url AS VARCHAR) AS url, coalesce(CAST(c.referrer AS VARCHAR), '') AS referrer,
  CAST(c.visitor AS VARCHAR) AS visitor, CAST(r.public_id AS VARCHAR) AS recipient
FROM ck_in c SEMI JOIN links_in l ON l.id = c.link_id
  LEFT JOIN recipients_in r ON r.id = c.recipient_id;
CREATE TEMP VIEW user_recipients AS
SELECT CAST(public_id AS VARCHAR) AS public_id, CAST(user_id AS VARCHAR) AS key
FROM recipients_in WHERE user_id IS NOT NULL;
CREATE TEMP TABLE nodes AS
SELECT CAST(kind AS VARCHAR) AS kind, CAST(id AS VARCHAR) AS id,
  CAST(identity AS VARCHAR) AS identity
FROM nodes_in
"""

DISTINCT_LANDINGS: Final = """
SELECT DISTINCT CAST(url AS VARCHAR) AS url, coalesce(CAST(referrer AS VARCHAR), '') AS referrer
FROM ck_in c SEMI JOIN links_in l ON l.id = c.link_id ORDER BY url, referrer
"""

# `IdentityGraph.identity_of`: the user id first (a truthy one), then the anonymous id, the
# recipient, the visitor hash; an id the mapping does not hold is its own identity.
_WHO: Final = """
WITH keyed AS (SELECT *,
  CASE WHEN uid <> '' THEN 'user' WHEN anon <> '' THEN 'anon'
    WHEN recipient <> '' THEN 'recipient' WHEN visitor <> '' THEN 'visitor' END AS id_kind,
  CASE WHEN uid <> '' THEN uid WHEN anon <> '' THEN anon
    WHEN recipient <> '' THEN recipient WHEN visitor <> '' THEN visitor END AS id_value
  FROM ({rows}))
SELECT keyed.* EXCLUDE (id_kind, id_value), coalesce(n.identity, CASE WHEN id_kind = 'user'
  THEN id_value ELSE id_kind || ':' || id_value END) AS who
FROM keyed LEFT JOIN nodes n ON n.kind = keyed.id_kind AND n.id = keyed.id_value
WHERE id_kind IS NOT NULL
"""


def with_identity(rows: str) -> str:
    """`rows` (a SELECT with uid, anon, recipient and visitor) with each row's identity `who`;
    rows with no id at all are left out, as `load_collected` leaves them."""
    return _WHO.format(rows=rows)


# --- touchpoints: the events', the stored ones, the human clicks' -------------------------------

# Each distinct traffic source (source, medium, campaign, content, term, channel) once, numbered
# (`sid`); `campaign_key` numbers (source, medium, campaign, content, term), what "the same
# campaign" compares (`Touchpoint.key`). Touches carry the numbers, not the strings.
SOURCES: Final = """
CREATE TEMP TABLE sources AS
SELECT CAST(row_number() OVER () AS INTEGER) AS sid,
  CAST(dense_rank() OVER (ORDER BY source, medium, campaign, content, term) AS INTEGER)
    AS campaign_key, *
FROM (
  SELECT DISTINCT source, medium, campaign, content, term, channel FROM (
    SELECT source, medium, campaign, content, term, channel FROM store_events
    WHERE channel IS NOT NULL
    UNION ALL SELECT source, medium, campaign, content, term, channel FROM stored_touches
    UNION ALL SELECT source, medium, campaign, content, term, channel FROM traffic_in));
CREATE TEMP TABLE landing_sources AS
SELECT t.url, t.referrer, s.sid FROM traffic_in t JOIN sources s
  ON {'s': s.source, 'm': s.medium, 'c': s.campaign, 'n': s.content, 't': s.term,
    'h': s.channel} = {'s': t.source, 'm': t.medium, 'c': t.campaign, 'n': t.content,
    't': t.term, 'h': t.channel}
"""
_SID: Final = """(SELECT sid FROM sources s WHERE {'s': s.source, 'm': s.medium, 'c': s.campaign,
  'n': s.content, 't': s.term, 'h': s.channel} = {'s': x.source, 'm': x.medium,
  'c': x.campaign, 'n': x.content, 't': x.term, 'h': x.channel})"""

TOUCH_ROWS: Final = f"""
SELECT 0 AS src, mid, ts, kind, {_SID.replace("x.", "e.")} AS sid, anon, uid,
  NULL::VARCHAR AS recipient, NULL::VARCHAR AS visitor
FROM store_events e WHERE channel IS NOT NULL
UNION ALL
SELECT 1, t.mid, t.ts, t.kind, {_SID.replace("x.", "t.")},
  t.anon, CASE WHEN t.uid <> '' THEN t.uid WHEN t.recipient <> '' THEN ru.key END,
  t.recipient, t.visitor
FROM stored_touches t LEFT JOIN user_recipients ru ON ru.public_id = t.recipient
UNION ALL
SELECT 2, c.mid, c.ts, 'click', l.sid, NULL, CASE WHEN c.recipient <> '' THEN ru.key END,
  c.recipient, c.visitor
FROM human_clicks c JOIN landing_sources l ON l.url = c.url AND l.referrer = c.referrer
  LEFT JOIN user_recipients ru ON ru.public_id = c.recipient
"""

# `drop_click_landings`: a non-direct page view no more than `window` after a click of the same
# identity with the same (source, medium, campaign, content, term) repeats the click. Pages are
# few and clicks many: the pages probe the clicks.
KEPT: Final = """
CREATE TEMP TABLE kept AS
WITH marked AS (
  SELECT t.*, s.campaign_key, s.channel IS DISTINCT FROM 'Direct' AS nondirect
  FROM touches t JOIN sources s USING (sid)),
landings AS (
  SELECT DISTINCT p.mid, p.src FROM marked p JOIN marked c
    ON c.who = p.who AND c.campaign_key = p.campaign_key
  WHERE p.kind = 'page' AND p.nondirect AND c.kind = 'click'
    AND c.ts <= p.ts AND c.ts >= p.ts - {window})
SELECT CAST(row_number() OVER () AS BIGINT) AS tid, m.* FROM marked m
  ANTI JOIN landings l ON m.kind = 'page' AND l.mid = m.mid AND l.src = m.src
"""

# --- hits and sessions (`sessionize`) ------------------------------------------------------------

# A session's hits: the kept touches and every other event of the identity; a repeated message
# id counts once, the first in (time, touch before event, click before page view, source) order.
HITS: Final = """
CREATE TEMP TABLE hits AS
WITH every AS (
  SELECT who, mid, ts, TRUE AS is_touch, kind <> 'click' AS late, src, anon AS device, tid,
    nondirect, campaign_key AS touch_key
  FROM kept
  UNION ALL
  SELECT who, mid, ts, FALSE, TRUE, 3, anon, NULL, FALSE, NULL FROM ({events})),
repeated AS (SELECT who, mid FROM every GROUP BY who, mid HAVING count(*) > 1)
SELECT * EXCLUDE (late, src) FROM every ANTI JOIN repeated r USING (who, mid)
UNION ALL
SELECT * EXCLUDE (late, src) FROM every SEMI JOIN repeated r USING (who, mid)
QUALIFY row_number() OVER (PARTITION BY who, mid ORDER BY ts, NOT is_touch, late, src) = 1
"""
HIT_EVENTS: Final = """
SELECT mid, ts, anon, uid, NULL::VARCHAR AS recipient, NULL::VARCHAR AS visitor
FROM store_events WHERE channel IS NULL
"""

# One device's hits in session order; `fresh` marks a hit that starts a session: the first,
# or one at least `timeout` after the previous hit. `touches` counts the touches so far.
STREAM: Final = "PARTITION BY who, device ORDER BY ts, NOT is_touch, mid"
STREAMS: Final = """
CREATE TEMP TABLE streams AS
SELECT * EXCLUDE (previous), CASE WHEN previous IS NULL OR ts - previous >= {timeout}
  THEN 1 ELSE 0 END AS fresh FROM (
  SELECT *, lag(ts) OVER w AS previous,
    sum(CAST(is_touch AS INTEGER)) OVER (w ROWS UNBOUNDED PRECEDING) AS touches
  FROM hits WINDOW w AS ({stream}))
"""

# `new_session_on_campaign_change`: a non-direct touch also starts a session when the latest
# non-direct touch before it on the device is of another campaign, or is in an earlier
# session by the timeout (the session's campaign is reset then), or there is none.
CAMPAIGN_SPLITS: Final = """
CREATE TEMP TABLE split AS
SELECT * EXCLUDE (fresh, latest, part), CASE WHEN fresh = 1 OR (nondirect AND (latest IS NULL
  OR latest.k IS DISTINCT FROM touch_key OR latest.p <> part)) THEN 1 ELSE 0 END AS fresh FROM (
  SELECT *, last_value(CASE WHEN nondirect THEN {{'k': touch_key, 'p': part}} END IGNORE NULLS)
    OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS latest
  FROM (SELECT *, sum(fresh) OVER (w ROWS UNBOUNDED PRECEDING) AS part FROM streams
    WINDOW w AS ({stream}))
  WINDOW w AS ({stream}))
"""

# `arrivals`: every non-direct touch, and a direct one that is its session's first touch.
ARRIVALS: Final = """
CREATE TEMP TABLE arrivals AS
SELECT who, mid, ts, tid FROM (
  SELECT *, max(CASE WHEN fresh = 1 THEN touches - CAST(is_touch AS INTEGER) END)
    OVER (w ROWS UNBOUNDED PRECEDING) AS before
  FROM {streams} WINDOW w AS ({stream}))
WHERE is_touch AND (nondirect OR touches - before = 1)
"""

# --- conversions and journey rows ---------------------------------------------------------------

CONVERSIONS: Final = """
CREATE TEMP TABLE conversions AS
SELECT who, mid, ts, goal, amount,
  CASE WHEN isfinite(number) THEN number ELSE 0.0 END AS value,
  isfinite(number) IS TRUE AS finite
FROM (SELECT *, TRY_CAST(amount AS DOUBLE) AS number FROM (
  SELECT *, {amount} AS amount FROM (
    SELECT * REPLACE (CASE WHEN json_valid(properties) THEN properties END AS properties)
    FROM ({rows}))))
"""
GOAL_ROWS: Final = """
SELECT CAST(message_id AS VARCHAR) AS mid, epoch_us(CAST(ts AS TIMESTAMP)) AS ts,
  CAST(event AS VARCHAR) AS goal, CAST(properties AS VARCHAR) AS properties,
  CAST(anonymous_id AS VARCHAR) AS anon, CAST(user_id AS VARCHAR) AS uid,
  NULL::VARCHAR AS recipient, NULL::VARCHAR AS visitor
FROM goal_in
"""

# A read of some identities (`collected_journeys(identities=…)`) keeps only theirs: the rows
# read for them include other identities' (a user id of another identity on a touchpoint of
# theirs, say), whose sessions and arrivals are not whole.
ONLY_WANTED: Final = """
DELETE FROM arrivals WHERE who NOT IN (SELECT who FROM wanted_in);
DELETE FROM conversions WHERE who NOT IN (SELECT who FROM wanted_in)
"""

# `default_goal`'s sums: each goal's conversions by distinct finite amount (summed as `Decimal`s
# in Python, exact at any scale; `DECIMAL(38, 18)` rounded 1e-268 to 0).
GOAL_AMOUNTS: Final = """
SELECT goal, CASE WHEN finite THEN amount END AS amount, count(*) FROM conversions GROUP BY ALL
"""

# The DESIGN §7 rows (`journey_rows`): the arrivals as touches, and conversions, sorted by
# identity, second, touch before conversion, message id.
_TOUCHES: Final = """
  SELECT a.who AS user_id, a.ts // 1000000 AS second, 'touch' AS type, a.mid,
    CASE WHEN t.channel = 'Direct' THEN 'direct' ELSE t.channel END AS channel,
    CASE WHEN t.channel = 'Direct' THEN '(direct)' ELSE t.source END AS source,
    CASE WHEN t.channel = 'Direct' THEN '(none)' ELSE t.medium END AS medium,
    t.campaign, NULL::DOUBLE AS value,
    CASE WHEN t.channel = 'Direct' THEN '(direct)' ELSE coalesce(t.content, '') END AS content
  FROM arrivals a JOIN kept k USING (tid) JOIN sources t USING (sid) WHERE a.ts < {end}"""
_ORDER: Final = "user_id, second, type = 'conversion', mid"
# One goal's rows; `line` is the row's line in the events file `journey_csv` writes.
JOURNEYS: Final = f"""
CREATE OR REPLACE TEMP TABLE journeys AS
SELECT user_id, second AS "timestamp", type, channel, source, medium,
  campaign, value, content,
  CAST(row_number() OVER (ORDER BY {_ORDER}) + 1 AS BIGINT) AS line
FROM ({_TOUCHES}
  UNION ALL
  SELECT who, ts // 1000000, 'conversion', mid, NULL, NULL, NULL, NULL, value, NULL
  FROM conversions WHERE goal = {{goal}} AND ts >= {{start}} AND ts < {{end}})
"""
# A campaign's journeys for its lift (`service.lift`): every arrival, the goal's conversions of
# each identity of `anchors_in(who, start)` from its first send to `window` µs after it, and
# `exposures_in(who, second)`, the campaign's sends to identities with rows, after the rest
# (the lines the former events file gave them).
ANCHORED: Final = f"""
CREATE OR REPLACE TEMP TABLE journeys AS
SELECT user_id, second AS "timestamp", type, channel, source, medium,
  campaign, value, content,
  CAST(row_number() OVER (ORDER BY exposure, {_ORDER}) + 1 AS BIGINT) AS line
FROM (
  SELECT *, FALSE AS exposure FROM ({_TOUCHES.format(end=1 << 62)})
  UNION ALL
  SELECT c.who, c.ts // 1000000, 'conversion', c.mid, NULL, NULL, NULL, NULL, c.value, NULL,
    FALSE
  FROM conversions c JOIN anchors_in a USING (who)
  WHERE c.goal = {{goal}} AND c.ts >= a.start AND c.ts <= a.start + {{window}}
  UNION ALL
  SELECT who, second, 'exposure', NULL, 'send', NULL, NULL, {{campaign}}, NULL, NULL, TRUE
  FROM exposures_in WHERE who IN (SELECT who FROM arrivals UNION SELECT who FROM conversions))
"""
# The export (`journey_csv` of every arrival and every goal's conversion) as one text: each
# field quoted as Python's `csv` quotes it (when it holds a comma, a quote or a line feed, the
# one line end), a conversion's value from `values_in` (each distinct text of a revenue
# property, formatted by `journey_rows.value_text`; NULL: no revenue).
_FIELD: Final = """CASE WHEN regexp_matches({x}, '[,"\n]')
  THEN '"' || replace({x}, '"', '""') || '"' ELSE {x} END"""


def _fields(*names: str) -> str:
    return ", ".join(_FIELD.format(x=f"coalesce({name}, '')") for name in names)


EXPORT: Final = f"""
SELECT string_agg(concat_ws(',', {_fields("user_id")},
    strftime(make_timestamptz(second * 1000000), '%Y-%m-%dT%H:%M:%SZ'), type,
    {_fields("channel", "source", "medium", "campaign", "value")}) || chr(10), ''
  ORDER BY {_ORDER})
FROM (
  SELECT * EXCLUDE (value, content), NULL::VARCHAR AS value
  FROM ({_TOUCHES.format(end=1 << 62)})
  UNION ALL
  SELECT c.who, c.ts // 1000000, 'conversion', c.mid, NULL, NULL, NULL, NULL, v.text
  FROM conversions c JOIN values_in v ON v.amount IS NOT DISTINCT FROM c.amount)
"""
