"""schemathesis against the OpenAPI of the collection routes of a real `tagtrail serve`
(SQLite): generated bodies, parameters and keys never make a server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from harness.live import LiveServer, start_server  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

PATHS = ("/v1/", "/api/profiles", "/api/goals", "/api/journeys", "/t.gif", "/t.js")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with start_server(data_dir=tmp_path_factory.mktemp("fuzz") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(live: LiveServer) -> Any:
    loaded = schemathesis.openapi.from_url(f"{live.origin}/openapi.json")
    return loaded.include(path_regex="^(" + "|".join(p.replace(".", r"\.") for p in PATHS) + ")")


def test_no_server_error(api_schema: Any, live: LiveServer) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 11
    seen: list[str] = []
    calls: list[int] = []
    for operation in operations:

        @given(operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            for headers in (live.headers, {"Authorization": "Basic " + _basic(live.key)}):
                response = case.call(base_url=live.origin, headers=headers, timeout=30)
                calls.append(response.status_code)
                assert response.status_code < 500, (case.method, case.path, response.text)

        check()
        seen.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /v1/batch" in seen and "GET /api/profiles/{user_id}" in seen
    assert len(calls) > 200 and 200 in calls, sorted(set(calls))


def _basic(key: str) -> str:
    import base64

    return base64.b64encode(f"{key}:".encode()).decode()


def test_the_fuzzed_server_is_still_up(live: LiveServer) -> None:
    assert live.api("GET", "/health")["ok"] is True
    assert Path(live.logs).exists()
