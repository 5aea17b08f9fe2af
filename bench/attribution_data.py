"""A synthetic event stream for the attribution benchmark (DESIGN §7's CSV format).

Ten channels with their own reach and conversion lift; about 2.4 touches, 0.13 conversions and
0.15 exposures per user over 60 days, so 1,000,000 users make about 2.7M rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CHANNELS = [
    # channel, source, medium, campaigns, weight, lift
    ("direct", "(direct)", "(none)", [""], 0.16, 1.0),
    ("organic_search", "google", "organic", [""], 0.18, 1.2),
    ("paid_search", "google", "cpc", ["brand", "generic"], 0.14, 1.6),
    ("paid_social", "facebook", "paid_social", ["retarget", "prospect"], 0.12, 1.1),
    ("organic_social", "instagram", "social", [""], 0.08, 0.8),
    ("email", "newsletter", "email", ["weekly", "promo"], 0.1, 2.0),
    ("sms", "instasent", "sms", ["flash", "winback"], 0.06, 1.8),
    ("referral", "partner.example", "referral", [""], 0.07, 1.3),
    ("display", "dv360", "display", ["awareness"], 0.06, 0.6),
    ("affiliate", "affnet", "affiliate", ["cashback"], 0.03, 1.4),
]
START = np.datetime64("2024-01-01T00:00:00", "s")


def generate(path: Path, users: int = 1_000_000, seed: int = 7) -> int:
    """Write the CSV; return its number of data rows."""
    rng = np.random.default_rng(seed)
    weights = np.array([c[4] for c in CHANNELS])
    lift = np.array([c[5] for c in CHANNELS])
    n_touch = rng.geometric(1 / 2.4, users)
    user_of_touch = np.repeat(np.arange(users), n_touch)
    ch = rng.choice(len(CHANNELS), size=len(user_of_touch), p=weights / weights.sum())
    t = rng.integers(0, 60 * 86_400, len(user_of_touch))
    score = np.bincount(user_of_touch, weights=lift[ch], minlength=users) / (n_touch + 2.0)
    p_conv = np.clip(0.09 * score, 0, 1)
    converts = rng.random(users) < p_conv
    conv_users = np.flatnonzero(converts)
    last = np.full(users, 0)
    np.maximum.at(last, user_of_touch, t)
    conv_t = last[conv_users] + rng.integers(0, 3 * 86_400, len(conv_users))
    value = np.round(rng.gamma(2.0, 40.0, len(conv_users)), 2)
    n_exp = int(users * 0.15)
    exp_users = rng.integers(0, users, n_exp)
    exp_ch = rng.choice([5, 6], size=n_exp)
    exp_t = rng.integers(0, 60 * 86_400, n_exp)
    campaign_pick = rng.integers(0, 2, len(ch) + n_exp)
    names = [c[0] for c in CHANNELS]
    rows: list[str] = []

    def stamp(seconds: np.ndarray) -> list[str]:
        return [s + "Z" for s in np.datetime_as_string(START + seconds.astype("timedelta64[s]"))]

    for u, c, ts, pick in zip(user_of_touch, ch, stamp(t), campaign_pick, strict=False):
        _, src, med, camps, _, _ = CHANNELS[c]
        rows.append(f"u{u},{ts},touch,{names[c]},{src},{med},{camps[pick % len(camps)]},")
    for u, c, ts, pick in zip(
        exp_users, exp_ch, stamp(exp_t), campaign_pick[len(ch) :], strict=True
    ):
        _, src, med, camps, _, _ = CHANNELS[c]
        rows.append(f"u{u},{ts},exposure,{names[c]},{src},{med},{camps[pick % len(camps)]},")
    for u, ts, v in zip(conv_users, stamp(conv_t), value, strict=True):
        rows.append(f"u{u},{ts},conversion,,,,,{v:.2f}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        out.write("user_id,timestamp,type,channel,source,medium,campaign,value\n")
        out.write("\n".join(rows))
        out.write("\n")
    return len(rows)
