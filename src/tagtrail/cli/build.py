"""`tagtrail build` and `tagtrail lint`."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click

from tagtrail.cli.check import check_and_render, run_checks
from tagtrail.cli.output import emit_json, json_option, stderr_console, stdout_console
from tagtrail.cli.policy import policy_option, resolve_policy
from tagtrail.cli.render import render_issues, suggested_command
from tagtrail.errors import InvalidInput
from tagtrail.links import FIELDS, BuildResult, LintResult, build_link, lint_link
from tagtrail.links.presets import with_preset

_VALUE_HELP = {
    "source": "utm_source: who sends the traffic (intercom, newsletter, google).",
    "medium": "utm_medium: the kind of traffic (email, sms, cpc, social).",
    "campaign": "utm_campaign: the campaign name.",
    "id": "utm_id: the campaign id (case kept; A-Z a-z 0-9 . _ -).",
    "term": "utm_term: the paid keyword.",
    "content": "utm_content: the creative or link variant.",
    "source_platform": "utm_source_platform.",
    "creative_format": "utm_creative_format.",
    "marketing_tactic": "utm_marketing_tactic.",
}


def _value_options(func: click.decorators.FC) -> click.decorators.FC:
    for name in reversed(FIELDS):
        func = click.option(f"--{name.replace('_', '-')}", name, help=_VALUE_HELP[name])(func)
    return func


@click.command()
@click.option("--url", help="The destination (landing page) URL.")
@_value_options
@click.option("--preset", help="Fill source and medium for a platform (see `tagtrail presets`).")
@policy_option
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Build every row of a CSV file (column `url`, plus any of the value names).",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where --csv writes its result (required with --csv).",
)
@click.option(
    "--jobs", type=click.IntRange(1, 64), help="Worker processes for --csv (default: CPU count)."
)
@click.option("--check", is_flag=True, help="Also follow the built link's redirect chain.")
@json_option
@click.pass_context
def build(
    ctx: click.Context,
    /,
    url: str | None,
    preset: str | None,
    policy_path: Path | None,
    csv_path: Path | None,
    out_path: Path | None,
    jobs: int | None,
    check: bool,
    as_json: bool,
    **values: str | None,
) -> None:
    """Build a tracked campaign link and predict its GA4 channel.

    \b
    tagtrail build --url https://example.com/pricing --preset intercom --campaign onboarding
    tagtrail build --csv links.csv --out tracked.csv

    Prints the tracked URL on stdout and the predicted channel and any issues on stderr (all on
    stdout with --json). Exits with 1 when the link has errors.
    """
    policy = resolve_policy(policy_path)
    if csv_path is not None:
        from tagtrail.cli.bulk import run_bulk_build

        if url is not None:
            raise click.UsageError("give either --url or --csv, not both")
        if out_path is None:
            raise click.UsageError("--csv needs --out FILE for the result")
        _check_out(csv_path, out_path)
        ctx.exit(run_bulk_build(csv_path, out_path, preset, policy, jobs, as_json, check))
    if url is None:
        raise click.UsageError("--url is required (or --csv FILE --out FILE for many links)")
    values = with_preset(values, policy.preset(preset) if preset is not None else None)
    result = build_link(url, policy=policy, **values)
    check_ok = True
    if as_json:
        document = result.to_json()
        if check and result.tracked_url is not None:
            report = run_checks([result.tracked_url], quiet=True)[0]
            document["check"] = report.to_json()
            check_ok = report.valid
        emit_json(document)
    else:
        _render_build(result, {"url": url, **values})
        if check and result.tracked_url is not None:
            check_ok = check_and_render([result.tracked_url], as_json=False)[1]
    ctx.exit(1 if result.status == "error" or not check_ok else 0)


def _check_out(csv_path: Path, out_path: Path) -> None:
    """Refuse an --out that is the input itself, or that lies in a folder that does not exist."""
    if out_path.exists() and os.path.samefile(csv_path, out_path):
        raise click.BadParameter(
            f"{out_path} is the input file: building into it would overwrite the rows being "
            "read (hint: write to another file, e.g. --out tracked.csv)",
            param_hint="--out",
        )
    folder = out_path.resolve().parent
    if not folder.is_dir():
        raise InvalidInput(
            f"cannot write {out_path}: the folder {folder} does not exist",
            hint=f"create it first (mkdir -p {shlex.quote(str(folder))}) or choose another --out",
        )


def _render_build(result: BuildResult, given: dict[str, str | None]) -> None:
    err = stderr_console()
    if result.tracked_url is not None:
        stdout_console().print(result.tracked_url, markup=False)
    status = {"ok": "[green]ok[/]", "warning": "[yellow]warning[/]", "error": "[red]error[/]"}
    channel = result.channel or "unknown (needs source and medium)"
    err.print(f"status: {status[result.status]}   GA4 channel: [bold]{channel}[/]")
    render_issues(err, result.issues)
    command = suggested_command("tagtrail build", given, result.issues)
    if command:
        err.print(f"[bold]Try:[/] {command}", markup=True, highlight=False)


@click.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--file",
    "file_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read URLs from a file, one per line (blank lines and # comments skipped).",
)
@policy_option
@json_option
@click.pass_context
def lint(
    ctx: click.Context,
    /,
    urls: tuple[str, ...],
    file_path: Path | None,
    policy_path: Path | None,
    as_json: bool,
) -> None:
    """Report problems in existing tracked URLs without rewriting them.

    \b
    tagtrail lint 'https://example.com/?utm_source=Intercom.com&utm_medium=in-app'
    tagtrail lint --file urls.txt --json

    Shows, for each URL, the builder's issues and the normalised URL it would suggest.
    Exits with 1 when any URL has errors.
    """
    policy = resolve_policy(policy_path)
    todo = list(urls)
    if file_path is not None:
        todo += read_url_lines(file_path)
    if not todo:
        raise click.UsageError("give at least one URL, or --file FILE")
    results = [lint_link(u, policy=policy) for u in todo]
    if as_json:
        if len(results) == 1 and file_path is None:
            emit_json(results[0].to_json())
        else:
            emit_json({"results": [r.to_json() for r in results], "summary": _summary(results)})
    else:
        for result in results:
            _render_lint(result)
        if len(results) > 1:
            counts = _summary(results)
            stdout_console().print(
                f"{counts['checked']} URLs: {counts['ok']} ok, {counts['warning']} with "
                f"warnings, {counts['error']} with errors"
            )
    ctx.exit(1 if any(r.status == "error" for r in results) else 0)


def read_url_lines(path: Path) -> list[str]:
    """URLs from a text file: one per line, blank lines and `#` comments skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from None
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _summary(results: list[LintResult]) -> dict[str, int]:
    counts = {"checked": len(results), "ok": 0, "warning": 0, "error": 0}
    for result in results:
        counts[result.status] += 1
    return counts


def _render_lint(result: LintResult) -> None:
    out = stdout_console()
    status = {"ok": "[green]ok[/]", "warning": "[yellow]warning[/]", "error": "[red]error[/]"}
    out.print(f"[bold]{result.url}[/]", highlight=False)
    channel = result.channel or "unknown"
    out.print(f"  status: {status[result.status]}   GA4 channel: [bold]{channel}[/]")
    render_issues(out, result.issues)
    if result.changed:
        out.print(f"  [bold]suggested:[/] {result.suggested_url}", highlight=False)


@click.command()
@policy_option
@json_option
def presets(policy_path: Path | None, as_json: bool) -> None:
    """List the presets `tagtrail build --preset` knows (built-in and from the naming policy)."""
    known = resolve_policy(policy_path).presets
    if as_json:
        emit_json(
            {
                name: {
                    "source": p.source,
                    "medium": p.medium,
                    "channel": p.channel,
                    "description": p.description,
                }
                for name, p in sorted(known.items())
            }
        )
        return
    from rich.table import Table

    table = Table("preset", "source", "medium", "GA4 channel", "for")
    for name, p in sorted(known.items()):
        table.add_row(name, p.source, p.medium, p.channel, p.description)
    stdout_console().print(table)
