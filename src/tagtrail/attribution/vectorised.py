"""Path rules R1–R7 and billboard winners vectorised over sorted event arrays (numpy).

Input: every valid touch, conversion and exposure, sorted by (user, time, touch before
conversion, file order) — R1 — as parallel arrays. Output: a `Collected`. This is
`journeys.user_paths` and `billboard.billboard_winners` applied to every user at once (a test
checks they agree on random events); the engines only read, check, sort and fetch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tagtrail.attribution.path_rules import PathRules
from tagtrail.attribution.paths import Collected, Floats, Ints, TouchCredit

Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class SortedEvents:
    """Parallel arrays in R1 order; `user` is a user key (both engines use the row number of
    the user's first valid row, so users are numbered in order of first appearance, as the
    reference numbers them); `cid` is the channel id of a touch or exposure (ignored on
    conversions); `is_touch` marks the rows that are touches of a path (a type in
    `touch_types`), `is_exposure` the exposures (billboard's 24 h window; a path touch too when
    `touch_types` lists them)."""

    user: Ints
    ts: Ints
    is_conversion: Bools
    is_touch: Bools
    is_exposure: Bools
    cid: Ints
    value: Floats


def _billboard(events: SortedEvents, rules: PathRules, direct_id: int) -> Ints:
    """Each conversion's billboard channel, in row order: of the user's latest exposure (if
    within `exposure_window`) and latest click (a touch that is not an exposure, if within
    `click_window`) at or before it, the later one in R1 order; `direct_id` when neither."""
    user, ts, cid = events.user, events.ts, events.cid
    rows = np.arange(len(user), dtype=np.int64)
    conv = np.flatnonzero(events.is_conversion)
    best = np.full(len(conv), -1, dtype=np.int64)
    clicks = events.is_touch & ~events.is_exposure
    for mask, window in ((events.is_exposure, rules.exposure_window), (clicks, rules.click_window)):
        latest = np.maximum.accumulate(np.where(mask, rows, -1))[conv] if len(rows) else best
        at = np.maximum(latest, 0)
        ok = (latest >= 0) & (user[at] == user[conv]) & (ts[conv] - ts[at] <= window)
        best = np.maximum(best, np.where(ok, latest, -1))
    return np.where(best >= 0, cid[np.maximum(best, 0)], direct_id).astype(np.int64)


def _distinct(first: Ints, lengths: Ints, cids: Ints, n_channels: int) -> tuple[Ints, Ints]:
    """Dense ids for equal sequences, and one representative instance per id.

    Exact: a sequence short enough is packed into one int64, a digit of `bits` bits per touch
    (channel id + 1, so the length is part of the number); longer ones (rare) get ids from
    `_distinct_by_position`, stored negative so the two kinds never meet.
    """
    n = len(first)
    bits = max(int(n_channels).bit_length(), 1)
    cap = 62 // bits
    short = lengths <= cap
    keys = np.zeros(n, dtype=np.int64)
    nonempty = np.flatnonzero(lengths > 0)
    if len(nonempty):
        owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
        pos = np.arange(len(cids), dtype=np.int64) - first[owner]
        packed = short[owner]
        digit = np.where(packed, cids + 1, 0) << (bits * np.where(packed, pos, 0))
        keys[nonempty] = np.add.reduceat(digit, first[nonempty])
    long = np.flatnonzero(~short)
    if len(long):
        ids, _ = _distinct_by_position(first[long], lengths[long], cids, n_channels)
        keys[long] = -(ids + 1)
    _, representative, compact = np.unique(keys, return_index=True, return_inverse=True)
    return compact.astype(np.int64), representative.astype(np.int64)


def _distinct_by_position(
    first: Ints, lengths: Ints, cids: Ints, n_channels: int
) -> tuple[Ints, Ints]:
    """`_distinct` for sequences of any length, exact, no hashing.

    At position p, every instance still going on gets a fresh id from (its id so far, its
    p-th channel), numbered above every id given before, so an instance
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


def _duplicates(events: SortedEvents) -> int:
    """Conversions that repeat an earlier one of the same user, second and value (each still
    counts: R7; the count feeds a warning, as such rows are usually one conversion sent twice)."""
    conv = np.flatnonzero(events.is_conversion)
    if len(conv) < 2:
        return 0
    user, ts, value = events.user[conv], events.ts[conv], events.value[conv]
    order = np.lexsort((value, ts, user))
    user, ts, value = user[order], ts[order], value[order]
    same = (user[1:] == user[:-1]) & (ts[1:] == ts[:-1]) & (value[1:] == value[:-1])
    return int(same.sum())


def _within(lengths: Ints) -> Ints:
    """0, 1, …, n−1 for each n of `lengths`, end to end."""
    total = int(lengths.sum())
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(total, dtype=np.int64) - starts


def build(
    events: SortedEvents, channels: tuple[str, ...], rules: PathRules, *, direct_id: int
) -> Collected:
    """R2–R7 and billboard winners over sorted events."""
    winners = _billboard(events, rules, direct_id)
    rows = np.flatnonzero(events.is_conversion | events.is_touch)
    user, ts, conv, cid = (
        events.user[rows],
        events.ts[rows],
        events.is_conversion[rows],
        events.cid[rows],
    )
    n = len(user)
    new_seg = np.ones(n, dtype=np.bool_)
    if n:
        new_seg[1:] = (user[1:] != user[:-1]) | conv[:-1]  # R2: a conversion closes a segment
    seg = np.cumsum(new_seg) - 1
    last = np.flatnonzero(np.r_[new_seg[1:], True]) if n else np.zeros(0, dtype=np.int64)
    end_ts = ts[last]  # R1 order: a segment's last row is its conversion or its last touch (R5)
    converted = conv[last]
    value = np.where(converted, events.value[rows[last]], 0.0)
    touch = ~conv
    keep = touch & (end_ts[seg] - ts <= rules.lookback)  # R3 (and R5 for the tail)
    if rules.collapse_repeats:  # keep the last touch of each run (commutes with the window)
        same_next = np.zeros(n, dtype=np.bool_)
        same_next[:-1] = (seg[1:] == seg[:-1]) & touch[1:] & (cid[1:] == cid[:-1])
        keep &= ~same_next
    k_idx = np.flatnonzero(keep)
    k_seg = seg[k_idx]
    n_inst = len(last)
    lengths = np.bincount(k_seg, minlength=n_inst).astype(np.int64)
    filled = converted & (lengths == 0)  # R4: a conversion with no touch gets [direct]
    # One synthetic direct touch per filled conversion, merged into the touches (both ascend
    # by instance, and a filled instance has no other touch) so touches stay by instance.
    f_idx = np.flatnonzero(filled)
    f_pos = np.searchsorted(k_seg, f_idx) + np.arange(len(f_idx), dtype=np.int64)
    at_k = np.ones(len(k_idx) + len(f_idx), dtype=np.bool_)
    at_k[f_pos] = False
    t_seg = np.empty(len(at_k), dtype=np.int64)
    t_cid, t_age = np.empty_like(t_seg), np.zeros_like(t_seg)
    t_seg[at_k], t_seg[f_pos] = k_seg, f_idx
    t_cid[at_k], t_cid[f_pos] = cid[k_idx], direct_id
    t_age[at_k] = end_ts[k_seg] - ts[k_idx]
    lengths = np.bincount(t_seg, minlength=n_inst).astype(np.int64)
    first = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64) if n_inst else lengths
    ids, reps = _distinct(first, lengths, t_cid, len(channels))
    rep_len = lengths[reps]
    rep_flat = t_cid[np.repeat(first[reps], rep_len) + _within(rep_len)].tolist()
    bounds = np.cumsum(rep_len).tolist()
    starts = [0, *bounds[:-1]] if bounds else []  # no paths at all is a valid input (no rows)
    paths = tuple(tuple(rep_flat[a:b]) for a, b in zip(starts, bounds, strict=True))
    # time_decay: 2^(-t/H) per touch of a converting path, normalised per conversion.
    w = np.power(2.0, -t_age / float(rules.half_life))
    total = np.bincount(t_seg, weights=w, minlength=n_inst)
    in_conv = converted[t_seg]
    decay = TouchCredit(t_seg[in_conv], t_cid[in_conv], (w / total[t_seg])[in_conv])
    # billboard: the converting instances are the conversions, in row order.
    conv_inst = np.flatnonzero(converted)
    board = TouchCredit(conv_inst, winners, np.ones(len(conv_inst)))
    # users: keys ascend in R1 order, so a new key starts a new user.
    starts_user = np.ones(n_inst, dtype=np.bool_)
    starts_user[1:] = user[last][1:] != user[last][:-1]
    user_index = np.cumsum(starts_user) - 1
    return Collected(
        channels=channels,
        paths=paths,
        user=user_index.astype(np.int64),
        path=ids,
        converted=converted.astype(np.bool_),
        value=value.astype(np.float64),
        decay=decay,
        billboard=board,
        n_users=int(starts_user.sum()),
        direct=channels[direct_id],
        stats={
            "touches": int(touch.sum()),
            "exposures": int(events.is_exposure.sum()),
            "conversions_without_touch": int(filled.sum()),
            "duplicate_conversions": _duplicates(events),
        },
    )


def from_columns(
    rows: Mapping[str, np.ndarray], channels: tuple[str, ...], rules: PathRules, *, direct_id: int
) -> Collected:
    """`build` over the columns an engine fetched in R1 order (uid, ts, is_conv, is_touch,
    is_exp, cid, val) — the one hand-over shared by the DuckDB and Spark engines."""
    events = SortedEvents(
        user=np.asarray(rows["uid"], dtype=np.int64),
        ts=np.asarray(rows["ts"], dtype=np.int64),
        is_conversion=np.asarray(rows["is_conv"], dtype=np.bool_),
        is_touch=np.asarray(rows["is_touch"], dtype=np.bool_),
        is_exposure=np.asarray(rows["is_exp"], dtype=np.bool_),
        cid=np.asarray(rows["cid"], dtype=np.int64),
        value=np.asarray(rows["val"], dtype=np.float64),
    )
    return build(events, channels, rules, direct_id=direct_id)
