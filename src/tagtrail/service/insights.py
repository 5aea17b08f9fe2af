"""Conversions, channels and attribution from the collected journeys.

`engine_insights` computes the dashboard's figures in DuckDB over the journeys built in the
engine (`service.journeys`); `insights`, the same figures from the from-scratch read
(`load_collected`), stays as its oracle (a property test compares them on random stores, SQLite
and PostgreSQL). The model comparison is `service.attribution.store_attribution` on one goal,
exactly what `tagtrail attribute --goal` prints. Campaign and link columns credit each
conversion to its last non-direct arrival within the 30-day lookback after the previous
conversion of the same goal (the `last_non_direct` model's rule with R2 per goal), so the two
pages agree."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tagtrail.attribution.path_rules import PathRules
from tagtrail.collect.touchpoints import DIRECT, order_key
from tagtrail.service.attribution import AttributionQuery, journeys_attribution
from tagtrail.service.campaigns import touch_key
from tagtrail.service.collected import Collected
from tagtrail.service.journeys import Journeys, day_micros
from tagtrail.service.reports import Window

#: The models the comparison chart shows (docs/models.md defines each).
CHART_MODELS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "position_based",
    "time_decay",
    "markov_o1",
    "shapley_simplified",
)
LOOKBACK = timedelta(days=30)


@dataclass(slots=True)
class Insights:
    by_day: dict[str, list[float]] = field(default_factory=dict)  # day → [conversions, revenue]
    conversions: int = 0
    revenue: float = 0.0
    campaigns: dict[str, list[float]] = field(default_factory=dict)  # campaign_key → [conv, rev]
    landings: dict[str, list[float]] = field(default_factory=dict)  # credited landing → [conv, rev]
    channels: dict[str, dict[str, float]] = field(default_factory=dict)


def insights(collected: Collected, window: Window) -> Insights:
    """Conversions per day, last-non-direct credit per campaign and per landing URL (for
    `link_credit`), arrivals per channel."""
    out = Insights()
    campaigns: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    channels: dict[str, dict[str, float]] = defaultdict(
        lambda: {"arrivals": 0.0, "people": 0.0, "conversions": 0.0, "revenue": 0.0}
    )
    for touches in collected.arrivals.values():
        seen: set[str] = set()
        for touch in touches:
            if window.contains(touch.timestamp):
                row = channels[touch.channel]
                row["arrivals"] += 1
                if touch.channel not in seen:
                    seen.add(touch.channel)
                    row["people"] += 1
    for who, converted in collected.conversions.items():
        touches = sorted(collected.arrivals.get(who, []), key=order_key)
        previous: dict[str, datetime] = {}  # goal → its last conversion's second (R2 per goal)
        for conv in sorted(converted, key=lambda c: (c.timestamp, c.message_id)):
            after = previous.get(conv.goal)
            previous[conv.goal] = _second(conv.timestamp)
            if not window.contains(conv.timestamp):
                continue
            value = float(conv.value)
            day = conv.timestamp.strftime("%Y-%m-%d")
            slot = out.by_day.setdefault(day, [0.0, 0.0])
            slot[0] += 1
            slot[1] += value
            out.conversions += 1
            out.revenue += value
            last = None
            for touch in touches:
                if _second(touch.timestamp) > _second(conv.timestamp):
                    break
                if after is not None and _second(touch.timestamp) <= after:
                    continue  # the previous conversion of this goal took it
                if conv.timestamp - touch.timestamp <= LOOKBACK and not touch.is_direct:
                    last = touch
            channel = channels[last.channel if last else DIRECT]  # one spelling: "Direct"
            channel["conversions"] += 1
            channel["revenue"] += value
            if last is None:
                continue
            if last.campaign and last.campaign != "(not set)":
                key = touch_key(last.campaign)
                campaigns[key][0] += 1
                campaigns[key][1] += value
            if last.url:
                landing = out.landings.setdefault(last.url, [0.0, 0.0])
                landing[0] += 1
                landing[1] += value
    out.by_day = dict(sorted(out.by_day.items()))
    out.campaigns = dict(campaigns)
    out.channels = dict(sorted(channels.items(), key=lambda kv: (-kv[1]["arrivals"], kv[0])))
    return out


# `insights` in SQL over the journeys builder's tables (journeys_sql.py): each conversion with
# the last non-direct arrival of its identity (in `order_key` order) no later than its second,
# after its goal's previous conversion's second, within the lookback. It does not depend on
# the window (only which conversions count does): made once per build, for every period.
_CREDITED = """
CREATE TEMP TABLE IF NOT EXISTS credited AS
WITH arrived AS (
  SELECT a.who, a.ts, a.mid, k.kind <> 'click' AS late, k.src, s.channel, s.campaign
  FROM arrivals a JOIN kept k USING (tid) JOIN sources s USING (sid) WHERE k.nondirect),
converted AS (
  SELECT who, mid, ts, value,
    lag(ts // 1000000) OVER (PARTITION BY who, goal ORDER BY ts, mid) AS after
  FROM conversions),
chosen AS (
  SELECT c.who, c.mid AS cid, c.ts, c.value, a.channel, a.campaign, a.src, a.mid
  FROM converted c LEFT JOIN arrived a ON a.who = c.who AND a.ts // 1000000 <= c.ts // 1000000
    AND (c.after IS NULL OR a.ts // 1000000 > c.after) AND c.ts - a.ts <= {lookback}
  QUALIFY row_number() OVER (
    PARTITION BY c.who, c.mid ORDER BY a.ts DESC, a.late DESC, a.mid DESC) = 1),
-- a credited touch's landing URL, from the row it came from (`src` of TOUCH_ROWS)
urls AS (
  SELECT 0 AS src, CAST(message_id AS VARCHAR) AS mid, CAST(url AS VARCHAR) AS url FROM ev_in
  UNION ALL SELECT 1, CAST(message_id AS VARCHAR), CAST(url AS VARCHAR) FROM tp_in
  UNION ALL SELECT 2, mid, url FROM human_clicks)
SELECT chosen.*, u.url FROM chosen LEFT JOIN urls u USING (src, mid)
"""
_IN = "ts >= {start} AND ts < {end}"  # a conversion of the window
_BY_DAY = f"""SELECT strftime(make_timestamp(ts), '%Y-%m-%d') AS day, count(*), sum(value)
FROM credited WHERE {_IN} GROUP BY day ORDER BY day"""
_BY_CHANNEL = f"""SELECT coalesce(channel, {{direct}}), count(*), sum(value) FROM credited
WHERE {_IN} GROUP BY 1"""
_BY_CAMPAIGN = f"""SELECT campaign, count(*), sum(value) FROM credited
WHERE {_IN} AND campaign <> '' AND campaign <> '(not set)' GROUP BY campaign"""
_BY_LANDING = f"""SELECT url, count(*), sum(value) FROM credited
WHERE {_IN} AND url <> '' GROUP BY url"""
_ARRIVALS = """
SELECT s.channel, count(*), count(DISTINCT a.who)
FROM arrivals a JOIN kept k USING (tid) JOIN sources s USING (sid)
WHERE a.ts >= {start} AND a.ts < {end} GROUP BY s.channel
"""


def engine_insights(journeys: Journeys, window: Window) -> Insights:
    """`insights` of the journeys built in the engine (DuckDB), for `window`'s days."""
    con = journeys.con
    bounds = {
        "start": -(1 << 62) if window.start is None else day_micros(window.start),
        "end": 1 << 62 if window.end is None else day_micros(window.end + timedelta(days=1)),
    }
    con.execute(_CREDITED.format(lookback=LOOKBACK // timedelta(microseconds=1)))
    out = Insights()
    for day, count, value in con.execute(_BY_DAY.format(**bounds)).fetchall():
        out.by_day[day] = [float(count), float(value)]
        out.conversions += count
        out.revenue += float(value)
    zero = {"arrivals": 0.0, "people": 0.0, "conversions": 0.0, "revenue": 0.0}
    channels: dict[str, dict[str, float]] = defaultdict(lambda: dict(zero))
    for channel, count, people in con.execute(_ARRIVALS.format(**bounds)).fetchall():
        channels[channel].update(arrivals=float(count), people=float(people))
    direct = f"'{DIRECT}'"
    for channel, count, value in con.execute(
        _BY_CHANNEL.format(direct=direct, **bounds)
    ).fetchall():
        channels[channel].update(conversions=float(count), revenue=float(value))
    out.channels = dict(sorted(channels.items(), key=lambda kv: (-kv[1]["arrivals"], kv[0])))
    campaigns: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for campaign, count, value in con.execute(_BY_CAMPAIGN.format(**bounds)).fetchall():
        slot = campaigns[touch_key(campaign)]
        slot[0] += count
        slot[1] += float(value)
    out.campaigns = dict(campaigns)
    out.landings = {
        url: [float(n), float(v)]
        for url, n, v in con.execute(_BY_LANDING.format(**bounds)).fetchall()
    }
    return out


def _second(when: datetime) -> datetime:
    """Whole seconds, as the engine reads the journey rows (R1 ties at one second)."""
    return when.replace(microsecond=0)


def link_credit(found: Insights, targets: Mapping[str, str]) -> dict[str, list[float]]:
    """[conversions, revenue] per link code (`targets`: code → its tracked destination, in the
    order to try): a credited arrival counts for the first link whose destination its landing
    URL starts with."""
    per_link: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for url, (count, value) in found.landings.items():
        for code, target in targets.items():
            if url.startswith(target):
                per_link[code][0] += count
                per_link[code][1] += value
                break
    return dict(per_link)


def model_comparison(
    journeys: Journeys, window: Window, *, ci_level: float = 0.9, samples: int = 60
) -> dict[str, Any]:
    """The engine's document for CHART_MODELS and the window's goal (default: the goal with
    revenue), with bootstrap intervals, over journeys built in the engine; `{}` when the
    workspace has no goal. Rows after the window's end are left out, and conversions before
    its start."""
    if not journeys.goals:
        return {}
    query = AttributionQuery(
        CHART_MODELS, PathRules(), "channel", window.start, window.end, window.goal
    )
    return journeys_attribution(journeys, query, ci=(ci_level, samples))
