"""/api/build and /api/check: the link builder and the redirect checker, over HTTP.

The checker always runs with the SSRF guard (`Guard()`: public addresses on ports 80 and 443
only); `unsafe_allow_private` (tests only) lets it reach private addresses and any port, still
never cloud metadata endpoints. At most four checks run at once per server process; more wait.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from tagtrail.check import Guard, acheck_url
from tagtrail.links import DEFAULT_POLICY, build_link
from tagtrail.server.api.limits import LimitedRoute
from tagtrail.server.api.models import BuildRequest, BuildResponse, CheckRequest
from tagtrail.server.deps import Admin, State

CHECK_CONCURRENCY = 4
router = APIRouter(prefix="/api", tags=["tools"], route_class=LimitedRoute)


@router.post("/build", response_model=BuildResponse, summary="Build a tracked link")
def build(body: BuildRequest, _who: Admin) -> dict[str, Any]:
    """What `tagtrail build --json` prints: `status`, `tracked_url`, `channel` and `issues`.
    The answer is 200 even when `status` is "error": the issues are the answer (and
    `tracked_url` is null). Nothing is stored. An unknown `preset` is a 422."""
    values = body.given()
    if body.preset is not None:
        chosen = DEFAULT_POLICY.preset(body.preset)
        values.setdefault("source", chosen.source)
        values.setdefault("medium", chosen.medium)
    return build_link(body.url, policy=DEFAULT_POLICY, **values).to_json()


@router.post("/check", summary="Check a link's redirect chain")
async def check(body: CheckRequest, request: Request, state: State, _who: Admin) -> dict[str, Any]:
    """Follow `url`'s redirects (at most `max_hops` ≤ 10, within `timeout` ≤ 10 seconds in all)
    and report every hop and check, as `tagtrail check --json` does. Always behind the SSRF
    guard: a hop to a private, loopback or metadata address is reported as blocked and never
    made. Broken or blocked hops are data in the report (200), not errors."""
    guard = Guard(ports=None, private=True) if state.settings.unsafe_allow_private else Guard()
    async with _slots(request):
        report = await acheck_url(
            body.url, max_hops=body.max_hops, timeout=body.timeout, guard=guard
        )
    return report.to_json()


def _slots(request: Request) -> asyncio.Semaphore:
    """The app's check semaphore (made inside its event loop on first use)."""
    slots: asyncio.Semaphore | None = getattr(request.app.state, "check_slots", None)
    if slots is None:
        slots = asyncio.Semaphore(CHECK_CONCURRENCY)
        request.app.state.check_slots = slots
    return slots
