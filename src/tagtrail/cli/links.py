"""`tagtrail links …`: short links on the local store or on a running server (`--api`).

Every command takes the backend options (`--data-dir`, `--database-url`, `--base-url`, or
`--api` and `--key`) and prints the API's JSON shapes with `--json`, Rich text otherwise.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tagtrail.cli import link_views as views
from tagtrail.cli.output import (
    emit_json,
    json_option,
    stderr_console,
    stdout_console,
)
from tagtrail.cli.policy import resolve_policy
from tagtrail.cli.render import render_issues
from tagtrail.cli.targets import backend_options, document_command, open_backend
from tagtrail.errors import InvalidInput, InvalidLink, error_document
from tagtrail.links.presets import with_preset
from tagtrail.service.backends import Target
from tagtrail.service.links import LinkSpec
from tagtrail.service.sends import parse_time


@click.group()
def links() -> None:
    """Short links: create, list, show, stats, recipient URLs, import, disable, delete.

    They act on the store in --data-dir (also while `tagtrail serve` runs on it), or on a
    running server with --api URL --key KEY.
    """


def _expires(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value, where="--expires")
    except InvalidInput as exc:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time ({exc.hint})") from None


@links.command()
@click.option("--url", required=True, help="The destination URL (http or https).")
@click.option("--code", help="A custom code (1-64 of A-Z a-z 0-9 _ -); random if absent.")
@click.option("--source", help="utm_source.")
@click.option("--medium", help="utm_medium.")
@click.option(
    "--preset",
    help="Fill source and medium for a platform (see `tagtrail presets`); --source/--medium win.",
)
@click.option(
    "--campaign", help="The tagtrail campaign (made on first use); its name is the utm_campaign."
)
@click.option("--content", help="utm_content.")
@click.option("--term", help="utm_term.")
@click.option("--id", "utm_id", help="utm_id.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeat for more).")
@click.option("--forward-query", is_flag=True, help="Pass the short URL's query to the target.")
@click.option("--honeypot", is_flag=True, help="A trap link: every click on it counts as a bot.")
@click.option(
    "--expires", callback=_expires, help="When it stops redirecting (ISO 8601; UTC if no zone)."
)
@backend_options
@json_option
@click.pass_context
def create(
    ctx: click.Context,
    url: str,
    code: str | None,
    source: str | None,
    medium: str | None,
    preset: str | None,
    campaign: str | None,
    content: str | None,
    term: str | None,
    utm_id: str | None,
    tags: tuple[str, ...],
    forward_query: bool,
    honeypot: bool,
    expires: datetime | None,
    target: Target,
    as_json: bool,
) -> None:
    """Create a short link. Prints its short URL (`--json`: the link)."""
    given = {"source": source, "medium": medium, "content": content, "term": term, "id": utm_id}
    if preset is not None:
        given = with_preset(given, resolve_policy(None).preset(preset))
    spec = LinkSpec(
        url=url,
        code=code,
        campaign=campaign,
        utm={name: value for name, value in given.items() if value is not None},
        tags=list(tags),
        forward_query=forward_query,
        honeypot=honeypot,
        expires_at=expires,
    )
    with open_backend(target, create=True) as backend:
        try:
            link = backend.create_link(spec)
        except InvalidLink as exc:
            _refused(exc, as_json=as_json)
            ctx.exit(1)
    if as_json:
        emit_json(link)
    else:
        views.render_created(stdout_console(), stderr_console(), link)


def _refused(exc: InvalidLink, *, as_json: bool) -> None:
    """A link the builder refused: the error and its issues (JSON: the API's error body)."""
    issues = list(exc.issues.issues) if exc.issues is not None else []
    if as_json:
        emit_json(
            {**error_document(exc.message, hint=exc.hint), "issues": [i.to_json() for i in issues]}
        )
        return
    err = stderr_console()
    err.print(f"[bold red]Error:[/] {exc.message}", highlight=False)
    render_issues(err, issues)


@links.command("list")
@click.option("--campaign", help="Only the links of this campaign.")
@click.option("--tag", help="Only the links with this tag.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True)
@backend_options
@json_option
def list_(
    campaign: str | None, tag: str | None, limit: int, offset: int, target: Target, as_json: bool
) -> None:
    """List links, newest first (`--json`: `{"data": [...], "count"}`)."""
    with open_backend(target) as backend:
        page = backend.list_links(limit=limit, offset=offset, campaign=campaign, tag=tag)
    if as_json:
        emit_json(page)
    else:
        views.render_list(stdout_console(), stderr_console(), page, offset)


for _name, _read, _render, _doc in (
    (
        "show",
        lambda backend, code: backend.get_link(code),
        lambda link: views.render_link(stdout_console(), link),
        "Show one link: where it leads, its UTMs, channel and state.",
    ),
    (
        "stats",
        lambda backend, code: backend.link_stats(code),
        lambda figures: views.render_stats(stdout_console(), figures),
        "Clicks on a link: total, human, bot, unique, by day and by recipient.",
    ),
):
    document_command(links, _name, "code", _read, _render, _doc)


@links.command("recipient-url")
@click.argument("code")
@click.option("--recipient", required=True, help="An email address or a user id.")
@backend_options
@json_option
def recipient_url(code: str, recipient: str, target: Target, as_json: bool) -> None:
    """The link for one recipient (`/CODE?r=TOKEN`): its clicks are attributed to them."""
    with open_backend(target) as backend:
        url = backend.recipient_url(code, recipient)
    if as_json:
        emit_json({"url": url})
    else:
        click.echo(url)


@links.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@backend_options
@json_option
@click.pass_context
def import_(ctx: click.Context, file: Path, target: Target, as_json: bool) -> None:
    """Create a link per row of a CSV file (url, code, campaign, source, medium, content, term,
    id, tags as a|b). Bad rows are reported by line; the others are still created."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {file}: {exc}", hint="give a UTF-8 CSV file") from None
    err = stderr_console()
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=as_json or not err.is_terminal,
    )
    task = progress.add_task("importing", total=None)
    with open_backend(target, create=True) as backend, progress:
        result = backend.import_csv(
            text, lambda done, total: progress.update(task, completed=done, total=total)
        )
    summary = views.import_summary(result)
    if as_json:
        emit_json({**result, "summary": summary})
    else:
        views.render_import(stdout_console(), err, result)
    if summary["failed"]:
        ctx.exit(1)


def _state_change(code: str, target: Target, as_json: bool, *, disabled: bool) -> None:
    with open_backend(target) as backend:
        link = backend.set_disabled(code, disabled)
    if as_json:
        emit_json(link)
    elif disabled:
        click.echo(f"Disabled {code}: it now answers 410 Gone.")
    else:
        click.echo(f"Enabled {code}: {link['short_url']} redirects again.")


@links.command()
@click.argument("code")
@backend_options
@json_option
def disable(code: str, target: Target, as_json: bool) -> None:
    """Turn a link off: it then answers 410 Gone (its clicks are kept)."""
    _state_change(code, target, as_json, disabled=True)


@links.command()
@click.argument("code")
@backend_options
@json_option
def enable(code: str, target: Target, as_json: bool) -> None:
    """Turn a disabled link back on."""
    _state_change(code, target, as_json, disabled=False)


@links.command()
@click.argument("code")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@backend_options
@json_option
@click.pass_context
def delete(ctx: click.Context, code: str, yes: bool, target: Target, as_json: bool) -> None:
    """Delete a link and its clicks: its code then answers 404. Asks first unless --yes."""
    with open_backend(target) as backend:
        backend.get_link(code)  # a missing link fails before the question
        if not (yes or as_json) and not click.confirm(
            f"Delete link {code} and all its clicks?", default=False, err=True
        ):
            stderr_console().print(f"Kept {code}.")
            ctx.exit(1)
        backend.delete_link(code)
    if as_json:
        emit_json({"ok": True, "code": code, "deleted": True})
    else:
        click.echo(f"Deleted {code}.")
