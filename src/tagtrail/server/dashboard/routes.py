"""The dashboard's routes: `/` (overview), `/login`, `/logout` and `/ui/...` (a short link is one
path segment, so every page but the reserved three lives under `/ui/`)."""

from __future__ import annotations

import csv
import io
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from tagtrail.check import Guard, acheck_url
from tagtrail.errors import InvalidLink, NotFound, TagtrailError, TooManyAttempts
from tagtrail.html.render import STATIC, render
from tagtrail.links import DEFAULT_POLICY, FIELDS, BuildResult, build_link
from tagtrail.links.presets import PRESETS, with_preset
from tagtrail.server.api.limits import LimitedRoute, body_limit
from tagtrail.server.dashboard import message_views
from tagtrail.server.dashboard.session import (
    COOKIE,
    LOGIN_COOKIE,
    MAX_AGE,
    Session,
    Sessions,
    same_token,
)
from tagtrail.server.deps import authenticate_admin, client_address, utcnow
from tagtrail.server.errors import domain_error, error_response
from tagtrail.server.state import ServerState
from tagtrail.service import figures, lift_view, message_render, views
from tagtrail.service import messages as service_messages
from tagtrail.service.dashboard_sessions import end_session, open_session
from tagtrail.service.figures import WAIT
from tagtrail.service.links import LinkSpec, create_link
from tagtrail.service.reports import campaign_names, parse_window

logger = logging.getLogger(__name__)
# LimitedRoute: every form and JSON body is capped (64 KiB) as it streams in, 413 beyond.
router = APIRouter(include_in_schema=False, route_class=LimitedRoute)
_MAX_MESSAGE_FORM = 4 * 1024 * 1024  # a 1 MB body, percent-encoded
_MAX_RECIPIENTS = 16 * 1024 * 1024
_NOTHING_REMOTE = "img-src 'self' data:; font-src 'self' data:; media-src 'none'; object-src 'none'"
_FORM_FIELDS = ("url", "code", *FIELDS[:5])


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.tagtrail
    return state


def _sessions(request: Request) -> Sessions:
    found: Sessions | None = getattr(request.app.state, "dashboard_sessions", None)
    if found is None:
        found = Sessions(_state(request).secret)
        request.app.state.dashboard_sessions = found
    return found


async def _session(request: Request) -> Session | None:
    engine = _state(request).engine
    cookie = request.cookies.get(COOKIE)
    sessions = _sessions(request)
    return await anyio.to_thread.run_sync(lambda: sessions.read(engine, cookie, now=utcnow()))


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()  # capped by LimitedRoute
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


async def _posted(request: Request) -> tuple[Session, dict[str, str]] | Response:
    """A posted form's session and fields, or the way to the sign-in page."""
    session = await _session(request)
    if session is None:
        return _to_login(request)
    return session, await _form(request)


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _html(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(name, **context), status_code=status)


async def _page(
    request: Request, name: str, build: Callable[[Session], dict[str, Any]], active: str
) -> Response:
    """`_built`, with its time in a `Server-Timing: app;dur=MS` header (the handler's own time:
    sign-in check, queries, rendering; not the network or the server's queueing)."""
    started = time.perf_counter()
    response = await _built(request, name, build, active)
    elapsed = (time.perf_counter() - started) * 1000
    response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
    return response


async def _built(
    request: Request, name: str, build: Callable[[Session], dict[str, Any]], active: str
) -> Response:
    """Sign-in check, then `build` in a thread; a domain error becomes an inline message and
    anything else a plain error page (logged; never a traceback in the page)."""
    session = await _session(request)
    if session is None:
        return _to_login(request)
    base: dict[str, Any] = {"csrf": session.csrf, "active": active}
    base["query"] = dict(request.query_params)
    try:
        context = await anyio.to_thread.run_sync(build, session)
    except NotFound as exc:
        return _html("error.html", 404, **base, error=exc)
    except TagtrailError as exc:
        return _html(name, 400, **base, error=exc)
    except Exception:
        logger.exception("dashboard page %s failed", request.url.path)
        return _html("error.html", 500, **base, error="Something went wrong on the server.")
    return _html(name, **base, **context)


def _window(request: Request) -> Any:
    q = request.query_params
    return parse_window(q.get("from"), q.get("to"), q.get("campaign"), q.get("goal"))


async def _period_page(
    request: Request,
    view: Callable[..., dict[str, Any]],
    name: str,
    active: str,
    *,
    names: bool = False,
    **extra: Any,
) -> Response:
    """A page of figures over the period (and campaign) in the query string: `view(engine,
    workspace, settings, window, wait=…)`'s context, the window, and with `names` the
    workspace's campaign names for the filter."""
    state = _state(request)

    def build(s: Session) -> dict[str, Any]:
        window = _window(request)
        context = view(state.engine, s.workspace_id, state.settings, window, wait=WAIT)
        listed = {"campaign_names": campaign_names(state.engine, s.workspace_id)} if names else {}
        return {**context, "window": window, **listed, **extra}

    return await _page(request, name, build, active)


@router.get("/")
async def overview(request: Request) -> Response:
    return await _period_page(request, views.overview, "overview.html", "overview", names=True)


@router.get("/login")
async def login_form(request: Request) -> Response:
    figures.warm()
    nonce = secrets.token_urlsafe(24)
    response = _html("login.html", login_token=nonce, next=request.query_params.get("next", "/"))
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, httponly=True, samesite="strict")
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    state = _state(request)
    form = await _form(request)
    target = form.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    nonce = secrets.token_urlsafe(24)

    def refused(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
        page = _html("login.html", status, login_token=nonce, next=target, error=message)
        page.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, httponly=True, samesite="strict")
        page.headers.update(headers or {})
        return page

    if not same_token(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        return refused("The form expired. Please sign in again.", 403)
    key = form.get("key", "").strip()
    if not key:
        return refused("Enter an admin API key.", 400)
    try:
        who = await authenticate_admin(state, client_address(request), key)
    except TooManyAttempts as exc:
        wait = {"Retry-After": str(exc.retry_after)}
        return refused(f"Too many failed sign-ins. Try again in {exc.retry_after} s.", 429, wait)
    except TagtrailError as exc:
        return refused(f"Sign-in refused: {exc.args[0] if exc.args else exc}.", 401)
    sessions = _sessions(request)
    opened = await state.writer.call(open_session, who.key_id, now=utcnow(), max_age=MAX_AGE)
    cookie = sessions.cookie(who.key_id, who.workspace_id, opened)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=12 * 3600,
    )
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = await _session(request)
    form = await _form(request)
    if session is not None and not session.valid_csrf(form.get("csrf")):
        return _html("error.html", 403, error="The form expired. Reload the page and try again.")
    if session is not None:  # the cookie is refused from now on, wherever a copy of it is
        await _state(request).writer.call(end_session, session.session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/ui/campaigns")
async def campaigns(request: Request) -> Response:
    return await _period_page(
        request, views.campaigns, "campaigns.html", "campaigns", names=True, links_href=True
    )


@router.get("/ui/campaigns/{name}/lift")
async def campaign_lift(request: Request, name: str) -> Response:
    state = _state(request)
    q = request.query_params
    try:
        days = float(q.get("window_days") or 7)
    except ValueError:
        days = 7.0
    days = min(max(days, 1.0), 366.0)

    def build(s: Session) -> dict[str, Any]:
        return lift_view.lift_page(
            state.engine, s.workspace_id, state.settings, name, goal=q.get("goal"), window_days=days
        )

    return await _page(request, "lift.html", build, "campaigns")


@router.get("/ui/links/{code}")
async def link(request: Request, code: str) -> Response:
    state = _state(request)

    def build(s: Session) -> dict[str, Any]:
        return views.link_page(state.engine, s.workspace_id, state.origin, code)

    return await _page(request, "link.html", build, "campaigns")


@router.get("/ui/channels")
async def channels(request: Request) -> Response:
    return await _period_page(request, views.channels, "channels.html", "channels")


@router.get("/ui/attribution")
async def attribution(request: Request) -> Response:
    return await _period_page(request, views.attribution, "attribution.html", "attribution")


@router.get("/ui/profile")
async def profile(request: Request) -> Response:
    state = _state(request)
    user = request.query_params.get("user", "").strip()

    def build(s: Session) -> dict[str, Any]:
        if not user:
            return {"user": ""}
        try:
            found = views.profile(state.engine, s.workspace_id, state.settings, user)
        except NotFound as exc:
            return {"user": user, "error": exc}
        return {"user": user, **found}

    return await _page(request, "profile.html", build, "profile")


@router.get("/ui/new")
async def new_form(request: Request) -> Response:
    return await _page(request, "new.html", lambda _s: {"form": {}}, "new")


@router.post("/ui/new")
async def new_link(request: Request) -> Response:
    state = _state(request)
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    base = {"csrf": session.csrf, "active": "new", "form": form}
    if not session.valid_csrf(form.get("csrf")):
        return _html("new.html", 403, **base, error="The form expired. Reload and try again.")
    values = {k: form.get(k, "").strip() for k in _FORM_FIELDS}
    utm = {k: v for k, v in values.items() if k in FIELDS and v and k != "campaign"}
    try:
        spec = LinkSpec(
            url=values["url"] or None,
            code=values["code"] or None,
            campaign=values["campaign"] or None,
            utm=_with_preset(utm, form.get("preset", "")),
        )
        made = await state.writer.call(
            create_link, session.workspace_id, spec, origin=state.origin, now=utcnow()
        )
    except InvalidLink as exc:
        built = exc.issues
        issues = [i.to_json() for i in built.issues] if isinstance(built, BuildResult) else []
        return _html("new.html", 422, **base, error=exc, issues=issues)
    except TagtrailError as exc:
        return _html("new.html", 400, **base, error=exc)
    state.cache.invalidate()
    return RedirectResponse(f"/ui/links/{quote(made.code)}", status_code=303)


def _with_preset(values: dict[str, str], preset: str) -> dict[str, str]:
    """The form's UTM values with the chosen preset's source and medium where left empty."""
    if not preset.strip():
        return values
    filled = with_preset(values, DEFAULT_POLICY.preset(preset.strip()))
    return {k: v for k, v in filled.items() if v is not None}


async def _header_session(request: Request) -> tuple[Session | None, Response | None]:
    """The session of a script's request, its CSRF token in `X-CSRF-Token`; or the refusal."""
    session = await _session(request)
    if session is None:
        return None, error_response(401, "sign in first")
    if not session.valid_csrf(request.headers.get("x-csrf-token")):
        return None, error_response(403, "bad CSRF token")
    return session, None


async def _json_guard(request: Request) -> tuple[Session | None, dict[str, Any], Response | None]:
    session, refused = await _header_session(request)
    if refused is not None:
        return None, {}, refused
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return None, {}, error_response(400, "send a JSON object")
    return session, body, None


@router.post("/ui/build.json")
async def build_json(request: Request) -> Response:
    """The live builder feedback of the new-link form: `build_link`'s JSON."""
    _session_, body, refused = await _json_guard(request)
    if refused is not None:
        return refused
    values = {k: str(body[k]).strip() for k in FIELDS[:5] if str(body.get(k) or "").strip()}
    try:
        values = _with_preset(values, str(body.get("preset") or ""))
    except TagtrailError as exc:
        return JSONResponse({"status": "error", "tracked_url": None, "channel": None,
                             "issues": [{"level": "error", "field": "preset",
                                         "message": exc.message}]})  # fmt: skip
    url = str(body.get("url") or "")
    if not url.strip():
        return JSONResponse({"status": "error", "tracked_url": None, "channel": None,
                             "issues": [{"level": "error", "field": "url",
                                         "message": "enter a destination URL"}]})  # fmt: skip
    return JSONResponse(build_link(url, policy=DEFAULT_POLICY, **values).to_json())


@router.post("/ui/check.json")
async def check_json(request: Request) -> Response:
    """The live redirect check: the same guarded checker as /api/check (5 s, 5 hops)."""
    state = _state(request)
    _session_, body, refused = await _json_guard(request)
    if refused is not None:
        return refused
    url = str(body.get("url") or "").strip()
    if not url:
        return error_response(400, "enter a URL to check")
    guard = Guard(ports=None, private=True) if state.settings.unsafe_allow_private else Guard()
    try:
        report = await acheck_url(url, max_hops=5, timeout=5.0, guard=guard)
    except TagtrailError as exc:
        return error_response(400, exc.message, hint=exc.hint)
    return JSONResponse(report.to_json())


@router.get("/ui/messages")
async def messages_page(request: Request) -> Response:
    state = _state(request)

    def build(s: Session) -> dict[str, Any]:
        listed = service_messages.list_messages(state.engine, s.workspace_id)["data"]
        names = campaign_names(state.engine, s.workspace_id)
        return {"messages": listed, "campaign_names": names, "presets": sorted(PRESETS), "form": {}}

    return await _page(request, "messages.html", build, "messages")


@router.post("/ui/messages", openapi_extra=body_limit(_MAX_MESSAGE_FORM))
async def create_message(request: Request) -> Response:
    state = _state(request)
    posted = await _posted(request)  # capped by the route (body_limit)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    names = await anyio.to_thread.run_sync(campaign_names, state.engine, session.workspace_id)
    base = {
        "csrf": session.csrf,
        "active": "messages",
        "form": form,
        "messages": [],
        "campaign_names": names,
        "presets": sorted(PRESETS),
    }
    if not session.valid_csrf(form.get("csrf")):
        return _html("messages.html", 403, **base, error="The form expired. Reload and try again.")
    spec = service_messages.MessageSpec(
        campaign=form.get("campaign", ""),
        channel=form.get("channel", "email"),
        body=form.get("body", ""),
        name=form.get("name") or None,
        preset=form.get("preset") or None,
        holdout=form.get("holdout") or None,
    )
    try:
        made = await anyio.to_thread.run_sync(
            lambda: service_messages.create_message(
                state.engine, session.workspace_id, spec, origin=state.origin, now=utcnow()
            )
        )
    except TagtrailError as exc:
        return _html("messages.html", 400, **base, error=exc)
    state.cache.invalidate()
    return RedirectResponse(f"/ui/messages/{made['message']}", status_code=303)


@router.get("/ui/messages/{message_id}")
async def message_page(request: Request, message_id: int) -> Response:
    state = _state(request)

    def build(s: Session) -> dict[str, Any]:
        return message_views.message_page(
            state.engine, s.workspace_id, message_id, origin=state.origin, secret=state.secret
        )

    response = await _page(request, "message.html", build, "messages")
    # The click map's `srcdoc` inherits the page's policy before a byte of the email is parsed,
    # so no image, font or media of the email is fetched (its own meta policy is parsed later,
    # after the preload scanner may already have asked for them).
    response.headers["Content-Security-Policy"] = _NOTHING_REMOTE
    return response


@router.post("/ui/messages/{message_id}/render", openapi_extra=body_limit(_MAX_RECIPIENTS))
async def render_recipients(request: Request, message_id: int) -> Response:
    """The uploaded recipients (the request body) rendered: JSON lines, or with `?format=csv`
    the merge-field CSV; each recipient recorded as a send."""
    state = _state(request)
    session, refused = await _header_session(request)
    if session is None:
        return refused or error_response(401, "sign in first")
    raw = await request.body()  # capped by the route (body_limit)
    text = raw.decode("utf-8-sig", "replace")
    as_csv = request.query_params.get("format") == "csv"

    def run() -> str:
        renderer, _, items = message_render.render_message(
            state.engine,
            session.workspace_id,
            message_id,
            lambda: text.splitlines(keepends=True),
            secret=state.secret,
            origin=state.origin,
            sent_at=utcnow(),
            now=utcnow(),
        )
        if not as_csv:
            return "".join(renderer.json_line(item) for item in items)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(renderer.csv_header())
        writer.writerows(renderer.csv_row(item) for item in items)
        return out.getvalue()

    try:
        body = await anyio.to_thread.run_sync(run)
    except TagtrailError as exc:
        return domain_error(exc)
    media = "text/csv" if as_csv else "application/x-ndjson"
    return Response(body, media_type=media)


@router.get("/ui/static/{name}")
async def static(name: str) -> Response:
    path = STATIC / name
    if name not in {p.name for p in STATIC.iterdir()}:
        return _html("error.html", 404, error="No such file.")
    return FileResponse(path, headers={"Cache-Control": "max-age=3600"})
