"""`tagtrail check`: follow links' redirect chains and show, hop by hop, what became of the UTMs.

`check_and_render()` is the reusable part: `tagtrail build … --check` calls it with the URLs it
built. It checks them (bounded concurrency, a progress bar on a terminal), prints the result
(a hop table for one link, a summary table for many, or JSON) and says whether all are valid.
"""

from __future__ import annotations

import csv
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from tagtrail.check import CheckReport, Guard, Hop, check_many
from tagtrail.cli.output import emit_json, json_option, stderr_console, stdout_console
from tagtrail.errors import InvalidInput

_CHECK_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red"}


def read_url_file(path: Path) -> list[str]:
    """One URL per line; blank lines and `#` comments are skipped."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from exc
    return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]


def read_tracked_csv(path: Path) -> list[str]:
    """The non-empty `tracked_url` cells of a `tagtrail build --csv` output file."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or "tracked_url" not in reader.fieldnames:
                raise InvalidInput(
                    f"{path} has no tracked_url column",
                    hint="pass the output of `tagtrail build --csv`",
                )
            return [u.strip() for row in reader if (u := row.get("tracked_url") or "").strip()]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from exc


def reports_document(reports: Sequence[CheckReport]) -> dict[str, Any]:
    """The JSON document for many links: `{"reports": [...], "summary": {...}}`."""
    valid = sum(1 for r in reports if r.valid)
    return {
        "reports": [r.to_json() for r in reports],
        "summary": {"checked": len(reports), "valid": valid, "invalid": len(reports) - valid},
    }


def _status_text(hop: Hop) -> Text:
    if hop.status is None:
        return Text("error", style="bold red")
    style = "green" if hop.status < 300 else "yellow" if hop.status < 400 else "bold red"
    return Text(str(hop.status), style=style)


def _next_text(hop: Hop) -> Text:
    if hop.error is not None:
        return Text(hop.error, style="red")
    if hop.redirect is None:
        return Text("final", style="dim")
    if hop.redirect == "javascript":
        return Text(f"javascript (not followed): {hop.location}", style="yellow")
    return Text(hop.redirect)


def _utm_text(hop: Hop) -> Text:
    text = Text()
    if hop.utm_lost:
        text.append("lost " + ", ".join(hop.utm_lost), style="bold red")
    if hop.utm_changed:
        changed = ", ".join(f"{n} {a}→{b}" for n, a, b in hop.utm_changed)
        text.append(("; " if text else "") + "changed " + changed, style="yellow")
    if not text:
        text.append(
            f"{len(hop.utm)} present" if hop.utm else "none", style="green" if hop.utm else "dim"
        )
    return text


def _tls_text(hop: Hop) -> Text:
    tls = hop.tls
    if tls is None:
        return Text("—" if not hop.url.lower().startswith("https:") else "?", style="dim")
    days = ""
    if tls.days_to_expiry is not None:
        left = tls.days_to_expiry
        days = f", {left} d left" if left >= 0 else f", expired {-left} d ago"
    if tls.cert_valid:
        return Text(f"{tls.protocol or 'TLS'}, valid{days}", style="green")
    return Text(f"{tls.protocol or 'TLS'}, invalid: {tls.error}{days}", style="bold red")


def render_report(console: Console, report: CheckReport) -> None:
    """A table of hops (status, URL, how it moved on, time, UTMs, TLS) and the checks."""
    console.print(Text.assemble(("Checking ", "bold"), report.url))
    hops = Table("#", "status")
    hops.add_column("url", overflow="fold")
    hops.add_column("via", overflow="fold")
    for name in ("ms", "UTMs", "TLS"):
        hops.add_column(name)
    for number, hop in enumerate(report.hops, start=1):
        url = Text(hop.url)
        if hop.scheme_change:
            style = "red" if hop.scheme_change == "https->http" else "dim"
            url.append(f"  ({hop.scheme_change})", style=style)
        hops.add_row(
            str(number),
            _status_text(hop),
            url,
            _next_text(hop),
            f"{hop.elapsed_ms:.0f}",
            _utm_text(hop),
            _tls_text(hop),
        )
    console.print(hops)
    checks = Table("check", "status", "message")
    for item in report.checks:
        checks.add_row(item.check, Text(item.status, style=_CHECK_STYLE[item.status]), item.message)
    console.print(checks)
    verdict = (
        Text("valid", style="bold green") if report.valid else Text("invalid", style="bold red")
    )
    console.print(Text.assemble("Final URL: ", report.final_url, " — ", verdict))


def render_summary(console: Console, reports: Sequence[CheckReport]) -> None:
    """One row per link (verdict, hops, final status, problems) and the totals."""
    table = Table("#", "valid", "hops", "final")
    table.add_column("url", overflow="fold")
    table.add_column("problems")
    for number, report in enumerate(reports, start=1):
        last = report.hops[-1]
        problems = Text()
        for item in report.checks:
            if item.status != "pass":
                problems.append(
                    ("\n" if problems else "") + f"{item.check}: {item.message}",
                    style=_CHECK_STYLE[item.status],
                )
        table.add_row(
            str(number),
            Text("yes", style="green") if report.valid else Text("no", style="bold red"),
            str(len(report.hops)),
            _status_text(last),
            Text(report.url),
            problems,
        )
    console.print(table)
    valid = sum(1 for r in reports if r.valid)
    console.print(
        f"Checked {len(reports):,} link(s): [green]{valid:,} valid[/], "
        f"[red]{len(reports) - valid:,} invalid[/]"
    )


def run_checks(
    urls: Sequence[str],
    *,
    quiet: bool,
    max_hops: int = 10,
    timeout: float = 10.0,
    guard: Guard | None = None,
    concurrency: int = 16,
    ssl_context: ssl.SSLContext | None = None,
) -> list[CheckReport]:
    """Check `urls` with a progress bar on stderr (when it is a terminal and not `quiet`)."""
    err = stderr_console()
    progress = Progress(
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet or not err.is_terminal or len(urls) < 2,
    )
    with progress:
        task = progress.add_task("checking", total=len(urls))
        return check_many(
            urls,
            max_hops=max_hops,
            timeout=timeout,
            guard=guard,
            concurrency=concurrency,
            ssl_context=ssl_context,
            on_done=lambda _report: progress.advance(task),
        )


def check_and_render(
    urls: Sequence[str],
    *,
    as_json: bool,
    max_hops: int = 10,
    timeout: float = 10.0,
    guard: Guard | None = None,
    concurrency: int = 16,
    ssl_context: ssl.SSLContext | None = None,
    single: bool | None = None,
) -> tuple[list[CheckReport], bool]:
    """Check `urls`, print the result, and return the reports and whether every one is valid.

    One URL (or `single=True`) prints one report (JSON: the report object); more print a
    summary (JSON: `{"reports": [...], "summary": {...}}`). A progress bar goes to stderr when
    it is a terminal and `as_json` is off.
    """
    reports = run_checks(
        urls,
        quiet=as_json,
        max_hops=max_hops,
        timeout=timeout,
        guard=guard,
        concurrency=concurrency,
        ssl_context=ssl_context,
    )
    one = len(reports) == 1 if single is None else single
    if as_json:
        emit_json(reports[0].to_json() if one and reports else reports_document(reports))
    elif one and reports:
        render_report(stdout_console(), reports[0])
    else:
        render_summary(stdout_console(), reports)
    return reports, all(r.valid for r in reports)


@click.command()
@click.argument("urls", nargs=-1, metavar="[URL]...")
@click.option(
    "--file",
    "url_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Check every URL in this file (one a line; blanks and # comments skipped).",
)
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Check the tracked_url column of a `tagtrail build --csv` output file.",
)
@click.option(
    "--max-hops",
    type=click.IntRange(0, 100),
    default=10,
    show_default=True,
    help="Most redirects to follow before the max_hops check fails.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0, 600, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds allowed for a whole chain.",
)
@click.option(
    "--guard",
    is_flag=True,
    help="Refuse private, loopback and other internal addresses at every hop "
    "(for untrusted lists; the hosted API always does).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=16,
    show_default=True,
    help="Links checked at the same time.",
)
@click.option(
    "--ca-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="PEM file of CA certificates to trust instead of the certifi bundle.",
)
@json_option
def check(
    urls: tuple[str, ...],
    url_file: Path | None,
    csv_file: Path | None,
    max_hops: int,
    timeout: float,
    guard: bool,
    concurrency: int,
    ca_file: Path | None,
    as_json: bool,
) -> int:
    """Follow each URL's redirect chain and check that its UTMs survive every hop.

    Exit code 0 when every link is valid (no check failed), 1 when one is not.
    """
    if not urls and url_file is None and csv_file is None:
        raise click.UsageError("give a URL, --file FILE or --csv FILE")
    targets = list(urls)
    if url_file is not None:
        targets += read_url_file(url_file)
    if csv_file is not None:
        targets += read_tracked_csv(csv_file)
    if not targets:
        raise InvalidInput("no URLs to check", hint="the file holds no URL lines")
    context = None
    if ca_file is not None:
        try:
            context = ssl.create_default_context(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise InvalidInput(f"cannot load CA certificates from {ca_file}: {exc}") from exc
    _reports, valid = check_and_render(
        targets,
        as_json=as_json,
        max_hops=max_hops,
        timeout=timeout,
        guard=Guard() if guard else None,
        concurrency=concurrency,
        ssl_context=context,
        single=len(targets) == 1 and url_file is None and csv_file is None,
    )
    return 0 if valid else 1
