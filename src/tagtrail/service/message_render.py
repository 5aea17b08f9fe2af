"""Rendering a message for its recipients (DESIGN §9): per-recipient bodies or merge fields.

The recipients come as CSV with a `recipient` column, read twice: a first pass checks every
line (a missing column, an empty or malformed address, a duplicate recipient: each error names
its line) before anything is written, and a second pass renders and records, in one
transaction, chunk by chunk, so memory stays flat whatever the list's length. Each rendered
recipient is recorded as a send at `sent_at` (held-out ones marked, with no body); each gets one
`message_recipients` row whose 8-character part, followed by a link's 2-character position,
makes their 10-character code of each link.
"""

from __future__ import annotations

import csv
import json
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, select, update

from tagtrail.clicks.addresses import AddressBox, address_kind
from tagtrail.errors import InvalidInput
from tagtrail.lift.assignment import is_held_out
from tagtrail.messages.codes import position_suffix, recipient_parts
from tagtrail.service.batch import store_time
from tagtrail.service.links import bump_version
from tagtrail.service.messages import Message, load_message
from tagtrail.service.recipients import recipient_key
from tagtrail.store.schema import message_recipients, recipients, sends, workspaces

_CHUNK = 1000
_SQLITE_CACHE_KIB = 65_536  # 64 MiB, against SQLite's default 2 MiB
_MAX_PROBLEMS = 5
Lines = Callable[[], Iterable[str]]  # opens the recipients CSV afresh: it is read twice


@dataclass(frozen=True, slots=True)
class Rendered:
    """One recipient's result: `link` is `BASE/PART`, the start of each of their links (a
    link is it and the position's 2 characters); empty when they are held out."""

    recipient: str
    held_out: bool
    link: str = ""


class Renderer:
    """Turns `Rendered` values into the JSON lines or CSV rows of §9, fast: the body's fixed
    pieces are JSON-escaped once, each glued to the position suffix before it, so a body is
    one `str.join` of them with the recipient's `BASE/PART` (nothing in it needs escaping)."""

    def __init__(self, message: Message) -> None:
        template = message.template
        self.positions = template.positions
        self.suffixes = [position_suffix(p) for p in self.positions]
        pieces = [json.dumps(p, ensure_ascii=False)[1:-1] for p in template.pieces]
        self._glued = [pieces[0], *(s + p for s, p in zip(self.suffixes, pieces[1:], strict=True))]

    def urls(self, item: Rendered) -> list[str]:
        return [item.link + suffix for suffix in self.suffixes] if not item.held_out else []

    def body(self, item: Rendered) -> str:
        """The JSON-escaped body (as it sits between the quotes of a JSON line)."""
        return item.link.join(self._glued)

    def json_line(self, item: Rendered) -> str:
        who = json.dumps(item.recipient, ensure_ascii=False)
        if item.held_out:
            return f'{{"recipient": {who}, "held_out": true}}\n'
        return f'{{"recipient": {who}, "held_out": false, "body": "{self.body(item)}"}}\n'

    def csv_header(self) -> list[str]:
        return ["recipient", "held_out", *(f"link_{p}" for p in self.positions)]

    def csv_row(self, item: Rendered) -> list[str]:
        links = self.urls(item) if not item.held_out else [""] * len(self.positions)
        return [item.recipient, "true" if item.held_out else "false", *links]


def check_recipients(lines: Iterable[str], *, secret: bytes) -> int:
    """How many recipients the CSV holds; InvalidInput naming the lines when any is bad."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    count = 0
    for line, value in _rows(lines):
        count += 1
        problem = _problem(value)
        if problem is None:
            kind, key = recipient_key(value, secret)
            first = seen.setdefault(f"{kind}:{key}", line)
            if first != line:
                problem = f"{value!r} is a duplicate of line {first}"
        if problem is not None:
            problems.append(f"line {line}: {problem}")
            if len(problems) >= _MAX_PROBLEMS:
                break
    if problems:
        raise InvalidInput(
            "bad recipients: " + "; ".join(problems),
            hint="fix the CSV and render again (nothing was recorded)",
        )
    if count == 0:
        raise InvalidInput("the recipients CSV has no recipient", hint="one recipient a line")
    return count


def render_message(
    engine: Engine,
    workspace_id: int,
    message_id: int,
    lines: Lines,
    *,
    secret: bytes,
    origin: str,
    sent_at: datetime,
    now: datetime,
) -> tuple[Renderer, int, Iterator[Rendered]]:
    """Check every recipient, then render them lazily: (renderer, how many, the results). The
    sends are committed when the iterator is exhausted (nothing is recorded if it is dropped
    half-way or fails)."""
    with engine.connect() as conn:
        message = load_message(conn, workspace_id, message_id)
    total = check_recipients(lines(), secret=secret)
    return Renderer(message), total, _render(engine, message, lines, secret, origin, sent_at, now)


def _render(
    engine: Engine,
    message: Message,
    lines: Lines,
    secret: bytes,
    origin: str,
    sent_at: datetime,
    now: datetime,
) -> Iterator[Rendered]:
    box = AddressBox(secret)
    base = f"{origin}/"
    rows = iter(_rows(lines()))
    with engine.begin() as conn:
        sent, stamp = driver_time(conn, sent_at), driver_time(conn, now)
        if conn.dialect.name == "sqlite":  # the indexes' pages of a large list stay in memory
            conn.exec_driver_sql(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")
        global_share = float(
            conn.execute(
                select(workspaces.c.global_holdout).where(workspaces.c.id == message.workspace_id)
            ).scalar_one()
            or 0.0
        )
        while chunk := list(islice(rows, _CHUNK)):
            people = _ensure(conn, message, [v for _, v in chunk], box, secret, stamp)
            held = [
                is_held_out(
                    secret,
                    f"{kind}:{key}",
                    campaign=message.campaign,
                    share=message.share,
                    global_share=global_share,
                )
                for _, kind, key in people
            ]
            codes = _codes(
                conn, message.id, [p[0] for p, h in zip(people, held, strict=True) if not h], stamp
            )
            tag = str(message.id)
            insert_rows(
                conn,
                sends,
                (
                    "workspace_id",
                    "recipient_id",
                    "campaign_id",
                    "message",
                    "channel",
                    "sent_at",
                    "held_out",
                ),
                [
                    (
                        message.workspace_id,
                        rid,
                        message.campaign_id,
                        tag,
                        message.channel,
                        sent,
                        h,
                    )
                    for (rid, _, _), h in zip(people, held, strict=True)
                ],
            )
            for (_, value), (rid, _, _), h in zip(chunk, people, held, strict=True):
                yield Rendered(value, True) if h else Rendered(value, False, base + codes[rid])
        bump_version(conn)  # a code looked up before it existed is cached as unknown


def _ensure(
    conn: Connection,
    message: Message,
    values: list[str],
    box: AddressBox,
    secret: bytes,
    now: Any,
) -> list[tuple[int, str, str]]:
    """(recipient id, kind, key) for each value, creating recipients and sealing addresses."""
    keyed = [(v, *recipient_key(v, secret)) for v in values]
    kinds = list({kind for _, kind, _ in keyed})
    keys = list({key for _, _, key in keyed})
    found = select_in(
        conn,
        "SELECT id, kind, key, address FROM recipients WHERE workspace_id = {mark} "
        "AND kind IN ({kinds}) AND key IN ({keys})",  # the index's order
        (message.workspace_id,),
        kinds=kinds,
        keys=keys,
    )
    known = {(kind, key): (int(rid), address) for rid, kind, key, address in found}
    new = {
        (kind, key): (
            message.workspace_id,
            secrets.token_urlsafe(12),
            kind,
            key,
            now,
            None if kind == "user" else box.seal(value.strip(), key),
        )
        for value, kind, key in keyed
        if (kind, key) not in known
    }
    if new:
        columns = ("workspace_id", "public_id", "kind", "key", "created_at", "address")
        made = insert_rows(conn, recipients, columns, list(new.values()), returning="id, kind, key")
        for rid, kind, key in made:
            known[(kind, key)] = (int(rid), "")
    unsealed = [
        {"rid": known[(kind, key)][0], "sealed": box.seal(value.strip(), key)}
        for value, kind, key in keyed
        if kind != "user" and known[(kind, key)][1] is None
    ]
    if unsealed:
        conn.execute(
            update(recipients)
            .where(recipients.c.id == bindparam("rid"))
            .values(address=bindparam("sealed")),
            unsealed,
        )
    return [(known[(kind, key)][0], kind, key) for _, kind, key in keyed]


def _codes(conn: Connection, message_id: int, ids: list[int], now: Any) -> dict[int, str]:
    """Each recipient's code part for this message: kept from an earlier render, else new."""
    if not ids:
        return {}
    found = select_in(
        conn,
        "SELECT recipient_id, code FROM message_recipients WHERE message_id = {mark} "
        "AND recipient_id IN ({ids})",
        (message_id,),
        ids=ids,
    )
    codes = {int(rid): code for rid, code in found}
    new = [rid for rid in dict.fromkeys(ids) if rid not in codes]
    fresh = dict(zip(new, recipient_parts(len(new)), strict=True))
    if fresh:
        columns = ("message_id", "recipient_id", "code", "created_at")
        rows = [(message_id, rid, code, now) for rid, code in fresh.items()]
        insert_rows(conn, message_recipients, columns, rows)
        codes.update(fresh)
    return codes


def insert_rows(
    conn: Connection,
    table: Table,
    columns: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
    *,
    returning: str = "",
) -> list[Any]:
    """Plain rows of our own making in multi-row INSERTs through the driver: SQLAlchemy's
    per-value processing cost ~10 µs a row, more than the rest of a recipient's rendering.
    Times must come as `driver_time` makes them."""
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    size = max(1, 30_000 // len(columns))  # under SQLite's 32,766 parameters a statement
    one = "(" + ", ".join([mark] * len(columns)) + ")"
    tail = f" RETURNING {returning}" if returning else ""
    out: list[Any] = []
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        values = list(chain.from_iterable(chunk))
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
        result = conn.exec_driver_sql(sql + ", ".join([one] * len(chunk)) + tail, tuple(values))
        if returning:
            out.extend(result.all())
    return out


def select_in(
    conn: Connection, sql: str, params: tuple[Any, ...], **lists: Sequence[Any]
) -> list[Any]:
    """Rows of a driver query whose `{name}` lists (in `sql`'s order, after `params`) are
    expanded to one placeholder a value: SQLAlchemy's expanding IN processed each value in
    Python, ~3 µs a recipient of a render. At most a chunk's values, under SQLite's limit."""
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    marks = {name: ", ".join([mark] * len(values)) for name, values in lists.items()}
    values = list(params)
    for items in lists.values():
        values.extend(items)
    return list(conn.exec_driver_sql(sql.format(mark=mark, **marks), tuple(values)).all())


def driver_time(conn: Connection, value: datetime) -> Any:
    """A time as the store keeps it: text on SQLite (as SQLAlchemy writes it), else itself."""
    return store_time(value) if conn.dialect.name == "sqlite" else value


def _rows(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(line number, recipient) of each data row of a CSV with a `recipient` column, or of
    JSON lines of `{"recipient": …}` objects (told apart by the first character)."""
    stream = iter(lines)
    first = next(stream, None)
    if first is None or not first.strip():
        raise InvalidInput("the recipients list is empty", hint="a CSV's first line: recipient")
    if first.lstrip("\ufeff").lstrip().startswith("{"):
        yield from _json_rows(chain([first], stream))
        return
    reader = csv.reader(chain([first], stream))
    try:
        header = next(reader)
        names = [h.strip().lstrip("\ufeff").lower() for h in header]
        if "recipient" not in names:
            raise InvalidInput(
                "line 1: the recipients CSV has no recipient column "
                f"(it has {', '.join(header) or 'nothing'})",
                hint="name the column of emails, E.164 phones or user ids `recipient`",
            )
        column = names.index("recipient")
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            yield reader.line_num, (row[column] if column < len(row) else "").strip()
    except csv.Error as exc:
        raise InvalidInput(f"line {reader.line_num}: unreadable CSV: {exc}") from None


def _json_rows(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            raise InvalidInput(
                f"line {number}: not a JSON object", hint='one {"recipient": "…"} a line'
            ) from None
        recipient = value.get("recipient") if isinstance(value, dict) else None
        if not isinstance(recipient, str):
            raise InvalidInput(
                f"line {number}: no recipient string", hint='one {"recipient": "…"} a line'
            )
        yield number, recipient.strip()


def _problem(value: str) -> str | None:
    if not value:
        return "the recipient is empty"
    if len(value) > 320:
        return "the recipient is longer than 320 characters"
    if address_kind(value) is None:
        return f"{value!r} is neither an email address, an E.164 phone number nor a user id"
    return None
