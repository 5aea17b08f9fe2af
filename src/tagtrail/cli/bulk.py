"""`tagtrail build --csv`: build every row of a CSV file, in parallel, with a progress bar.

The parent only cuts the file into blocks of whole records (a block ends where the count of `"`
is even, so a quoted newline never splits a record); forked workers parse and build each block
and the parent writes the results back in input order. One row's problems never stop the
others: each output row carries its own status and issues.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tagtrail.cli.check import check_and_render, reports_document, run_checks
from tagtrail.cli.output import emit_json, stderr_console, stdout_console
from tagtrail.errors import InvalidInput
from tagtrail.links import FIELDS, NamingPolicy, build_from

OUTPUT_COLUMNS = ("tracked_url", "status", "channel", "issue_codes", "issues")
_CHUNK = 4096


@dataclass(slots=True)
class BulkSummary:
    """Rows built, by status, and how many rows carry each issue code."""

    rows: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    code_lists: Counter[str] = field(default_factory=Counter)  # "E_X W_Y" → rows

    def add(self, other: BulkSummary) -> None:
        self.rows += other.rows
        self.statuses.update(other.statuses)
        self.code_lists.update(other.code_lists)

    @property
    def codes(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for codes, rows in self.code_lists.items():
            for code in codes.split():
                counts[code] += rows
        return counts

    def to_json(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "ok": self.statuses["ok"],
            "warning": self.statuses["warning"],
            "error": self.statuses["error"],
            "issues": dict(self.codes.most_common()),
        }


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where each value lives in a row, and what the output row looks like."""

    url: int
    values: tuple[tuple[str, int], ...]
    preset_column: int | None
    keep: tuple[int, ...]
    preset: tuple[str, str] | None
    policy: NamingPolicy


_PLAN: _Plan | None = None  # set in the parent before forking; read by the workers


def run_bulk_build(
    source: Path,
    out: Path,
    preset: str | None,
    policy: NamingPolicy,
    jobs: int | None,
    as_json: bool,
    check: bool,
) -> int:
    """Build `source` into `out`; print a summary; return the exit code (1 if any row failed)."""
    global _PLAN
    try:
        handle = source.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(f"cannot read {source}: {exc}") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise InvalidInput(f"{source} is empty", hint="the first line must be a header")
        _PLAN = _plan(header, preset, policy, source)
        total = max(_count_lines(source) - 1, 0)
        summary = BulkSummary()
        tracked: list[str] = []
        try:
            with out.open("w", newline="", encoding="utf-8") as sink:
                keep = [header[i] for i in _PLAN.keep]
                csv.writer(sink, lineterminator="\n").writerow([*keep, *OUTPUT_COLUMNS])
                with _progress(as_json) as progress:
                    task = progress.add_task("building", total=total)
                    for text, part, urls in _run(handle, jobs or os.cpu_count() or 1):
                        sink.write(text)
                        summary.add(part)
                        if check:
                            tracked.extend(urls)
                        progress.advance(task, part.rows)
        except OSError as exc:
            raise InvalidInput(f"cannot write {out}: {exc}") from None
        except csv.Error as exc:
            raise InvalidInput(f"{source} is not a readable CSV file: {exc}") from None
    check_ok = True
    document: dict[str, object] = {"input": str(source), "output": str(out), **summary.to_json()}
    if as_json:
        if check and tracked:
            reports = run_checks(tracked, quiet=True)
            document["check"] = reports_document(reports)["summary"]
            check_ok = all(r.valid for r in reports)
        emit_json(document)
    else:
        _render_summary(summary, out)
        if check and tracked:
            check_ok = check_and_render(tracked, as_json=False, single=False)[1]
    return 1 if summary.statuses["error"] or not check_ok else 0


def _plan(header: Sequence[str], preset: str | None, policy: NamingPolicy, source: Path) -> _Plan:
    names = [h.strip().lower() for h in header]
    columns: dict[str, int] = {}
    for i, name in enumerate(names):
        bare = name[4:] if name.startswith("utm_") else name
        if bare in FIELDS or name in ("url", "preset"):
            columns[name if name in ("url", "preset") else bare] = i
    if "url" not in columns:
        raise InvalidInput(
            f"{source} has no `url` column (found: {', '.join(header)})",
            hint="the header needs `url`, and may add source, medium, campaign, content, …",
        )
    chosen = policy.preset(preset) if preset else None
    keep = tuple(i for i, name in enumerate(names) if name not in OUTPUT_COLUMNS)
    return _Plan(
        url=columns["url"],
        values=tuple((f, columns[f]) for f in FIELDS if f in columns),
        preset_column=columns.get("preset"),
        keep=keep,
        preset=(chosen.source, chosen.medium) if chosen else None,
        policy=policy,
    )


def _blocks(lines: Iterator[str]) -> Iterator[str]:
    """Blocks of about `_CHUNK` whole CSV records."""
    block: list[str] = []
    quotes = 0
    for line in lines:
        block.append(line)
        quotes += line.count('"')
        if len(block) >= _CHUNK and quotes % 2 == 0:
            yield "".join(block)
            block, quotes = [], 0
    if block:
        yield "".join(block)


def _run(lines: Iterator[str], jobs: int) -> Iterator[tuple[str, BulkSummary, list[str]]]:
    if jobs == 1:
        yield from map(_build_chunk, _blocks(lines))
        return
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        yield from pool.imap(_build_chunk, _blocks(lines), chunksize=1)


def _build_chunk(block: str) -> tuple[str, BulkSummary, list[str]]:
    plan = _PLAN
    assert plan is not None  # set before the workers fork
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    summary = BulkSummary()
    tracked: list[str] = []
    width = max(plan.keep, default=-1) + 1
    for row in csv.reader(io.StringIO(block)):
        if not row:
            continue
        summary.rows += 1
        if len(row) < width:
            row = row + [""] * (width - len(row))
        values = {name: row[i] for name, i in plan.values if row[i] != ""}
        preset = plan.preset
        if plan.preset_column is not None and row[plan.preset_column]:
            chosen = plan.policy.presets.get(row[plan.preset_column])
            preset = (chosen.source, chosen.medium) if chosen else preset
        if preset is not None:
            values.setdefault("source", preset[0])
            values.setdefault("medium", preset[1])
        result = build_from(row[plan.url], values, policy=plan.policy)
        codes = " ".join([i.code for i in result.issues])
        summary.statuses[result.status] += 1
        summary.code_lists[codes] += 1
        if result.tracked_url is not None:
            tracked.append(result.tracked_url)
        writer.writerow(
            [
                *(row[i] for i in plan.keep),
                result.tracked_url or "",
                result.status,
                result.channel or "",
                codes,
                " | ".join([i.message for i in result.issues if i.level != "info"]),
            ]
        )
    return buffer.getvalue(), summary, tracked


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            count += block.count(b"\n")
    return count


def _progress(as_json: bool) -> Progress:
    console = stderr_console()
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=as_json or not console.is_terminal,
    )


def _render_summary(summary: BulkSummary, out: Path) -> None:
    console = stdout_console()
    counts = summary.statuses
    console.print(
        f"Built {summary.rows:,} rows into {out}: [green]{counts['ok']:,} ok[/], "
        f"[yellow]{counts['warning']:,} with warnings[/], [red]{counts['error']:,} with errors[/]"
    )
    if summary.codes:
        table = Table("issue", "times", title="Issues found")
        for code, n in summary.codes.most_common():
            table.add_row(code, f"{n:,}")
        console.print(table)
