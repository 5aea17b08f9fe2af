"""Dashboard pages' server time with 1,000,000 clicks in the store (issue 7: <= 300 ms).

    python bench/dashboard.py [--clicks 1000000] [--repeat 7] [--postgres]

In this one run, on the same machine: a store (SQLite in a folder under bench/out; also a
throw-away database on the local PostgreSQL with --postgres) is filled by `bench/dashboard_data.py`
through the driver's bulk paths (1M clicks over 3,000 links, 50 campaigns, 90 days, 10% bots,
a touchpoint per human click as the redirect writes it, 5,000 users' site visits and ~1,500
conversions). The click rollups are folded once (what a store upgraded to migration 0003 does on
its first page), timed. Then a real `tagtrail serve` starts, the bench signs in with the admin
key and GETs each page: once right after the start (cold: the figures of the collected journeys
are computed in the background meanwhile), then, once they are ready, `--repeat` times each
(warm), and again right after 20 new clicks through the redirect (the clicks are folded and the
figures computed again in the background by the next page); then the seconds until every page
shows figures that include those clicks (issue 20: figures never older than 5 s). Server time
is the page's own `Server-Timing: app;dur=` header; wall time is the whole request on loopback.
Anchors, same run, same store: `SELECT substr(clicked_at,1,10), count(*) FROM clicks GROUP BY 1`
through the same driver (what the pages did before the rollups), and nginx sending the overview's
HTML as a static file over the same HTTP client.
Prints a table and writes bench/out/dashboard.json.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for harness.live and harness.pg

import httpx  # noqa: E402
from harness.live import LiveServer, start_server  # noqa: E402
from harness.pg import postgres_database  # noqa: E402
from sqlalchemy import text  # noqa: E402

from dashboard_data import seed  # noqa: E402  (bench/dashboard_data.py)
from nginx import nginx  # noqa: E402  (bench/nginx.py)
from tagtrail.service.keys import ensure_workspace  # noqa: E402
from tagtrail.store import rollups  # noqa: E402
from tagtrail.store.database import prepare_store  # noqa: E402

OUT = ROOT / "bench" / "out"
TARGET_MS = 300.0
TODAY = date.today()
PAGES = {
    "overview": "/",
    "overview, last 30 days": f"/?from={TODAY - timedelta(days=30)}",
    "campaigns & links": "/ui/campaigns",
    "campaigns, 2 weeks": f"/ui/campaigns?from={TODAY - timedelta(days=40)}"
    f"&to={TODAY - timedelta(days=27)}",
    "a link": "/ui/links/bench00007",
    "channels": "/ui/channels",
    "attribution": "/ui/attribution",
    "profile lookup": "/ui/profile?user=u17",
    "create-link form": "/ui/new",
}


@dataclass
class Page:
    name: str
    path: str
    cold_ms: float = 0.0
    cold_note: bool = False
    warm_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    after_click_ms: float = 0.0


@dataclass
class Run:
    store: str
    seed_s: float
    fold_s: float
    journeys_ready_s: float
    fresh_after_clicks_s: float
    raw_group_by_day_ms: float
    nginx_static_ms: float
    pages: list[Page]


def _server_ms(response: httpx.Response) -> float:
    found = re.search(r"app;dur=([0-9.]+)", response.headers.get("server-timing", ""))
    if found is None or response.status_code != 200:
        raise SystemExit(f"{response.request.url}: {response.status_code}, no Server-Timing")
    return float(found.group(1))


def _sign_in(server: LiveServer) -> httpx.Client:
    client = httpx.Client(base_url=server.origin, timeout=600)
    form = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token is not None, "no CSRF token on the sign-in form"
    done = client.post("/login", data={"key": server.key, "csrf": token.group(1), "next": "/"})
    if done.status_code != 303:
        raise SystemExit(f"sign-in refused: {done.status_code}")
    return client


def _raw_group_by_day(url: str) -> float:
    engine = prepare_store(url)
    try:
        best = float("inf")
        with engine.connect() as conn:
            for _ in range(3):
                started = time.perf_counter()
                conn.execute(text(f"SELECT {rollups.DAY}, count(*) FROM clicks c GROUP BY 1")).all()
                best = min(best, time.perf_counter() - started)
        return best * 1000
    finally:
        engine.dispose()


def _wait_ready(
    client: httpx.Client, paths: list[str], limit: float = 600, poll: float = 1.0
) -> float:
    """Seconds until no page says its journeys figures are being computed or not current."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if not any('id="journeys-note"' in client.get(p).text for p in paths):
            return time.monotonic() - started
        time.sleep(poll)
    raise SystemExit(f"the journeys were not ready after {limit:.0f} s")


def _nginx_static(html: str, repeat: int) -> float:
    with tempfile.TemporaryDirectory(prefix="tagtrail-bench-") as folder:
        Path(folder).chmod(0o755)  # nginx's worker runs as another user
        page = Path(folder) / "overview.html"
        page.write_text(html, encoding="utf-8")
        page.chmod(0o644)
        location = f"    location = /overview.html {{ alias {page}; }}\n"
        with nginx(location) as port, httpx.Client(timeout=30) as client:
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                assert client.get(f"http://127.0.0.1:{port}/overview.html").status_code == 200
                times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(name: str, url: str, server_args: dict[str, object], args: argparse.Namespace) -> Run:
    engine = prepare_store(url)
    try:
        _, key = ensure_workspace(engine, now=datetime.now(UTC).replace(tzinfo=None))
        started = time.monotonic()
        counts = seed(engine, clicks=args.clicks)
        seed_s = time.monotonic() - started
        print(f"{name}: seeded {counts} in {seed_s:.0f} s", flush=True)
        started = time.monotonic()
        rollups.fold(engine)
        fold_s = time.monotonic() - started
    finally:
        engine.dispose()
    raw_ms = _raw_group_by_day(url)
    pages = [Page(n, p) for n, p in PAGES.items()]
    with start_server(key=key, **server_args) as server:  # type: ignore[arg-type]
        client = _sign_in(server)
        try:
            overview_html, ready_s, fresh_s = _pages(server, client, pages, args.repeat)
        finally:
            client.close()
    nginx_ms = _nginx_static(overview_html, args.repeat * 5)
    return Run(name, seed_s, fold_s, ready_s, fresh_s, raw_ms, nginx_ms, pages)


def _pages(
    server: LiveServer, client: httpx.Client, pages: list[Page], repeat: int
) -> tuple[str, float, float]:
    """Cold, warm and after-clicks figures of each page; the overview's HTML, the seconds
    until the journeys figures were ready, and from the new clicks until they were current."""
    for page in pages:
        response = client.get(page.path)
        page.cold_ms = _server_ms(response)
        page.cold_note = 'id="journeys-note"' in response.text
    ready_s = _wait_ready(client, [p.path for p in pages])
    for _ in range(repeat):
        for page in pages:
            started = time.perf_counter()
            response = client.get(page.path)
            page.wall_ms.append((time.perf_counter() - started) * 1000)
            page.warm_ms.append(_server_ms(response))
    overview_html = client.get("/").text
    with httpx.Client(base_url=server.origin, timeout=30) as visitor:
        clicked = time.monotonic()
        for n in range(20):
            visitor.get(f"/bench{n:05d}", headers={"User-Agent": "Mozilla/5.0 (X11) Chrome/126.0"})
    for page in pages:
        page.after_click_ms = _server_ms(client.get(page.path))
    _wait_ready(client, [p.path for p in pages], poll=0.1)
    return overview_html, ready_s, time.monotonic() - clicked


def report(run: Run, clicks: int) -> None:
    print(
        f"\n{run.store}: {clicks:,} clicks; seed {run.seed_s:.0f} s, first fold of the rollups "
        f"{run.fold_s:.1f} s, journeys figures ready {run.journeys_ready_s:.0f} s after the "
        f"start; after 20 new clicks every page current in {run.fresh_after_clicks_s:.1f} s "
        "(target <= 5 s)"
    )
    print(
        f"anchors: raw GROUP BY day over all clicks {run.raw_group_by_day_ms:,.0f} ms; "
        f"nginx static overview HTML {run.nginx_static_ms:.2f} ms wall"
    )
    print(
        f"{'page (server ms)':<26}{'cold':>8}{'warm p50':>10}{'warm max':>10}{'wall p50':>10}"
        f"{'+20 clicks':>12}  target <= {TARGET_MS:.0f} ms"
    )
    for page in run.pages:
        worst = max(page.warm_ms + [page.after_click_ms, page.cold_ms])
        verdict = "met" if worst <= TARGET_MS else "NOT met"
        cold = f"{page.cold_ms:,.0f}{'*' if page.cold_note else ' '}"
        print(
            f"{page.name:<26}{cold:>8}{statistics.median(page.warm_ms):>10,.1f}"
            f"{max(page.warm_ms):>10,.1f}{statistics.median(page.wall_ms):>10,.1f}"
            f"{page.after_click_ms:>12,.1f}  {verdict}"
        )
    print("* the page said its conversions were still being computed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--postgres", action="store_true", help="also on the local PostgreSQL")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    runs = []
    with tempfile.TemporaryDirectory(dir=OUT, prefix="dashboard-") as folder:
        data_dir = Path(folder) / "data"
        url = f"sqlite:///{data_dir / 'tagtrail.db'}"
        runs.append(measure("sqlite", url, {"data_dir": data_dir}, args))
        report(runs[-1], args.clicks)
    if args.postgres:
        with postgres_database() as db:
            runs.append(measure("postgresql", db, {"database_url": db}, args))
            report(runs[-1], args.clicks)
    (OUT / "dashboard.json").write_text(json.dumps([asdict(r) for r in runs], indent=2))


if __name__ == "__main__":
    main()
