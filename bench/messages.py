"""Campaign messages (DESIGN §8, §9): rewrite, render and per-recipient redirects, beside anchors.

    python bench/messages.py [--recipients 100000] [--seconds 4] [--rounds 3] [--no-redirect]

In this one run, on the same machine:
- rewrite: `plan_message` + `Template.of` on a 100 KB newsletter with 50 links (a table layout
  with images, entities and an Outlook conditional comment), median of 15; anchor: parsing the
  same HTML with `html.parser` alone (the parser the rewrite uses). Target ≤ 20 ms.
- render: `render_message` for N recipients (emails) on a fresh SQLite store, streamed, every
  JSON line built (bodies of ~100 KB each, counted and dropped as a sink would write them) and
  every send recorded; anchor: the same lines from the template alone, no store. Peak memory
  is the process's maximum resident set. Targets ≥ 20,000 bodies/s, ≤ 300 MB.
- redirect: `tagtrail serve` (SQLite, synchronous=NORMAL) answering a plain short link and a
  per-recipient code, `wrk -t1 -c32` each, beside nginx `return 302`, in `--rounds` interleaved
  rounds (medians; each round's code run compared with its own plain-link run); target: the
  code's ratio to nginx within 10 % of the plain link's.
Writes bench/out/messages.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.live import start_server  # noqa: E402

from nginx import nginx  # noqa: E402  (bench/nginx.py)
from redirect import LOCATIONS, Run, wrk  # noqa: E402  (bench/redirect.py)
from tagtrail.messages import Template, plan_message  # noqa: E402
from tagtrail.service.campaigns import create_campaign  # noqa: E402
from tagtrail.service.keys import ensure_workspace  # noqa: E402
from tagtrail.service.message_render import Rendered, Renderer, render_message  # noqa: E402
from tagtrail.service.messages import MessageSpec, create_message, load_message  # noqa: E402
from tagtrail.store.database import prepare_store  # noqa: E402

OUT = ROOT / "bench" / "out"
ORIGIN = "https://go.example.com"


def newsletter(links: int = 50, size: int = 100_000) -> str:
    head = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>td{padding:0}</style>'
        "<!--[if mso]><xml><o:OfficeDocumentSettings><o:PixelsPerInch>96</o:PixelsPerInch>"
        "</o:OfficeDocumentSettings></xml><![endif]--></head><body>"
        '<table width="100%" cellpadding="0" cellspacing="0" border="0" role="presentation">'
    )
    rows = [
        f'<tr><td class="c" style="font-family:Arial,sans-serif;font-size:14px;color:#333">'
        f"Story {i}: some text &amp; an entity, <b>bold</b> and <i>italics</i>. "
        f'<img src="https://img.example/p{i}.png" alt="picture {i}" width="600">'
        f'<a href="https://shop.example/p/{i}?ref=nl&amp;x={i}" style="color:#06c" '
        f'target="_blank">Read story {i}</a></td></tr>\n'
        for i in range(links)
    ]
    filler = (
        '<tr><td style="padding:4px">Lorem ipsum dolor sit amet, consectetur adipiscing '
        "elit, sed do eiusmod tempor incididunt ut labore et dolore.</td></tr>\n"
    )
    body = head + "".join(rows)
    tail = "</table></body></html>"
    while len(body) + len(filler) + len(tail) <= size:
        body += filler
    return body + tail


def _median_ms(work: Any, runs: int = 15) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_rewrite(body: str) -> dict[str, float]:
    def rewrite() -> None:
        plan = plan_message(body, "email", short_host="go.example.com")
        assert len(plan.tracked) == 50
        Template.of(body, plan.tracked)

    def parse() -> None:
        parser = HTMLParser(convert_charrefs=True)
        parser.feed(body)
        parser.close()

    return {"rewrite_ms": _median_ms(rewrite), "anchor_parse_ms": _median_ms(parse)}


def bench_render(body: str, recipients: int) -> dict[str, float]:
    now = datetime.now(UTC).replace(tzinfo=None)
    secret = b"b" * 32
    with tempfile.TemporaryDirectory(prefix="tagtrail-bench-") as tmp:
        engine = prepare_store(f"sqlite:///{tmp}/tagtrail.db", sqlite_synchronous="NORMAL")
        workspace, _ = ensure_workspace(engine, now=now)
        create_campaign(engine, workspace, "news", now=now)
        spec = MessageSpec("news", "email", body, preset="newsletter")
        message = create_message(engine, workspace, spec, origin=ORIGIN, now=now)["message"]
        csv_path = Path(tmp) / "recipients.csv"
        with csv_path.open("w") as out:
            out.write("recipient,name\n")
            out.writelines(f"reader{n}@mail.example,Reader {n}\n" for n in range(recipients))

        def lines() -> Any:
            with csv_path.open(newline="") as stream:
                yield from stream

        # Anchor: the same lines from the template alone.
        with engine.connect() as conn:
            renderer = Renderer(load_message(conn, workspace, message))
        start = time.perf_counter()
        size = 0
        for n in range(recipients):
            size += len(
                renderer.json_line(Rendered(f"reader{n}@mail.example", False, f"{ORIGIN}/Abcdefgh"))
            )
        anchor = recipients / (time.perf_counter() - start)

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        renderer, total, items = render_message(
            engine, workspace, message, lines, secret=secret, origin=ORIGIN, sent_at=now, now=now
        )
        written = 0
        for item in items:
            written += len(renderer.json_line(item))
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        engine.dispose()
    assert total == recipients
    return {
        "recipients": recipients,
        "bodies_per_s": recipients / seconds,
        "seconds": seconds,
        "output_mb": written / 1e6,
        "peak_rss_mb": peak,
        "rss_before_mb": rss_before,
        "anchor_template_only_per_s": anchor,
    }


def bench_redirect(seconds: int, rounds: int) -> dict[str, Any]:
    email = '<a href="https://shop.example/spring?ref=bench">Spring</a>'
    tracked = "https://shop.example/spring?ref=bench&utm_source=newsletter&utm_medium=email"
    with nginx(LOCATIONS.format(location=tracked)) as port:
        url = f"http://127.0.0.1:{port}/bench"
        wrk("warm-up", url, seconds=1, connections=32)
        anchor = wrk("nginx", url, seconds=seconds, connections=32)
    env = {"TAGTRAIL_SQLITE_SYNCHRONOUS": "NORMAL"}
    with (
        tempfile.TemporaryDirectory(prefix="tagtrail-bench-") as tmp,
        start_server(data_dir=Path(tmp) / "data", env=env) as server,
    ):
        utm = {"source": "newsletter", "medium": "email", "campaign": "spring"}
        server.api(
            "POST", "/api/links", json={"url": "https://shop.example/", "code": "bench", **utm}
        )
        made = server.api(
            "POST",
            "/api/messages",
            json={"campaign": "spring", "channel": "email", "body": email, "source": "newsletter"},
        )
        with httpx.Client(base_url=server.origin, headers=server.headers) as client:
            line = client.post(
                f"/api/messages/{made['message']}/render?sent_at=2020-01-01T00:00:00Z",
                content=b"recipient\nreader2@mail.example\n",
            ).text
        code = json.loads(line)["body"].split(server.origin + "/")[1].split('"')[0]
        token = server.api(
            "POST", "/api/links/bench/recipient-url", json={"recipient": "reader3@mail.example"}
        )["url"]
        targets = {
            "plain short link": f"{server.origin}/bench",
            "per-recipient code": f"{server.origin}/{code}",
            "signed token (?r=)": f"{server.origin}/{token.split('/', 3)[3]}",
        }
        for target in targets.values():
            wrk("warm-up", target, seconds=1, connections=32)
        # Interleaved rounds: a load change on a shared machine hits every kind alike, and each
        # round's ratio to its own plain-link run is what is compared.
        runs: dict[str, list[Run]] = {name: [] for name in targets}
        for _ in range(rounds):
            for name, target in targets.items():
                runs[name].append(wrk(name, target, seconds=seconds, connections=32))
        server.api("PATCH", "/api/workspace", json={"identify": False})
        time.sleep(1.5)  # the links cache sees the change
        off = "per-recipient code, identify off"
        runs[off] = []
        plain_off = []
        wrk("warm-up", targets["per-recipient code"], seconds=1, connections=32)
        for _ in range(rounds):
            plain_off.append(
                wrk("plain", targets["plain short link"], seconds=seconds, connections=32)
            )
            runs[off].append(
                wrk(off, targets["per-recipient code"], seconds=seconds, connections=32)
            )
    plains = {name: runs["plain short link"] for name in targets} | {off: plain_off}
    out: dict[str, Any] = {"nginx_rps": anchor.rps, "rounds": rounds}
    for name, kind in runs.items():
        rps = statistics.median(run.rps for run in kind)
        out[name] = {
            "rps": rps,
            "ratio": rps / anchor.rps,
            "of_plain": statistics.median(
                run.rps / plain.rps for run, plain in zip(kind, plains[name], strict=True)
            ),
            "p99_ms": statistics.median(run.p99_ms for run in kind),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved redirect runs")
    parser.add_argument("--no-redirect", action="store_true")
    args = parser.parse_args()
    body = newsletter()
    results: dict[str, Any] = {"body_bytes": len(body.encode())}
    results["rewrite"] = bench_rewrite(body)
    r = results["rewrite"]
    print(
        f"rewrite {results['body_bytes']:,} B, 50 links: {r['rewrite_ms']:.1f} ms "
        f"(target <= 20); anchor html.parser alone: {r['anchor_parse_ms']:.1f} ms",
        flush=True,
    )
    results["render"] = bench_render(body, args.recipients)
    m = results["render"]
    print(
        f"render {m['recipients']:,} bodies: {m['bodies_per_s']:,.0f}/s (target >= 20,000), "
        f"{m['output_mb']:,.0f} MB of JSON lines, peak RSS {m['peak_rss_mb']:.0f} MB "
        f"(target <= 300); anchor template alone: {m['anchor_template_only_per_s']:,.0f}/s",
        flush=True,
    )
    if not args.no_redirect:
        results["redirect"] = bench_redirect(args.seconds, args.rounds)
        d = results["redirect"]
        print(
            f"redirect: nginx return 302 {d['nginx_rps']:,.0f} req/s; medians of {d['rounds']} "
            "interleaved rounds (x plain: of each round's ratio to its plain-link run)"
        )
        for name, run in d.items():
            if isinstance(run, dict):
                print(
                    f"  {name:34} {run['rps']:>9,.0f} req/s  {run['ratio']:.3f} x nginx  "
                    f"{run['of_plain']:.3f} x plain  p99 {run['p99_ms']:.2f} ms"
                )
        print("  target: a per-recipient code >= 0.9 x the plain link's rate")
    OUT.mkdir(exist_ok=True)
    (OUT / "messages.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
