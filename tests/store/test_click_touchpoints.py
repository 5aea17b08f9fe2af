"""A short-link click's touchpoint is its click row (`clicks.url`): migration 0004 moves the
touchpoints older versions stored for clicks into their click rows, with the same journeys;
human clicks are read as touchpoints, bot clicks and re-flagged bursts are not; the dashboard's
journeys version moves with new and removed clicks. SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select

from tagtrail.collect import Touchpoint, click_touchpoint
from tagtrail.service import figures as dashboard
from tagtrail.service.clicks import flag_burst
from tagtrail.service.collect import touchpoint_row, write_rows
from tagtrail.service.collected import _stored_touch, load_collected
from tagtrail.service.keys import ensure_workspace
from tagtrail.service.links import LinkInfo, LinkSpec, create_link, delete_link
from tagtrail.store.database import create_engine_for, migrate
from tagtrail.store.schema import clicks, links, recipients, touchpoints, workspaces

NOW = datetime(2026, 5, 1, 12, 0, 0, 250_000)
ORIGIN = "https://go.example.com"
LANDING = "https://shop.example/offer?utm_source=newsletter&utm_medium=email&utm_campaign=spring"
SOCIAL = "https://shop.example/?utm_source=facebook&utm_medium=social&utm_campaign=spring"
FACEBOOK = "https://l.facebook.com"


def _setup(engine: Engine) -> tuple[int, int, LinkInfo, LinkInfo]:
    """Two workspaces with a link each; recipients p1 (user `u1`) and p2 (an email) in the first."""
    first, _ = ensure_workspace(engine, now=NOW)
    with engine.begin() as conn:
        second = conn.execute(
            insert(workspaces)
            .values(
                name="other", default_utm="{}", identify=True, excluded_domains="[]",
                created_at=NOW,
            )
            .returning(workspaces.c.id)
        ).scalar_one()  # fmt: skip
        for r, kind, key in ((1, "user", "u1"), (2, "email", "e" * 64)):
            conn.execute(
                insert(recipients).values(
                    id=r, workspace_id=first, public_id=f"p{r}", kind=kind, key=key,
                    created_at=NOW,
                )
            )  # fmt: skip
    utm = {"source": "newsletter", "medium": "email"}
    spec = LinkSpec(url="https://shop.example/offer", campaign="spring", utm=utm)
    mine = create_link(engine, first, spec, origin=ORIGIN, now=NOW)
    theirs = create_link(engine, second, spec, origin=ORIGIN, now=NOW)
    return first, second, mine, theirs


def _click(link: LinkInfo, at: datetime, visitor: str, **fields: Any) -> dict[str, Any]:
    row = {
        "link_id": link.id,
        "clicked_at": at,
        "recipient_id": None,
        "ip": None,
        "user_agent": "Mozilla/5.0",
        "referrer": "",
        "method": "GET",
        "is_bot": False,
        "bot_reasons": "",
        "visitor": visitor,
        "identified": False,
    }
    return {**row, **fields}


def _add(engine: Engine, *rows: dict[str, Any]) -> list[int]:
    with engine.begin() as conn:
        return [conn.execute(insert(clicks).values(row)).inserted_primary_key[0] for row in rows]


def _click_touches(engine: Engine, workspace: int) -> list[Touchpoint]:
    found = load_collected(engine, workspace).arrivals.values()
    return sorted(
        (t for ts in found for t in ts if t.kind == "click"), key=lambda t: t.visitor or ""
    )


def test_migration_moves_click_touchpoints_into_their_clicks(store_url: str) -> None:
    engine = create_engine_for(store_url)
    try:
        assert migrate(engine, upto=3)[-1] == "0003_dashboard.sql"  # a store of the last version
        first, second, mine, theirs = _setup(engine)
        t1, t2, t3 = (NOW + timedelta(minutes=m) for m in (0, 10, 20))
        # What the last version's redirect wrote: a click row and, for a human click, its
        # touchpoint (message id `click:` and a time-ordered hex id).
        human = [  # (workspace, link, time, visitor, recipient, referrer, landing URL)
            (first, mine, t1, "v1", 1, None, LANDING),  # a user recipient
            (first, mine, t2, "v2", 2, FACEBOOK, SOCIAL),  # an email recipient
            (first, mine, t3, "v3", None, None, LANDING),  # an anonymous visitor
            (second, theirs, t1, "v1", None, None, SOCIAL),  # same visitor and time, elsewhere
        ]
        made: list[dict[str, Any]] = []
        for _, link, at, v, r, ref, _ in human:
            made.append(_click(link, at, v, recipient_id=r, referrer=ref or ""))
        ids = _add(
            engine,
            *made,
            _click(mine, t3, "v4", is_bot=True, bot_reasons="user_agent"),
            _click(mine, t3, "v5"),  # a human click stored before clicks had touchpoints
        )
        old = [
            touchpoint_row(ws, click_touchpoint(
                click_id=f"0190{n:012x}ab12cd{n:04x}", clicked_at=at, destination=url,
                referrer=ref, recipient=f"p{r}" if r else None, visitor=v,
            ))
            for n, (ws, _, at, v, r, ref, url) in enumerate(human)
        ]  # fmt: skip
        imported = Touchpoint(
            message_id="import:abc:1", timestamp=t2, kind="page", source="google",
            medium="cpc", campaign="brand", content=None, term=None, channel="Paid Search",
            anonymous_id="import:abc:1", user_id="u1",
        )  # fmt: skip
        write_rows(engine, touchpoints, [*old, touchpoint_row(first, imported)])
        with engine.connect() as conn:  # the touches the last version read from those rows
            rows = conn.execute(select(touchpoints).order_by(touchpoints.c.id)).all()
        before = [_stored_touch(row, {"p1": "u1"}) for row in rows[:4]]
        expected = [replace(t, message_id=f"click:{i}") for t, i in zip(before, ids, strict=False)]

        assert migrate(engine, upto=4) == ["0004_click_touchpoints.sql"]
        with engine.connect() as conn:
            urls = dict(conn.execute(select(clicks.c.id, clicks.c.url)).all())
            left = conn.execute(select(touchpoints.c.message_id, touchpoints.c.kind)).all()
        assert [urls[i] for i in ids] == [LANDING, SOCIAL, LANDING, SOCIAL, None, None]
        assert [tuple(r) for r in left] == [("import:abc:1", "page")]  # imported touches stay
        assert _click_touches(engine, first) == expected[:3]  # the same journeys as before
        assert _click_touches(engine, second) == expected[3:]
        assert [t.user_id for t in expected] == ["u1", None, None, None]
        assert migrate(engine, upto=4) == []
    finally:
        engine.dispose()


def test_human_clicks_are_touchpoints_bots_and_bursts_are_not(engine: Engine) -> None:
    first, second, mine, theirs = _setup(engine)
    ids = _add(
        engine,
        _click(mine, NOW, "v1", recipient_id=1, url=LANDING),
        _click(mine, NOW, "v2", is_bot=True, bot_reasons="user_agent"),
        _click(theirs, NOW, "v3", url=SOCIAL, referrer=FACEBOOK),
    )
    collected = load_collected(engine, first)
    identity = collected.graph.users["u1"]  # the recipient is user u1 (a `recipient` fact)
    [touch] = collected.arrivals[identity]
    assert (touch.message_id, touch.channel, touch.recipient, touch.user_id, touch.url) == (
        f"click:{ids[0]}", "Email", "p1", "u1", LANDING,
    )  # fmt: skip
    assert list(collected.arrivals) == [identity]  # the bot click is no touchpoint
    [other] = _click_touches(engine, second)
    assert (other.message_id, other.referrer, other.visitor) == (f"click:{ids[2]}", FACEBOOK, "v3")

    with engine.connect() as conn:
        campaign = conn.execute(select(links.c.campaign_id).where(links.c.id == mine.id)).scalar()
    version = dashboard.version(engine, first)
    assert flag_burst(engine, campaign_id=campaign, recipient_id=1, visitor="v1", since=NOW) == 1
    assert _click_touches(engine, first) == []  # re-flagged as a bot: out of the journeys
    with engine.connect() as conn:
        flagged = conn.execute(select(clicks.c.is_bot, clicks.c.url).where(clicks.c.id == ids[0]))
        assert tuple(flagged.one()) == (True, None)
    assert dashboard.version(engine, first) != version  # the dashboard computes its figures again


def test_journeys_version_moves_with_clicks_and_settles(engine: Engine) -> None:
    first, _, mine, _ = _setup(engine)
    before = dashboard.version(engine, first)
    assert dashboard.version(engine, first, settle=True) == before
    _add(engine, _click(mine, NOW, "v1", url=LANDING))
    after = dashboard.version(engine, first, settle=True)
    assert after != before and dashboard.version(engine, first) == after
    delete_link(engine, first, mine.code)
    assert dashboard.version(engine, first) != after  # a deleted link's clicks leave journeys
    assert _click_touches(engine, first) == []
