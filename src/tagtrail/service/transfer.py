"""`tagtrail import` and `tagtrail export`: journey CSV (DESIGN §7) and Segment JSON lines in,
journeys (CSV or Parquet) out.

- A **journey CSV** row is already an arrival: a `touch` becomes a stored touchpoint of its
  user (its own session, so a direct row is never folded into a previous touch), a
  `conversion` a track event `Imported Conversion` valued by its `revenue` property (the goal is
  added on first import). Re-importing the same file stores nothing new (row ids are hashes).
- **Segment JSON lines**: one event (with its `type`) or one `{"batch": [...]}` per line,
  normalised as the API does, with the line's `receivedAt` (else now) as the time received.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine

from tagtrail.collect import (
    EVENT_TYPES,
    JOURNEY_COLUMNS,
    Event,
    Touchpoint,
    normalize,
    parse_batch,
    parse_event,
)
from tagtrail.collect.normalize import as_utc
from tagtrail.errors import InvalidEvent, InvalidInput
from tagtrail.service.collect import event_row, naive, touchpoint_row, write_rows
from tagtrail.service.goals import add_goal, list_goals
from tagtrail.store.schema import events, identity_facts, touchpoints

IMPORTED_GOAL: Final = "Imported Conversion"
_TYPES: Final = ("touch", "conversion", "exposure")


def _time(value: str) -> datetime:
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"timestamp {value!r} is not ISO 8601") from None
    return as_utc(parsed)


def _row_id(values: list[str], seen: Counter[str]) -> str:
    digest = hashlib.sha256("\x00".join(values).encode()).hexdigest()[:24]
    seen[digest] += 1
    return f"import:{digest}:{seen[digest]}"


def import_journeys(
    engine: Engine, workspace_id: int, text: str, *, site_hosts: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Store a DESIGN §7 journey CSV: `{"touches", "conversions", "skipped", "errors"}`."""
    del site_hosts  # journey rows carry their channel already
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = [h.strip() for h in next(reader, [])]
    if tuple(header[: len(JOURNEY_COLUMNS)]) != JOURNEY_COLUMNS:
        raise InvalidInput(
            "not a journey CSV: the header must be " + ",".join(JOURNEY_COLUMNS),
            hint="or give Segment JSON lines (one event per line)",
        )
    seen: Counter[str] = Counter()
    touches: list[dict[str, Any]] = []
    conversions: list[dict[str, Any]] = []
    users: dict[str, datetime] = {}
    errors: list[str] = []
    skipped = 0
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        row = dict(zip(JOURNEY_COLUMNS, [v.strip() for v in values], strict=False))
        try:
            user, kind = row.get("user_id", ""), row.get("type", "")
            if not user or kind not in _TYPES:
                raise ValueError("needs a user_id and a type (touch or conversion)")
            when = _time(row.get("timestamp", ""))
        except ValueError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        users[user] = min(users.get(user, when), when)
        message_id = _row_id(values, seen)
        if kind == "exposure":
            skipped += 1
        elif kind == "touch":
            channel = row.get("channel") or "Unassigned"
            direct = channel.lower() == "direct"
            touch = Touchpoint(
                message_id=message_id,
                timestamp=when,
                kind="page",
                source=row.get("source") or ("(direct)" if direct else "(not set)"),
                medium=row.get("medium") or ("(none)" if direct else "(not set)"),
                campaign=row.get("campaign") or ("(direct)" if direct else "(not set)"),
                content=None,
                term=None,
                channel="Direct" if direct else channel,
                anonymous_id=message_id,  # an imported arrival is its own session
                user_id=user,
            )
            touches.append(touchpoint_row(workspace_id, touch))
        else:
            try:
                value = Decimal(row.get("value") or "0")
            except InvalidOperation:
                errors.append(f"line {line}: value {row.get('value')!r} is not a number")
                continue
            conversions.append(_conversion_row(workspace_id, message_id, user, when, value))
    if errors:
        raise InvalidInput(f"{len(errors)} rows of the journey CSV are not valid", hint=errors[0])
    facts = [
        {
            "workspace_id": workspace_id,
            "message_id": f"import-user:{user}",
            "kind": "event",
            "timestamp": naive(when),
            "anonymous_id": None,
            "user_id": user,
            "previous_id": None,
            "recipient": None,
        }
        for user, when in users.items()
    ]
    if conversions and IMPORTED_GOAL not in {g.event for g in list_goals(engine, workspace_id)}:
        add_goal(engine, workspace_id, IMPORTED_GOAL, "revenue", now=_now())
    write_rows(engine, touchpoints, touches)
    write_rows(engine, events, conversions)
    write_rows(engine, identity_facts, facts)
    return {
        "format": "journeys",
        "touches": len(touches),
        "conversions": len(conversions),
        "skipped": skipped,
    }


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _conversion_row(
    workspace_id: int, message_id: str, user: str, when: datetime, value: Decimal
) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "message_id": message_id,
        "type": "track",
        "timestamp": naive(when),
        "received_at": _now(),
        "user_id": user,
        "event": IMPORTED_GOAL,
        "properties": json.dumps({"revenue": str(value)}),
        "traits": "{}",
    }


def parse_lines(text: str) -> list[tuple[Event, datetime | None]]:
    """Segment JSON lines → events with their `receivedAt` (InvalidInput naming the line)."""
    found: list[tuple[Event, datetime | None]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise InvalidEvent("not an object", errors=("line: must be a JSON object",))
            received = _time(obj["receivedAt"]) if isinstance(obj.get("receivedAt"), str) else None
            if "batch" in obj:
                found += [(e, received) for e in parse_batch(obj)]
            else:
                kind = obj.get("type")
                if kind not in EVENT_TYPES:
                    raise InvalidEvent(
                        "no type", errors=(f"type: one of {', '.join(EVENT_TYPES)}",)
                    )
                found.append((parse_event(obj, kind=kind), received))
        except (ValueError, InvalidEvent) as exc:
            detail = "; ".join(exc.errors) if isinstance(exc, InvalidEvent) else str(exc)
            raise InvalidInput(f"line {number} is not a Segment event: {detail}") from None
    return found


def import_events(
    engine: Engine, workspace_id: int, text: str, *, site_hosts: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Store Segment JSON lines (duplicates of stored message ids are ignored)."""
    now = datetime.now(UTC)
    rows = [
        event_row(
            workspace_id,
            normalize(event, received_at=received or now, site_hosts=site_hosts),
            site_hosts=site_hosts,
        )
        for event, received in parse_lines(text)
    ]
    write_rows(engine, events, rows)
    return {"format": "segment", "events": len(rows)}


def detect_format(path: Path, text: str) -> str:
    """`journeys` (CSV) or `segment` (JSON lines), by suffix, else by the first character."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "journeys"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "segment"
    return "segment" if text.lstrip().startswith("{") else "journeys"


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def write_journeys(csv_text: str, path: Path) -> str:
    """Write the journey CSV to `path` (`.parquet` through DuckDB, else CSV); the format."""
    if path.suffix.lower() not in (".parquet", ".pq"):
        path.write_text(csv_text, encoding="utf-8")
        return "csv"
    try:
        import duckdb
    except ImportError:
        raise InvalidInput(
            "Parquet needs the duckdb package", hint="pip install duckdb, or export to .csv"
        ) from None
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "journeys.csv"
        source.write_text(csv_text, encoding="utf-8")
        columns = ", ".join(f"'{c}': 'VARCHAR'" for c in JOURNEY_COLUMNS)
        con = duckdb.connect()
        try:
            con.execute(
                f"COPY (SELECT * FROM read_csv({_quote(source)}, header = true, "
                f"columns = {{{columns}}})) TO {_quote(path)} (FORMAT parquet)"
            )
        finally:
            con.close()
    return "parquet"
