"""Lift (DESIGN §10): what a campaign caused, from its holdout, beside its attributed credit.

One use case per source: `file_lift` (a sends CSV and a §7 events file) and `store_lift` (the
store's sends and collected journeys). Both fill DuckDB's `lift_sends` / `lift_conversions`,
fold them with `lift.outcome`, run the attribution engine by campaign over the same recipients
and window, and shape the §10 document with `lift.document`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from tagtrail.attribution import duckdb_engine
from tagtrail.attribution.registry import MODEL_NAMES
from tagtrail.attribution.report import run_models
from tagtrail.errors import InvalidInput
from tagtrail.lift import files
from tagtrail.lift.assignment import holdout_share
from tagtrail.lift.document import LiftReport, lift_report
from tagtrail.lift.outcome import compute_outcome

DEFAULT_WINDOW = 7 * 86_400
MAX_WINDOW = 366 * 86_400


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def _check(window: int, level: float) -> None:
    if not 0 < window <= MAX_WINDOW:
        raise InvalidInput(
            f"window of {window} seconds is out of range", hint="give 1h to 366d, such as 7d"
        )
    if not 0.5 <= level < 1.0:
        raise InvalidInput(f"level {level} is out of range", hint="give a level such as 0.95")


def attributed_to(con: duckdb.DuckDBPyConnection, campaign: str, window: int) -> dict[str, float]:
    """Conversions each model credits to `campaign` over `lift_outcome`'s recipients and window
    (`lift_events` holds their journeys)."""
    with tempfile.TemporaryDirectory(prefix="tagtrail-lift-") as folder:
        path = Path(folder) / "journeys.csv"
        files.write_attribution_events(con, path, campaign=campaign, window=window)
        loaded = duckdb_engine.load(path, by="campaign")
    if not loaded.n_users:
        return {name: 0.0 for name in MODEL_NAMES}
    credits = run_models(loaded, MODEL_NAMES)
    return {
        name: credit.as_dict()["conversions"].get(campaign, 0.0) for name, credit in credits.items()
    }


def file_lift(
    sends: Path,
    events: Path,
    *,
    campaign: str,
    window: int = DEFAULT_WINDOW,
    level: float = 0.95,
    holdout: str | None = None,
) -> LiftReport:
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
            raise InvalidInput(
                f"lift needs a holdout: no send of campaign {campaign!r} in {sends} is held out",
                hint="hold out a share of the recipients when sending (tagtrail messages "
                "--holdout 10%, the campaign's holdout setting or the workspace's "
                "global_holdout) and mark their sends held_out=true",
            )
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
