"""A small client of the tagtrail JSON API (httpx), used by the CLI's `--api` mode.

Every answer is the API's JSON; every failure becomes the `TagtrailError` the server raised, so a
command prints the same message and exits the same way on a remote server as on a local store:
the error body `{"error", "errors", "status", "issues"?}` is turned back into `AuthError` (401),
`NotFound` (404), `Conflict` (409), `InvalidLink` (422 with `issues`), `InvalidInput` (other 422),
`StoreError` (503) or `TagtrailError`. A server that cannot be reached is a `TagtrailError` too.
"""

from __future__ import annotations

import base64
import logging
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from tagtrail import __version__
from tagtrail.errors import (
    AuthError,
    Conflict,
    InvalidInput,
    InvalidLink,
    NotFound,
    StoreError,
    TagtrailError,
)
from tagtrail.links import BuildResult, Issue

logger = logging.getLogger(__name__)

_BY_STATUS: dict[int, type[TagtrailError]] = {
    401: AuthError,
    403: AuthError,
    404: NotFound,
    409: Conflict,
    422: InvalidInput,
    503: StoreError,
}


class Client:
    """The links API of one server (`api`: its origin, e.g. http://127.0.0.1:8080)."""

    def __init__(
        self,
        api: str,
        key: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api = check_api_url(api)
        self._key = key
        self._http = httpx.Client(
            base_url=self.api,
            headers={
                "Authorization": f"Bearer {key}",
                "User-Agent": f"tagtrail-cli/{__version__}",
                "Accept": "application/json",
            },
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def create_link(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/api/links", json=body)

    def list_links(
        self, *, limit: int, offset: int, campaign: str | None, tag: str | None
    ) -> dict[str, Any]:
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        if campaign is not None:
            params["campaign"] = campaign
        if tag is not None:
            params["tag"] = tag
        return self._json("GET", "/api/links", params=params)

    def get_link(self, code: str) -> dict[str, Any]:
        return self._json("GET", _link(code))

    def link_stats(self, code: str) -> dict[str, Any]:
        return self._json("GET", _link(code, "/stats"))

    def attribution(self, params: dict[str, str]) -> dict[str, Any]:
        return self._json("GET", "/api/attribution", params=params)

    def create_message(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/api/messages", json=body)

    def message_stats(self, message_id: int) -> dict[str, Any]:
        return self._json("GET", f"/api/messages/{int(message_id)}/stats")

    def list_campaigns(self) -> dict[str, Any]:
        return self._json("GET", "/api/campaigns")

    def get_campaign(self, name: str) -> dict[str, Any]:
        return self._json("GET", f"/api/campaigns/{quote(name, safe='')}")

    def create_campaign(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/api/campaigns", json=body)

    def update_campaign(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("PATCH", f"/api/campaigns/{quote(name, safe='')}", json=body)

    def workspace(self) -> dict[str, Any]:
        return self._json("GET", "/api/workspace")

    def update_workspace(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("PATCH", "/api/workspace", json=body)

    def campaign_stats(self, name: str) -> dict[str, Any]:
        return self._json("GET", f"/api/campaigns/{quote(name, safe='')}/stats")

    def campaign_lift(self, name: str, params: dict[str, str]) -> dict[str, Any]:
        path = f"/api/campaigns/{quote(name, safe='')}/lift"
        return self._json("GET", path, params=params)

    def recipient_url(self, code: str, recipient: str) -> str:
        answer = self._json("POST", _link(code, "/recipient-url"), json={"recipient": recipient})
        return str(answer["url"])

    def set_disabled(self, code: str, disabled: bool) -> None:
        self._request("POST", _link(code, "/disable" if disabled else "/enable"))

    def delete_link(self, code: str) -> None:
        self._request("DELETE", _link(code))

    def import_csv(self, text: str, *, timeout: float = 300.0) -> dict[str, Any]:
        """POST a CSV file to /api/links/import: `{"created": [...], "errors": [...]}`."""
        return self._json(
            "POST",
            "/api/links/import",
            content=text.encode("utf-8"),
            headers={"Content-Type": "text/csv; charset=utf-8"},
            timeout=httpx.Timeout(timeout, connect=5.0),
        )

    def profile(self, user_id: str) -> dict[str, Any]:
        return self._json("GET", f"/api/profiles/{quote(user_id, safe='')}")

    def goals(self) -> dict[str, Any]:
        return self._json("GET", "/api/goals")

    def add_goal(self, event: str, revenue: str | None) -> dict[str, Any]:
        return self._json("POST", "/api/goals", json={"event": event, "revenue": revenue})

    def journeys_csv(self, *, timeout: float = 300.0) -> str:
        """GET /api/journeys: the DESIGN §7 CSV of everything collected."""
        timeout_ = httpx.Timeout(timeout, connect=5.0)
        return self._request("GET", "/api/journeys", timeout=timeout_).text

    def send_events(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/batch with this key (an admin key may send events too)."""
        auth = {"Authorization": "Basic " + _basic(self._key)}
        return self._json("POST", "/v1/batch", json=body, headers=auth)

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._request(method, path, **kwargs)
        body = _body(response)
        if not isinstance(body, dict):
            raise self._not_tagtrail(response)
        return body

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise TagtrailError(
                f"the tagtrail server at {self.api} did not answer in time",
                hint="check that it is not overloaded, then try again",
            ) from None
        except httpx.TransportError as exc:
            logger.debug("cannot reach %s: %s", self.api, exc)
            raise TagtrailError(
                f"cannot reach the tagtrail server at {self.api}; is `tagtrail serve` running?",
                hint=f"start it with `tagtrail serve`, or check --api / TAGTRAIL_API ({exc})",
            ) from None
        if response.is_success:
            return response
        raise self._error(response, path)

    def _error(self, response: httpx.Response, path: str) -> TagtrailError:
        body = _body(response)
        if not isinstance(body, dict) or not isinstance(body.get("error"), str):
            return self._not_tagtrail(response)
        status = response.status_code
        message: str = body["error"]
        errors = [str(e) for e in body.get("errors") or []]
        hint = "; ".join(e for e in errors if e != message) or None
        if status == 404 and message == "Not Found":  # a route, not a record, is missing
            return NotFound(
                f"the server at {self.api} has no {path} route",
                hint="is --api the origin of a tagtrail server of this version?",
            )
        if status == 401 and hint is None:
            hint = "give an admin key with --key / TAGTRAIL_KEY (`tagtrail keys create`)"
        if status == 422 and isinstance(body.get("issues"), list):
            issues = tuple(
                issue_from_json(item) for item in body["issues"] if isinstance(item, dict)
            )
            result = BuildResult("error", None, None, issues, {})
            return InvalidLink(message, hint=hint, issues=result)
        kind = _BY_STATUS.get(status, TagtrailError)
        return kind(message, hint=hint)

    def _not_tagtrail(self, response: httpx.Response) -> TagtrailError:
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        return TagtrailError(
            f"the server at {self.api} did not answer as a tagtrail server "
            f"(HTTP {response.status_code}, {kind})",
            hint="check --api / TAGTRAIL_API: it is the origin `tagtrail serve` prints",
        )


def check_api_url(api: str) -> str:
    """`api` without a trailing slash, or InvalidInput when it is not an http(s) origin."""
    value = api.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(
            f"--api {api!r} is not the URL of a tagtrail server",
            hint="give its origin, e.g. --api http://127.0.0.1:8080",
        )
    return value


def _basic(key: str) -> str:
    return base64.b64encode(f"{key}:".encode()).decode("ascii")


def _link(code: str, suffix: str = "") -> str:
    return f"/api/links/{quote(code, safe='')}{suffix}"


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def issue_from_json(item: dict[str, Any]) -> Issue:
    """An issue of the API's JSON back as an `Issue` (for rendering)."""
    level = item.get("level")
    return Issue(
        code=str(item.get("code", "")),
        level=level if level in ("error", "warning", "info") else "error",
        field=item.get("field"),
        message=str(item.get("message", "")),
        suggestion=item.get("suggestion"),
    )
