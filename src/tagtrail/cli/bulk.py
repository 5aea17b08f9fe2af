"""`tagtrail build --csv`: build every row of a CSV file, in parallel, with a progress bar.

The parent only finds byte ranges of whole records (a range ends where the count of `"` is
even, so a quoted newline never splits a record); forked workers read, parse and build their own
range into a part file, and the parent joins the parts in input order. Nothing but counts
crosses between processes. One row's problems never stop the others: each output row carries
its own status and issues.
"""

from __future__ import annotations

import csv
import io
import mmap
import multiprocessing
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from tagtrail.cli.check import check_and_render, reports_document, run_checks
from tagtrail.cli.output import emit_json, stderr_console, stdout_console
from tagtrail.errors import InvalidInput
from tagtrail.links import FIELDS, NamingPolicy, build_from

OUTPUT_COLUMNS = ("tracked_url", "status", "channel", "issue_codes", "issues")
_RANGE_BYTES = 1 << 21  # about 20,000 records per worker task


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
    header, ranges = _split(source)
    _PLAN = _plan(header, preset, policy, source)
    summary = BulkSummary()
    tracked: list[str] = []
    parts = Path(tempfile.mkdtemp(prefix=".tagtrail-", dir=out.resolve().parent))
    try:
        tasks = [
            (str(source), start, end, str(parts / f"{i:06d}.csv"))
            for i, (start, end) in enumerate(ranges)
        ]
        with _progress(as_json) as progress:
            task = progress.add_task("building", total=sum(e - s for s, e in ranges) or 1)
            for part, urls, size in _run(tasks, jobs or os.cpu_count() or 1):
                summary.add(part)
                if check:
                    tracked.extend(urls)
                progress.update(task, advance=size, description=f"{summary.rows:,} rows")
        with out.open("w", newline="", encoding="utf-8") as sink:
            keep = [header[i] for i in _PLAN.keep]
            csv.writer(sink, lineterminator="\n").writerow([*keep, *OUTPUT_COLUMNS])
            for _, _, _, part_path in tasks:
                with open(part_path, encoding="utf-8", newline="") as piece:
                    shutil.copyfileobj(piece, sink, 1 << 20)
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc}") from None
    finally:
        shutil.rmtree(parts, ignore_errors=True)
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


def _split(source: Path) -> tuple[list[str], list[tuple[int, int]]]:
    """The header, and the byte ranges of the data in blocks of whole records.

    A block ends at a newline where the count of `"` since its start is even, so a quoted
    newline never splits a record; each worker then reads its own block from the file.
    """
    try:
        with source.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                raise InvalidInput(f"{source} is empty", hint="the first line must be a header")
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                start = _record_end(data, 0)
                header_text = data[:start].decode("utf-8-sig")
                ranges: list[tuple[int, int]] = []
                while start < len(data):
                    end = _record_end(data, min(start + _RANGE_BYTES, len(data)), start)
                    ranges.append((start, end))
                    start = end
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{source}: the header is not UTF-8 ({exc.reason})") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {source}: {exc}") from None
    header = next(csv.reader(io.StringIO(header_text)), None)
    if not header:
        raise InvalidInput(f"{source} has no header", hint="the first line must be a header")
    return header, ranges


def _record_end(data: mmap.mmap, at: int, start: int | None = None) -> int:
    """The first record boundary after `at` (just past a newline with even quotes since
    `start`), or the end of the data."""
    begin = at if start is None else start
    cut = at
    while True:
        newline = data.find(b"\n", cut)
        if newline == -1:
            return len(data)
        cut = newline + 1
        if data[begin:cut].count(b'"') % 2 == 0:
            return cut


def _run(
    tasks: list[tuple[str, int, int, str]], jobs: int
) -> Iterator[tuple[BulkSummary, list[str], int]]:
    if jobs == 1 or len(tasks) <= 1:  # a header-only file has no task: an empty output
        yield from map(_build_range, tasks)
        return
    try:
        with multiprocessing.get_context("fork").Pool(min(jobs, len(tasks))) as pool:
            yield from pool.imap(_build_range, tasks, chunksize=1)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{tasks[0][0]} is not a readable UTF-8 CSV file: {exc}") from None


def _build_range(task: tuple[str, int, int, str]) -> tuple[BulkSummary, list[str], int]:
    """Build the records in bytes [start, end) of the source into the part file."""
    source, start, end, part_path = task
    with open(source, "rb") as handle:
        handle.seek(start)
        text = handle.read(end - start).decode("utf-8")
    block, summary, tracked = _build_chunk(text)
    with open(part_path, "w", encoding="utf-8", newline="") as sink:
        sink.write(block)
    return summary, tracked, end - start


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


def _build_chunk(block: str) -> tuple[str, BulkSummary, list[str]]:
    """Build the CSV records of `block`; return the output records, the summary, the URLs."""
    plan = _PLAN
    assert plan is not None  # set before the workers fork
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    summary = BulkSummary()
    tracked: list[str] = []
    width = max(plan.keep, default=-1) + 1
    keep_all = plan.keep == tuple(range(width))
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
        head = row[:width] if keep_all else [row[i] for i in plan.keep]
        writer.writerow(
            [
                *head,
                result.tracked_url or "",
                result.status,
                result.channel or "",
                codes,
                " | ".join([i.message for i in result.issues if i.level != "info"]),
            ]
        )
    return buffer.getvalue(), summary, tracked


def _progress(as_json: bool) -> Progress:
    console = stderr_console()
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
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
