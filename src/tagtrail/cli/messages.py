"""`tagtrail messages …`: campaign messages on the local store (DESIGN §9).

`create` reads a body (a file or `-` for stdin) and stores its tracked links; `render` writes
one JSON line per recipient (to `--out`, or stdout), `export` the merge-field CSV; both record a
send per recipient and show a progress bar on a terminal. `list`, `show` and `stats` print the
§9 documents with `--json`.
"""

from __future__ import annotations

import csv
import functools
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click
from rich.table import Table

from tagtrail.cli.output import (
    emit_json,
    json_option,
    progress_bar,
    stderr_console,
    stdout_console,
)
from tagtrail.cli.targets import open_local_store, store_options
from tagtrail.errors import InvalidInput
from tagtrail.service import message_render
from tagtrail.service import messages as service
from tagtrail.service.backends import utcnow
from tagtrail.service.sends import parse_time
from tagtrail.settings import Settings, load_settings


@click.group()
def messages() -> None:
    """Campaign messages: an email or SMS body in, tracked per-recipient links out.

    They act on the store in --data-dir (or --database-url), also while `tagtrail serve` runs.
    """


def _local(command: Callable[..., Any]) -> Callable[..., Any]:
    """The store options and --base-url; the command gets `settings`."""

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        data_dir: Path | None,
        database_url: str | None,
        base_url: str | None,
        **kwargs: Any,
    ) -> Any:
        settings = load_settings(data_dir=data_dir, database_url=database_url, base_url=base_url)
        return command(*args, settings=settings, **kwargs)

    decorated: Callable[..., Any] = store_options(wrapper)
    return click.option(
        "--base-url",
        help="Public origin of the short links (as `tagtrail serve`).",
    )(decorated)


@contextmanager
def _store(settings: Settings) -> Iterator[tuple[Any, int]]:
    engine, workspace_id = open_local_store(settings)
    try:
        yield engine, workspace_id
    finally:
        engine.dispose()


@messages.command()
@click.option("--campaign", required=True, help="The campaign the message's links belong to.")
@click.option("--channel", required=True, type=click.Choice(["email", "sms"]))
@click.option("--body", "body_file", required=True, help="The body: an HTML or text file, or -.")
@click.option("--name", help="A name for the message [campaign and channel].")
@click.option("--preset", help="Source and medium of a sending tool (see `tagtrail presets`).")
@click.option("--source", help="utm_source (over the preset's).")
@click.option("--medium", help="utm_medium (over the preset's) [the channel].")
@click.option("--holdout", help="Share of recipients held out: 10% or 10 [the campaign's].")
@_local
@json_option
def create(
    campaign: str,
    channel: str,
    body_file: str,
    name: str | None,
    preset: str | None,
    source: str | None,
    medium: str | None,
    holdout: str | None,
    settings: Settings,
    as_json: bool,
) -> None:
    """Store a message: every trackable link becomes a short link of the campaign."""
    body = _read_body(body_file)
    spec = service.MessageSpec(campaign, channel, body, name, preset, source, medium, holdout)
    with _store(settings) as (engine, workspace_id):
        doc = service.create_message(
            engine, workspace_id, spec, origin=settings.public_origin, now=utcnow()
        )
    if as_json:
        emit_json(doc)
        return
    _print_message(doc)


def _recipients_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """ID, --recipients and --sent-at, then the store options and --json."""
    for option in (
        json_option,
        _local,
        click.option("--sent-at", help="When the message is sent (ISO 8601; UTC if no zone)."),
        click.option(
            "--recipients",
            "recipients_file",
            required=True,
            type=click.Path(path_type=Path),
            help="A CSV with a `recipient` column (emails, E.164 phones or user ids).",
        ),
        click.argument("message_id", metavar="ID", type=int),
    ):
        command = option(command)
    return command


@messages.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="JSON lines file.")
@_recipients_options
def render(
    message_id: int,
    recipients_file: Path,
    sent_at: str | None,
    out: Path | None,
    settings: Settings,
    as_json: bool,
) -> None:
    """One JSON line per recipient with their body; each is recorded as a send."""
    if as_json and out is None:
        raise click.UsageError("with --json, give --out FILE.jsonl (stdout holds the summary)")
    _finish(_run(settings, message_id, recipients_file, sent_at, out, csv_mode=False), out, as_json)


@messages.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@_recipients_options
def export(
    message_id: int,
    recipients_file: Path,
    sent_at: str | None,
    out: Path,
    settings: Settings,
    as_json: bool,
) -> None:
    """Merge fields: `recipient,held_out,link_1,…` per recipient; each is recorded as a send."""
    _finish(_run(settings, message_id, recipients_file, sent_at, out, csv_mode=True), out, as_json)


@messages.command("list")
@_local
@json_option
def list_(settings: Settings, as_json: bool) -> None:
    """The messages, newest first."""
    with _store(settings) as (engine, workspace_id):
        doc = service.list_messages(engine, workspace_id)
    if as_json:
        emit_json(doc)
        return
    table = Table("id", "name", "campaign", "channel", "links", "created")
    for m in doc["data"]:
        table.add_row(
            str(m["message"]),
            m["name"],
            m["campaign"],
            m["channel"],
            str(m["links"]),
            m["created_at"][:16],
        )
    stdout_console().print(table)


@messages.command()
@click.argument("message_id", metavar="ID", type=int)
@_local
@json_option
def show(message_id: int, settings: Settings, as_json: bool) -> None:
    """A message's links, skipped links and SMS segments."""
    with _store(settings) as (engine, workspace_id):
        doc = service.show_message(engine, workspace_id, message_id, origin=settings.public_origin)
    if as_json:
        emit_json(doc)
        return
    _print_message(doc)


@messages.command()
@click.argument("message_id", metavar="ID", type=int)
@_local
@json_option
def stats(message_id: int, settings: Settings, as_json: bool) -> None:
    """Sent, clicked, click rate, clicks per link and the recipients who clicked."""
    with _store(settings) as (engine, workspace_id):
        doc = service.message_stats(
            engine, workspace_id, message_id, secret=settings.secret(), admin=True
        )
    if as_json:
        emit_json(doc)
        return
    console = stdout_console()
    console.print(
        f"message {doc['message']} ({doc['campaign']}, {doc['channel']}): sent {doc['sent']}, "
        f"held out {doc['held_out']}, clicked {doc['clicked']} ({doc['click_rate']:.1%}); "
        f"clicks {doc['clicks']['human']} human, {doc['clicks']['bot']} bot",
        markup=False,
    )
    links = Table("position", "text", "code", "human", "bot", "recipients")
    for link in doc["links"]:
        links.add_row(
            str(link["position"]),
            link["text"] or "",
            link["code"],
            str(link["human"]),
            str(link["total"] - link["human"]),
            str(link["recipients"]),
        )
    console.print(links)
    people = Table("recipient", "clicks", "first click", "positions")
    for who in doc["recipients"] or []:
        people.add_row(
            who["recipient"],
            str(who["clicks"]),
            who["first_click_at"][:19],
            " ".join(str(p) for p in who["positions"]),
        )
    console.print(people)


def _run(
    settings: Settings,
    message_id: int,
    recipients_file: Path,
    sent_at: str | None,
    out: Path | None,
    *,
    csv_mode: bool,
) -> dict[str, Any]:
    when = parse_time(sent_at, where="--sent-at") if sent_at else utcnow()
    lines = _lines(recipients_file)
    err = stderr_console()
    with _store(settings) as (engine, workspace_id):
        renderer, total, items = message_render.render_message(
            engine,
            workspace_id,
            message_id,
            lines,
            secret=settings.secret(),
            origin=settings.public_origin,
            sent_at=when,
            now=utcnow(),
        )
        progress = progress_bar("rendering", err)
        task = progress.add_task("rendering", total=total)
        counts = {"rendered": 0, "held_out": 0}

        def counted() -> Iterator[message_render.Rendered]:
            for n, item in enumerate(items, 1):
                counts["held_out" if item.held_out else "rendered"] += 1
                if n % 500 == 0:
                    progress.update(task, completed=n)
                yield item

        with progress, _output(out) as stream:
            if csv_mode:
                writer = csv.writer(stream, lineterminator="\n")
                writer.writerow(renderer.csv_header())
                writer.writerows(renderer.csv_row(item) for item in counted())
            else:
                stream.writelines(renderer.json_line(item) for item in counted())
    return {"message": message_id, "recipients": total, **counts}


@contextmanager
def _output(out: Path | None) -> Iterator[IO[str]]:
    """stdout, or a file written whole: a temporary file renamed once every line is in."""
    if out is None:
        yield sys.stdout
        return
    handle, name = tempfile.mkstemp(dir=out.parent if str(out.parent) else ".", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(name, out)
    except BaseException:
        os.unlink(name)
        raise


def _lines(path: Path) -> Callable[[], Iterable[str]]:
    if not path.is_file():
        raise InvalidInput(f"cannot read {path}: no such file", hint="give a CSV file")

    def read() -> Iterator[str]:
        try:
            with path.open(encoding="utf-8-sig", newline="") as stream:
                yield from stream
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{path} is not UTF-8: {exc}", hint="save it as UTF-8") from None

    return read


def _read_body(name: str) -> str:
    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {name}: {exc.strerror}", hint="give a file or -") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the body is not UTF-8: {exc}", hint="save it as UTF-8") from None


def _print_message(doc: dict[str, Any]) -> None:
    console = stdout_console()
    console.print(
        f"message {doc['message']} in {doc['campaign']} ({doc['channel']}): "
        f"{len(doc['links'])} tracked, {len(doc['skipped'])} skipped",
        markup=False,
    )
    tracked = Table("position", "text", "short URL", "destination")
    for link in doc["links"]:
        tracked.add_row(
            str(link["position"]), link["text"] or "", link["short_url"], link["destination"]
        )
    console.print(tracked)
    if doc["skipped"]:
        skipped = Table("position", "reason", "URL")
        for item in doc["skipped"]:
            skipped.add_row(str(item["position"]), item["reason"], item["url"])
        console.print(skipped)
    if doc["segments"]:
        console.print(
            f"SMS segments: {doc['segments']['before']} as written, "
            f"{doc['segments']['after']} with per-recipient links",
            markup=False,
        )
    for warning in doc["warnings"]:
        stderr_console().print(f"[yellow]Warning:[/] {warning}", markup=True)


def _finish(summary: dict[str, Any], out: Path | None, as_json: bool) -> None:
    if as_json:
        emit_json(summary)
        return
    where = f" to {out}" if out else ""
    stderr_console().print(
        f"rendered {summary['rendered']} recipient(s){where}, {summary['held_out']} held out; "
        "each recorded as a send",
        markup=False,
    )
