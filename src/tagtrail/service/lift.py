"""Lift (DESIGN §10): what a campaign caused, from its holdout, beside its attributed credit.

One use case per source: `file_lift` (a sends CSV and a §7 events file) and `store_lift` (the
store's sends and collected journeys). Both fill DuckDB's `lift_sends` / `lift_conversions`,
fold them with `lift.outcome`, run the attribution engine by campaign over the same recipients
and window, and shape the §10 document with `lift.document`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from sqlalchemy import Engine

from tagtrail.attribution import duckdb_engine
from tagtrail.attribution.document import run_models
from tagtrail.attribution.registry import MODEL_NAMES
from tagtrail.errors import InvalidInput
from tagtrail.lift import files
from tagtrail.lift.assignment import holdout_share, share_text
from tagtrail.lift.document import LiftReport, lift_report
from tagtrail.lift.outcome import compute_outcome
from tagtrail.service.campaigns import get_campaign
from tagtrail.service.goals import list_goals
from tagtrail.service.journeys import collected_journeys
from tagtrail.service.lift_matching import (
    load_store_conversions,
    load_store_sends,
    matching,
    register,
)
from tagtrail.service.workspace import get_workspace
from tagtrail.store.identities import catch_up, identities_of

DEFAULT_WINDOW = 7 * 86_400
MAX_WINDOW = 366 * 86_400


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


@dataclass(frozen=True, slots=True)
class LiftQuery:
    """What a front end asks the store's lift for (the API's query parameters, `params`)."""

    campaign: str
    goal: str
    window: int = DEFAULT_WINDOW
    level: float = 0.95
    holdout: str | None = None

    def params(self) -> dict[str, str]:
        window, level = str(self.window / 86_400), str(self.level)
        found = {"goal": self.goal, "window_days": window, "level": level}
        return found if self.holdout is None else {**found, "holdout": self.holdout}


def lift_document(
    engine: Engine, workspace_id: int, secret: bytes, query: LiftQuery, *, now: datetime
) -> dict[str, Any]:
    """`store_lift`'s document for a `LiftQuery`."""
    q = query
    return store_lift(
        engine, workspace_id, campaign=q.campaign, goal=q.goal, secret=secret, now=now,
        window=q.window, level=q.level, holdout=q.holdout,
    ).document  # fmt: skip


def _no_holdout(what: str, note: str) -> InvalidInput:
    return InvalidInput(
        f"lift needs a holdout: {what}",
        hint="hold out a share of the recipients before sending: tagtrail messages "
        "--holdout 10%, the campaign's holdout (tagtrail campaigns update NAME --holdout 10%, "
        "or PATCH /api/campaigns/NAME) or the workspace's global_holdout (tagtrail workspace "
        f"--global-holdout 5%){note}; sends made elsewhere carry held_out: true",
    )


def _check(window: int, level: float) -> None:
    if not 0 < window <= MAX_WINDOW:
        raise InvalidInput(
            f"window of {window} seconds is out of range", hint="give 1h to 366d, such as 7d"
        )
    if not 0.5 <= level < 1.0:
        raise InvalidInput(f"level {level} is out of range", hint="give a level such as 0.95")


def _credited(path: Path, campaign: str, models: Sequence[str] = MODEL_NAMES) -> dict[str, float]:
    loaded = duckdb_engine.load(path, by="campaign")
    if not loaded.n_users:
        return {name: 0.0 for name in models}
    credits = run_models(loaded, models)
    return {
        name: credit.as_dict()["conversions"].get(campaign, 0.0) for name, credit in credits.items()
    }


def attributed_to(con: duckdb.DuckDBPyConnection, campaign: str, window: int) -> dict[str, float]:
    """Conversions each model credits to `campaign` over `lift_outcome`'s recipients and window
    (`lift_events` holds their journeys)."""
    with tempfile.TemporaryDirectory(prefix="tagtrail-lift-") as folder:
        path = Path(folder) / "journeys.csv"
        files.write_attribution_events(con, path, campaign=campaign, window=window)
        return _credited(path, campaign)


def file_lift(
    sends: Path, events: Path, *, campaign: str, window: int = DEFAULT_WINDOW,
    level: float = 0.95, holdout: str | None = None,
) -> LiftReport:  # fmt: skip
    """The §10 document from files; `holdout` is the share the assignment meant (for SRM)."""
    _check(window, level)
    campaign = campaign.strip()
    expected = holdout_share(holdout) if holdout is not None else None
    con = _connect()
    try:
        files.load_sends(con, sends, campaign)
        data_end = files.load_events(con, events)
        outcome = compute_outcome(con, window=window, data_end=data_end)
        if outcome.control.recipients == 0:
            raise _no_holdout(f"no send of campaign {campaign!r} in {sends} is held out", "")
        attributed = attributed_to(con, campaign, window)
    finally:
        con.close()
    return lift_report(
        campaign=campaign,
        goal=None,
        window=window,
        level=level,
        outcome=outcome,
        expected_control_share=expected,
        attributed=attributed,
        data_end=data_end,
    )


def expected_share(campaign_share: float, global_share: float) -> float | None:
    """The share of recipients the assignment holds out: the global control group, or else
    the campaign's (independent hashes); None when neither is set (a holdout made elsewhere)."""
    share = 1.0 - (1.0 - global_share) * (1.0 - campaign_share)
    return share if share > 0 else None


def _identities(engine: Engine, workspace_id: int, people: Collection[str]) -> dict[str, str]:
    """The identity of each matched person (`u:<user id>`, `a:<anonymous id>`) that a fact
    ever named, through the stored identity mapping (`store.identities`, caught up first: a
    few index lookups when nothing waits)."""
    catch_up(engine)
    users = [w[2:] for w in people if w.startswith("u:")]
    anonymous = [w[2:] for w in people if w.startswith("a:")]
    with engine.connect() as conn:
        of_user, of_anonymous = identities_of(conn, workspace_id, users=users, anonymous=anonymous)
    identity = {f"u:{u}": i for u, i in of_user.items()}
    identity.update((f"a:{a}", i) for a, i in of_anonymous.items())
    return identity


_ANCHORS = """
SELECT i.identity AS who, epoch_us(min(o.first_send)) AS start FROM lift_tokens t
JOIN lift_identities i USING (who) JOIN lift_outcome o USING (recipient) GROUP BY 1
"""
_EXPOSURES = """
SELECT DISTINCT i.identity AS who, epoch(s.sent_at)::BIGINT AS second FROM lift_tokens t
JOIN lift_identities i USING (who) JOIN lift_sends s USING (recipient) WHERE NOT s.held_out
"""


def _store_attributed(
    con: duckdb.DuckDBPyConnection,
    engine: Engine,
    workspace_id: int,
    *,
    campaign: str,
    goal: str,
    window: int,
    models: Sequence[str] = MODEL_NAMES,
) -> dict[str, float]:
    """The attribution engine by campaign over the matched recipients' collected journeys:
    their touches, their goal conversions within their window, and the campaign's treated
    sends as exposures (billboard). The journeys are built in DuckDB from these identities'
    own rows (`journeys.collected_journeys(identities=…)`)."""
    tokens = [str(w) for (w,) in con.execute("SELECT DISTINCT who FROM lift_tokens").fetchall()]
    identity = _identities(engine, workspace_id, tokens)
    register(
        con,
        "lift_identities",
        {
            "who": np.array(list(identity), dtype=object),
            "identity": np.array(list(identity.values()), dtype=object),
        },
    )
    anchors = con.sql(_ANCHORS).to_arrow_table()
    exposures = con.sql(_EXPOSURES).to_arrow_table()
    with collected_journeys(engine, workspace_id, identities=set(identity.values())) as found:
        table = found.build_anchored(goal, campaign, window, anchors, exposures)
        loaded = duckdb_engine.load_relation(found.con, table, by="campaign", name="lift")
        if not loaded.n_users:
            return {name: 0.0 for name in models}
        credits = run_models(loaded, models)
    return {
        name: credit.as_dict()["conversions"].get(campaign, 0.0) for name, credit in credits.items()
    }


def store_lift(
    engine: Engine,
    workspace_id: int,
    *,
    campaign: str,
    goal: str,
    secret: bytes,
    now: datetime,
    window: int = DEFAULT_WINDOW,
    level: float = 0.95,
    holdout: str | None = None,
    models: Sequence[str] = MODEL_NAMES,
) -> LiftReport:
    """The §10 document for a campaign of the store: its sends (held-out ones included) and
    the goal conversions of the collected journeys matched to its recipients. `holdout`
    overrides the share the assignment meant (else the campaign's and the workspace's)."""
    _check(window, level)
    found = get_campaign(engine, workspace_id, campaign.strip())
    space = get_workspace(engine, workspace_id)
    if holdout is not None:
        expected: float | None = holdout_share(holdout)
    else:
        expected = expected_share(found.holdout, space.global_holdout)
    goals = list_goals(engine, workspace_id)
    con = _connect()
    try:
        load_store_conversions(con, engine, workspace_id, goals=goals, goal=goal, secret=secret)
        data_end = now.replace(tzinfo=None)
        totals = load_store_sends(con, engine, found.id, window=window, data_end=data_end)
        if totals.treatment + totals.control == 0:
            raise InvalidInput(
                f"campaign {found.name!r} has no sends",
                hint="record sends with POST /api/sends (or send messages) before measuring lift",
            )
        matched = matching(con, totals)
        outcome = compute_outcome(con, window=window, data_end=data_end, totals=totals)
        if outcome.control.recipients == 0:
            raise _no_holdout(
                f"no recipient of campaign {found.name!r} was held out",
                f" (the workspace's global_holdout is {share_text(space.global_holdout)})",
            )
        attributed = (
            _store_attributed(
                con,
                engine,
                workspace_id,
                campaign=found.name,
                goal=goal,
                window=window,
                models=models,
            )
            if models
            else {}
        )
    finally:
        con.close()
    report = lift_report(
        campaign=found.name,
        goal=goal,
        window=window,
        level=level,
        outcome=outcome,
        expected_control_share=expected,
        attributed=attributed,
        data_end=now.replace(tzinfo=None),
        extra={"matching": matched.as_dict()},
    )
    if matched.matched < matched.recipients:
        report.document["warnings"].append(
            f"{matched.recipients - matched.matched} of {matched.recipients} recipients "
            "could not be matched to a collected user (by user id or the email/phone trait of "
            "an identify call); they count as not converted"
        )
    return report
