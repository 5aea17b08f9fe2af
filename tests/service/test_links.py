from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect, text

from tagtrail.errors import AuthError, Conflict, InvalidInput, InvalidLink, NotFound
from tagtrail.service import keys
from tagtrail.service import links as service
from tagtrail.store.database import migrate
from tagtrail.store.schema import metadata

NOW = datetime(2026, 11, 24, 9, 0, 0)
ORIGIN = "https://go.example.com"


def test_migrations_create_every_table_once(engine: Engine) -> None:
    assert migrate(engine) == []  # already applied by prepare_store
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    for name, table in metadata.tables.items():
        columns = {c["name"] for c in inspect(engine).get_columns(name)}
        assert columns == {c.name for c in table.columns}, name


def test_only_clicks_with_a_recipient_are_indexed_by_recipient(engine: Engine) -> None:
    """Migration 0005: `clicks_recipient` is partial, and a lookup by recipient still uses it."""
    lookup = "SELECT count(*) FROM clicks WHERE recipient_id = 7"
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'clicks_recipient'")
            ).scalar_one()
            plan = " ".join(
                str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {lookup}")
            )
        else:
            sql = conn.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'clicks_recipient'")
            ).scalar_one()
            conn.exec_driver_sql("SET enable_seqscan = off")  # the table is empty
            plan = " ".join(str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {lookup}"))
    assert "WHERE" in sql.upper() and "IS NOT NULL" in sql.upper()
    assert "clicks_recipient" in plan


def test_first_workspace_and_keys(engine: Engine) -> None:
    workspace, raw = keys.ensure_workspace(engine, now=NOW)
    assert raw is not None and raw.startswith("tt_admin_")
    assert keys.ensure_workspace(engine, now=NOW) == (workspace, None)
    principal = keys.authenticate(engine, raw, kinds=("admin",))
    assert principal.workspace_id == workspace and principal.kind == "admin"
    info, write = keys.create_key(engine, workspace, "write", "site", now=NOW)
    with pytest.raises(AuthError, match="a write key cannot do this"):
        keys.authenticate(engine, write, kinds=("admin",))
    keys.revoke_key(engine, info.id, now=NOW)
    with pytest.raises(AuthError, match="unknown or revoked"):
        keys.authenticate(engine, write, kinds=("write",))
    with pytest.raises(NotFound):
        keys.revoke_key(engine, info.id, now=NOW)
    listed = keys.list_keys(engine)
    assert [k.kind for k in listed] == ["admin", "write"]
    assert all(raw not in str(k.to_json()) for k in listed)


def test_create_show_update_disable_delete(engine: Engine) -> None:
    workspace, _ = keys.ensure_workspace(engine, now=NOW)
    spec = service.LinkSpec(
        url="https://example.com/pricing?ref=nav",
        campaign="Black Week",
        utm={"source": "intercom", "medium": "email", "content": "Hero"},
        tags=["q4"],
    )
    link = service.create_link(engine, workspace, spec, origin=ORIGIN, now=NOW)
    assert link.short_url == f"{ORIGIN}/{link.code}" and len(link.code) == 7
    assert link.tracked_url == (
        "https://example.com/pricing?ref=nav&utm_source=intercom&utm_medium=email"
        "&utm_campaign=black-week&utm_content=hero"
    )
    assert link.channel == "Email" and link.campaign == "Black Week"
    changed = service.update_link(
        engine,
        workspace,
        link.code,
        service.LinkSpec(utm={"content": "Footer"}),
        origin=ORIGIN,
        now=NOW,
    )
    assert changed.tracked_url.endswith("utm_content=footer")
    before = service.links_version(engine)
    service.set_disabled(engine, workspace, link.code, True)
    assert service.resolve(engine, link.code).disabled  # type: ignore[union-attr]
    assert service.links_version(engine) == before + 1
    page, count = service.list_links(engine, workspace, origin=ORIGIN, tag="q4")
    assert count == 1 and page[0].code == link.code
    service.delete_link(engine, workspace, link.code)
    assert service.resolve(engine, link.code) is None
    with pytest.raises(NotFound):
        service.get_link(engine, link.code, origin=ORIGIN)


def test_custom_codes_and_refusals(engine: Engine) -> None:
    workspace, _ = keys.ensure_workspace(engine, now=NOW)
    spec = service.LinkSpec(
        url="https://example.com/", code="spring", utm={"source": "newsletter", "medium": "email"}
    )
    assert service.create_link(engine, workspace, spec, origin=ORIGIN, now=NOW).code == "spring"
    with pytest.raises(Conflict, match="taken"):
        service.create_link(engine, workspace, spec, origin=ORIGIN, now=NOW)
    for bad in ("api", "a/b", "-x", "x" * 65, "t.js"):
        with pytest.raises(InvalidInput):
            service.create_link(
                engine,
                workspace,
                service.LinkSpec(
                    url="https://example.com/", code=bad, utm={"source": "a", "medium": "email"}
                ),
                origin=ORIGIN,
                now=NOW,
            )
    with pytest.raises(InvalidLink) as caught:
        service.create_link(
            engine,
            workspace,
            service.LinkSpec(url="javascript:alert(1)", utm={"source": "a", "medium": "email"}),
            origin=ORIGIN,
            now=NOW,
        )
    assert caught.value.issues.issues[0].code == "E_SCHEME_UNSUPPORTED"
    with pytest.raises(InvalidLink, match="utm_source is required"):
        service.create_link(
            engine, workspace, service.LinkSpec(url="https://example.com/"), origin=ORIGIN, now=NOW
        )


def test_utm_precedence_destination_link_campaign_workspace(engine: Engine) -> None:
    from sqlalchemy import update

    from tagtrail.store.schema import workspaces

    workspace, _ = keys.ensure_workspace(engine, now=NOW)
    with engine.begin() as conn:  # Instasent's defaults, at workspace level
        conn.execute(
            update(workspaces).values(
                default_utm='{"source": "instasent", "medium": "sms", "content": "ws"}'
            )
        )
    link = service.create_link(
        engine,
        workspace,
        service.LinkSpec(
            url="https://shop.example/?utm_content=own",
            campaign="Spring Promo",
            utm={"term": "link"},
        ),
        origin=ORIGIN,
        now=NOW,
    )
    assert link.tracked_url == (
        "https://shop.example/?utm_source=instasent&utm_medium=sms&utm_campaign=spring-promo"
        "&utm_term=link&utm_content=own"
    )
    assert link.channel == "SMS"
    _ = datetime.now(UTC)


def test_stats_per_link_campaign_and_recipient(engine: Engine, secret: bytes) -> None:
    from sqlalchemy import insert

    from tagtrail.service.recipients import ensure_recipient
    from tagtrail.service.stats import campaign_stats, link_stats, recipient_stats
    from tagtrail.store.schema import clicks

    workspace, _ = keys.ensure_workspace(engine, now=NOW)
    link = service.create_link(
        engine,
        workspace,
        service.LinkSpec(
            url="https://example.com/", campaign="Spring", utm={"source": "a", "medium": "email"}
        ),
        origin=ORIGIN,
        now=NOW,
    )
    with engine.begin() as conn:
        alice = ensure_recipient(conn, workspace, "Alice@Example.com", secret=secret, now=NOW)
        rows = [
            (alice.id, False, "v1"),
            (alice.id, False, "v1"),
            (None, True, "v2"),
            (None, False, "v3"),
        ]
        for recipient_id, is_bot, visitor in rows:
            conn.execute(
                insert(clicks).values(
                    link_id=link.id,
                    clicked_at=NOW,
                    recipient_id=recipient_id,
                    ip="127.0.0.0",
                    user_agent="",
                    referrer="",
                    method="GET",
                    is_bot=is_bot,
                    bot_reasons="",
                    visitor=visitor,
                    identified=False,
                )
            )
    stats = link_stats(engine, link.code)
    assert (stats["total"], stats["human"], stats["bot"], stats["unique"]) == (4, 3, 1, 2)
    assert stats["by_day"] == [{"day": "2026-11-24", "total": 4, "human": 3, "bot": 1}]
    assert stats["recipients"] == [{"recipient": alice.label, "clicks": 2, "human": 2}]
    assert campaign_stats(engine, workspace, "Spring")["total"] == 4
    mine = recipient_stats(engine, workspace, "alice@example.com ", secret=secret)
    assert mine["total"] == 2 and mine["links"][0]["code"] == link.code
    assert "alice" not in str(mine).lower()
    with pytest.raises(NotFound):
        recipient_stats(engine, workspace, "bob@example.com", secret=secret)
