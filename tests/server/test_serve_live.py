"""`tagtrail serve` under each HTTP server (`--server uvicorn|granian`, issue 21): what it does
does not depend on the server: no server name in answers, the client address and scheme taken
from a trusted proxy only, a graceful stop that commits the clicks in flight, the startup
lines printed once the address is bound (issue 16 item 17)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from harness.live import (
    TAGTRAIL,
    Answer,
    LiveServer,
    endless_load,
    free_port,
    query,
    start_server,
)
from sqlalchemy import select

from tagtrail.store.schema import clicks
from tests.clicks.test_bots import BROWSER_AGENTS

DESTINATION = "https://shop.example/spring?ref=mail"
CHROME = BROWSER_AGENTS["Chrome desktop"]
SERVERS = ["uvicorn", "granian"]


@pytest.fixture(params=SERVERS)
def server_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def serve(tmp_path: Path, server: str, **env: str) -> LiveServer:
    return start_server(data_dir=tmp_path / "data", env={"TAGTRAIL_SERVER": server, **env})


def stored_ips(live: LiveServer) -> list[str | None]:
    return [row.ip for row in query(live.store_url, select(clicks.c.ip).order_by(clicks.c.id))]


def test_answers_name_no_server(tmp_path: Path, server_name: str) -> None:
    with serve(tmp_path, server_name) as live:
        live.create_link(DESTINATION, code="plain")
        with httpx.Client(base_url=live.origin) as client:
            for answer in (client.get("/plain"), client.get("/nope"), client.get("/health")):
                assert answer.headers.get_list("server") in ([], [""]), answer.headers


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(
    tmp_path: Path, server_name: str
) -> None:
    headers = {"User-Agent": CHROME, "X-Forwarded-For": "203.0.113.77"}
    with serve(tmp_path / "open", server_name) as live:
        live.create_link(DESTINATION, code="direct")
        assert httpx.get(f"{live.origin}/direct", headers=headers).status_code == 302
        assert stored_ips(live) == ["127.0.0.0"]  # the socket's peer, anonymised
    with serve(tmp_path / "proxied", server_name, TAGTRAIL_FORWARDED_ALLOW_IPS="127.0.0.1") as live:
        live.create_link(DESTINATION, code="proxied")
        assert httpx.get(f"{live.origin}/proxied", headers=headers).status_code == 302
        assert stored_ips(live) == ["203.0.113.0"]


def _signed_in_cookie(live: LiveServer, headers: dict[str, str]) -> str:
    """The session's Set-Cookie of a dashboard sign-in sent with `headers`."""
    with httpx.Client(base_url=live.origin, headers=headers) as client:
        form = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None, form.text
        answer = client.post("/login", data={"key": live.key, "csrf": csrf[1], "next": "/"})
    assert answer.status_code == 303, answer.text
    return next(c for c in answer.headers.get_list("set-cookie") if c.startswith("tt_session="))


def test_a_tls_terminating_proxy_makes_the_session_cookie_secure(
    tmp_path: Path, server_name: str
) -> None:
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    with serve(tmp_path / "open", server_name) as live:
        assert "secure" not in _signed_in_cookie(live, https).lower()
    trusted = {"TAGTRAIL_FORWARDED_ALLOW_IPS": "127.0.0.1"}
    with serve(tmp_path / "proxied", server_name, **trusted) as live:
        assert "secure" in _signed_in_cookie(live, https).lower()


def test_sigterm_under_load_commits_every_acknowledged_click(
    tmp_path: Path, server_name: str
) -> None:
    with serve(tmp_path, server_name) as live:
        live.create_link(DESTINATION, code="drain")
        answers: list[Answer] = []
        load = endless_load(live.origin, "/drain", answers)
        time.sleep(1.5)
        live.proc.send_signal(signal.SIGTERM)
        # uvicorn raises the signal again once it has drained, and dies of it, as it always did
        assert live.proc.wait(30) in (0, -signal.SIGTERM), live.output()
        load.join(30)
        assert not load.is_alive()
        acknowledged = sum(a.status == 302 for a in answers)
        assert acknowledged == len(answers) > 500
        stored = len(stored_ips(live))
        assert acknowledged <= stored <= acknowledged + 32


def test_a_busy_port_fails_before_serving_on_is_printed(tmp_path: Path, server_name: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = [str(TAGTRAIL), "serve", "--port", str(port), "--data-dir", str(tmp_path / "d")]
        env = {**os.environ, "TAGTRAIL_SERVER": server_name}
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1, done
    assert "serving on" not in done.stdout
    assert f"Error: cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Hint: another program may be using that port" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "d").exists()  # nothing was created for a server that never ran


def test_serving_on_is_printed_once_the_port_answers(tmp_path: Path, server_name: str) -> None:
    port = free_port()
    argv = [str(TAGTRAIL), "serve", "--port", str(port), "--data-dir", str(tmp_path / "d")]
    out = tmp_path / "out.txt"
    with out.open("w") as handle:
        env = {**os.environ, "TAGTRAIL_SERVER": server_name}
        proc = subprocess.Popen(argv, stdout=handle, env=env)
    try:
        deadline = time.monotonic() + 30
        while "serving on" not in out.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, out.read_text()
            time.sleep(0.02)
        assert f"tagtrail serving on http://127.0.0.1:{port}" in out.read_text()
        with socket.create_connection(("127.0.0.1", port), timeout=1):  # bound and listening
            pass
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture
def two_workers(tmp_path: Path, server_name: str) -> Iterator[LiveServer]:
    env = {"TAGTRAIL_SERVER": server_name}
    with start_server(data_dir=tmp_path / "data", workers=2, env=env) as live:
        yield live


def test_a_dead_worker_is_started_again(two_workers: LiveServer) -> None:
    live = two_workers
    live.create_link(DESTINATION, code="again")
    workers = _worker_pids(live)
    assert len(workers) == 2, workers
    subprocess.run(["kill", "-9", workers[0]], check=True)
    statuses = []
    for _ in range(200):
        try:
            statuses.append(httpx.get(f"{live.origin}/again", timeout=2).status_code)
        except httpx.TransportError:
            statuses.append(0)
        time.sleep(0.05)
        if statuses[-5:] == [302] * 5 and _workers(live) == 2:
            break
    assert statuses[-1] == 302 and _workers(live) == 2


def _cmdline(pid: str) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _worker_pids(live: LiveServer) -> list[str]:
    """`serve`'s children but the journal and multiprocessing's resource tracker."""
    found = subprocess.run(
        ["pgrep", "-P", str(live.proc.pid)], capture_output=True, text=True
    ).stdout.split()
    helpers = ("tagtrail.store.journal", "resource_tracker")
    return [pid for pid in found if not any(h in _cmdline(pid) for h in helpers)]


def _workers(live: LiveServer) -> int:
    return len(_worker_pids(live))


def test_a_streamed_request_and_answer_pass_whole(tmp_path: Path, server_name: str) -> None:
    """The messages' render route reads its body as a stream and streams its answer: under
    Granian both go through the RSGI front's bridge to the ASGI app."""
    recipients = [f"user-{i}" for i in range(3_000)]  # a body of several chunks, and answers
    csv_text = "recipient\n" + "\n".join(recipients) + "\n"
    with serve(tmp_path, server_name) as live:
        live.api("POST", "/api/campaigns", json={"name": "spring"})
        body = '<a href="https://shop.example/sale">Sale</a>'
        created = live.api(
            "POST",
            "/api/messages",
            json={"campaign": "spring", "channel": "email", "body": body, "preset": "intercom"},
        )

        def chunks() -> Iterator[bytes]:
            data = csv_text.encode()
            for start in range(0, len(data), 4096):
                yield data[start : start + 4096]

        with httpx.Client(base_url=live.origin, headers=live.headers, timeout=60) as client:
            answer = client.post(
                f"/api/messages/{created['message']}/render",
                content=chunks(),
                headers={"content-type": "text/csv"},
            )
        assert answer.status_code == 200, answer.text
        lines = [json.loads(line) for line in answer.text.splitlines()]
        assert [line["recipient"] for line in lines] == recipients
