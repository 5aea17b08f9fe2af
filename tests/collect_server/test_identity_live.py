"""The stored identity mapping under a real `tagtrail serve`: the writer folds what it commits
(an identify is in the mapping well within a second of its 200, without any read folding it),
and a kill -9 in the middle of identified batches leaves mapping and events that agree with the
from-scratch resolver once the server is back. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
from harness.live import LiveServer, write_key

from tagtrail.service.collected import load_collected, profile_of, user_profile
from tagtrail.store import identities
from tagtrail.store.database import open_store
from tests.conftest import CliResult


def _mapped(server: LiveServer, user: str) -> bool:
    engine = open_store(server.store_url)
    try:
        with engine.connect() as conn:
            return identities.identity_of_user(conn, 1, user) is not None
    finally:
        engine.dispose()


def test_the_writer_folds_an_identify_within_a_second(
    live: LiveServer, run_cli: Callable[..., CliResult]
) -> None:
    key = write_key(run_cli, live)
    waited = []
    with httpx.Client(base_url=live.origin, auth=(key, ""), timeout=10) as client:
        for n in range(5):
            body = {"userId": f"fresh-{n}", "anonymousId": f"fa-{n}"}
            assert client.post("/v1/identify", json=body).status_code == 200
            acked = time.monotonic()
            while not _mapped(live, f"fresh-{n}"):  # no read folds here: the writer did it
                assert time.monotonic() - acked < 1.0, "the identify was not folded within 1 s"
                time.sleep(0.01)
            waited.append(time.monotonic() - acked)
    answer = httpx.get(f"{live.origin}/api/profiles/fresh-4", headers=live.headers)
    assert answer.status_code == 200 and answer.json()["anonymous_ids"] == ["fa-4"]
    assert max(waited) < 1.0


def test_kill_9_mid_batch_leaves_mapping_and_events_consistent(
    live: LiveServer, run_cli: Callable[..., CliResult]
) -> None:
    key = write_key(run_cli, live)
    stop = threading.Event()

    def sender(worker: int) -> None:
        with httpx.Client(base_url=live.origin, auth=(key, ""), timeout=10) as client:
            n = 0
            while not stop.is_set():
                n += 1
                batch = []
                for i in range(20):  # new visitors, some identified; some claimed twice
                    anon = f"w{worker}-{n}-a{i}"
                    batch.append({"type": "page", "anonymousId": anon, "messageId": f"{anon}-p"})
                    if i % 3 == 0:
                        user = f"w{worker}-u{(n + i) % 7}"
                        batch.append(
                            {"type": "identify", "anonymousId": anon, "userId": user,
                             "messageId": f"{anon}-i"}
                        )  # fmt: skip
                    if i % 5 == 0:
                        batch.append(
                            {"type": "identify", "anonymousId": f"w{worker}-{n}-a0",
                             "userId": f"w{worker}-u{i}", "messageId": f"{anon}-c"}
                        )  # fmt: skip
                try:
                    client.post("/v1/batch", json={"batch": batch})
                except httpx.TransportError:
                    return

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    live.kill()
    stop.set()
    for thread in threads:
        thread.join(15)
    with live.restart():  # its start folds whatever the kill left unfolded
        engine = open_store(live.store_url)
        try:
            oracle = load_collected(engine, 1)
            assert len(oracle.graph.users) > 5
            with engine.connect() as conn:
                assert not any(identities.pending(conn).values())
                stored = identities.graph_of(conn, 1)
            assert dict(stored.users) == dict(oracle.graph.users)
            assert dict(stored.anonymous) == dict(oracle.graph.anonymous)
            assert stored.conflicts == oracle.graph.conflicts and stored.conflicts
            for user in sorted(oracle.graph.users)[:10]:
                assert user_profile(engine, 1, user) == profile_of(oracle, user)
        finally:
            engine.dispose()
