"""Path rules R1–R7 vectorised over sorted event arrays (numpy), for the engines.

Input: every valid touch and conversion, sorted by (user, time, touch before conversion, file
order) — R1 — as parallel arrays. Output: a `Collected`. This is `journeys.user_paths` applied to
every user at once (a test checks both agree on random events); the engines only sort and fetch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tagtrail.attribution.journeys import PathRules
from tagtrail.attribution.paths import Collected, Floats, Ints, TouchCredit


@dataclass(frozen=True, slots=True)
class SortedEvents:
    """Parallel arrays in R1 order; `user` is a user key (both engines use the row number of
    the user's first valid row, so users are numbered in order of first appearance, as the
    reference numbers them); `cid` is the channel id of a touch (ignored on conversions),
    `rn` the row number in the file (to find each conversion's billboard winner)."""

    user: Ints
    ts: Ints
    is_conversion: np.ndarray
    cid: Ints
    value: Floats
    rn: Ints


def _distinct(first: Ints, lengths: Ints, cids: Ints, n_channels: int) -> tuple[Ints, Ints]:
    """Dense ids for equal sequences, and one representative instance per id.

    Exact, no hashing: at position p, every instance still going on gets a fresh id from
    (its id so far, its p-th channel), numbered above every id given before, so an instance
    that ended keeps an id no longer one can reach. `first[i]`/`lengths[i]` locate instance i's
    channels in `cids`.
    """
    n = len(first)
    ids = np.zeros(n, dtype=np.int64)
    live = np.arange(n, dtype=np.int64)
    top = 1
    base = n_channels + 1
    pos = 0
    while True:
        live = live[lengths[live] > pos]
        if not len(live):
            break
        keys, inverse = np.unique(ids[live] * base + cids[first[live] + pos], return_inverse=True)
        ids[live] = top + inverse
        top += len(keys)
        pos += 1
    dense, representative, compact = np.unique(ids, return_index=True, return_inverse=True)
    del dense
    return compact.astype(np.int64), representative.astype(np.int64)


def build(
    events: SortedEvents,
    channels: tuple[str, ...],
    rules: PathRules,
    *,
    direct_id: int,
    billboard_rn: Ints,
    billboard_cid: Ints,
) -> Collected:
    """R2–R7 over sorted events; `billboard_*`: each conversion's row number and winner."""
    user, ts, conv = events.user, events.ts, events.is_conversion
    n = len(user)
    new_seg = np.ones(n, dtype=np.bool_)
    if n:
        new_seg[1:] = (user[1:] != user[:-1]) | conv[:-1]  # R2: a conversion closes a segment
    seg = np.cumsum(new_seg) - 1
    last = np.flatnonzero(np.r_[new_seg[1:], True]) if n else np.zeros(0, dtype=np.int64)
    end_ts = ts[last]  # R1 order: a segment's last row is its conversion or its last touch (R5)
    converted = conv[last]
    value = np.where(converted, events.value[last], 0.0)
    touch = ~conv
    keep = touch & (end_ts[seg] - ts <= rules.lookback)  # R3 (and R5 for the tail)
    if rules.collapse_repeats:  # keep the last touch of each run (commutes with the window)
        same_next = np.zeros(n, dtype=np.bool_)
        same_next[:-1] = (seg[1:] == seg[:-1]) & touch[1:] & (events.cid[1:] == events.cid[:-1])
        keep &= ~same_next
    k_idx = np.flatnonzero(keep)
    k_seg = seg[k_idx]
    n_inst = len(last)
    lengths = np.bincount(k_seg, minlength=n_inst).astype(np.int64)
    filled = converted & (lengths == 0)  # R4: a conversion with no touch gets [direct]
    # Append one synthetic direct touch per filled conversion, then order touches by instance.
    f_idx = np.flatnonzero(filled)
    t_seg = np.r_[k_seg, f_idx]
    t_cid = np.r_[events.cid[k_idx], np.full(len(f_idx), direct_id, dtype=np.int64)]
    t_age = np.r_[end_ts[k_seg] - ts[k_idx], np.zeros(len(f_idx), dtype=np.int64)]
    order = np.argsort(t_seg, kind="stable")
    t_seg, t_cid, t_age = t_seg[order], t_cid[order], t_age[order]
    lengths = np.bincount(t_seg, minlength=n_inst).astype(np.int64)
    first = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64) if n_inst else lengths
    ids, reps = _distinct(first, lengths, t_cid, len(channels))
    paths = tuple(tuple(t_cid[first[r] : first[r] + lengths[r]].tolist()) for r in reps.tolist())
    # time_decay: 2^(-t/H) per touch of a converting path, normalised per conversion.
    w = np.power(2.0, -t_age / float(rules.half_life))
    total = np.bincount(t_seg, weights=w, minlength=n_inst)
    in_conv = converted[t_seg]
    decay = TouchCredit(t_seg[in_conv], t_cid[in_conv], (w / total[t_seg])[in_conv])
    # billboard: conversions are the last rows of converting segments; match them by row number.
    conv_inst = np.flatnonzero(converted)
    winner = np.full(n_inst, direct_id, dtype=np.int64)
    if len(billboard_rn):
        order_rn = np.argsort(billboard_rn)
        pos = np.searchsorted(billboard_rn[order_rn], events.rn[last[conv_inst]])
        pos = np.clip(pos, 0, len(order_rn) - 1)
        hit = billboard_rn[order_rn][pos] == events.rn[last[conv_inst]]
        winner[conv_inst[hit]] = billboard_cid[order_rn][pos[hit]]
    board = TouchCredit(conv_inst, winner[conv_inst], np.ones(len(conv_inst)))
    users, user_index = np.unique(user[last], return_inverse=True)
    return Collected(
        channels=channels,
        paths=paths,
        user=user_index.astype(np.int64),
        path=ids,
        converted=converted.astype(np.bool_),
        value=value.astype(np.float64),
        decay=decay,
        billboard=board,
        n_users=len(users),
        direct=channels[direct_id],
        stats={
            "touches": int(touch.sum()),
            "conversions_without_touch": int(filled.sum()),
        },
    )


def from_columns(
    rows: Mapping[str, np.ndarray],
    board: Mapping[str, np.ndarray],
    channels: tuple[str, ...],
    rules: PathRules,
    *,
    direct_id: int,
) -> Collected:
    """`build` over the columns an engine fetched: `rows` (uid, ts, is_conv, cid, val, rn) in
    R1 order and `board` (rn, cid) — the one hand-over shared by the DuckDB and Spark engines."""
    i64 = np.int64
    events = SortedEvents(
        user=np.asarray(rows["uid"], dtype=i64),
        ts=np.asarray(rows["ts"], dtype=i64),
        is_conversion=np.asarray(rows["is_conv"], dtype=np.bool_),
        cid=np.asarray(rows["cid"], dtype=i64),
        value=np.asarray(rows["val"], dtype=np.float64),
        rn=np.asarray(rows["rn"], dtype=i64),
    )
    return build(
        events,
        channels,
        rules,
        direct_id=direct_id,
        billboard_rn=np.asarray(board["rn"], dtype=i64),
        billboard_cid=np.asarray(board["cid"], dtype=i64),
    )
