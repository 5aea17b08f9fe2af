"""The store's rows as Arrow tables, for DuckDB to compute over (the lift's sends and goal events).

PostgreSQL's rows are read by the ADBC driver (`adbc-driver-postgresql`, binary COPY): they go
from the database's C client straight into Arrow columns, never through Python objects.

SQLite's are read by the process's own SQLite (the `sqlite3` module SQLAlchemy uses), one
cursor fetch a query, then made Arrow columns. The ADBC SQLite driver bundles a second copy of
SQLite, and two copies in one process do not see each other's locks: when its connection
closed, it took itself for the database's last user, checkpointed and deleted the WAL under
the server's open connections, whose later commits no new connection saw (and POSIX locks are
the process's: closing its files drops the locks the server's connections hold). So it is not
used in a process that may have the store open: `read_arrow(..., apart=True)` (the journeys
builder, millions of rows) runs it in a child process of its own (`_SQLITE_CHILD`), where its
columns are made in C, at the cost of starting that process (about half a second).

SQLite has no column types: ADBC infers each column's type from every value it reads
(`_ALL_ROWS`; its default, the first 1,024 rows, fails on a column whose first values are NULL
and later ones text).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import JSON, Engine, cast, func, literal_column, select

from tagtrail.errors import StoreError

if TYPE_CHECKING:
    import pyarrow as pa

_ALL_ROWS = {"adbc.sqlite.query.batch_rows": str(1 << 30)}


def sql_text(value: str) -> str:
    """A string literal, the same on SQLite and PostgreSQL (standard strings)."""
    return "'" + value.replace("'", "''") + "'"


def listed(engine: Engine, values: Sequence[Any], type_: Any = None) -> Any:
    """A subquery of `values` for an IN test, given as one JSON text (a literal of any length,
    parsed by the store: `json_each` on SQLite, `json_array_elements_text` on PostgreSQL, whose
    text `type_` casts back)."""
    found: Any = literal_column(sql_text(json.dumps(list(values))))
    if engine.dialect.name == "postgresql":
        rows = func.json_array_elements_text(cast(found, JSON)).table_valued("value")
        return select(rows.c.value if type_ is None else cast(rows.c.value, type_))
    return select(func.json_each(found).table_valued("value").c.value)


def _postgresql(engine: Engine, queries: Mapping[str, str]) -> dict[str, pa.Table]:
    import adbc_driver_postgresql.dbapi as postgresql

    plain = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    found: dict[str, pa.Table] = {}
    with postgresql.connect(plain) as connection:
        with connection.cursor() as cursor:  # every query sees the same snapshot
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            for name, query in queries.items():
                cursor.execute(query)
                found[name] = cursor.fetch_arrow_table()
        connection.rollback()
    return found


def _sqlite(engine: Engine, queries: Mapping[str, str]) -> dict[str, pa.Table]:
    import pyarrow as pa

    found: dict[str, pa.Table] = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")  # one read transaction: one snapshot
        try:
            for name, query in queries.items():
                cursor.execute(query)
                names = [d[0] for d in cursor.description]
                rows = cursor.fetchall()
                # One object array of every value, its columns typed by pyarrow: a third of the
                # time of transposing the tuples in Python.
                values = np.fromiter(
                    chain.from_iterable(rows), dtype=object, count=len(rows) * len(names)
                ).reshape(len(rows), len(names))
                found[name] = pa.table({n: pa.array(values[:, i]) for i, n in enumerate(names)})
        finally:
            cursor.execute("ROLLBACK")
            cursor.close()
    finally:
        raw.close()
    return found


#: The SQLite read for many rows, in its own process, where ADBC's second copy of SQLite is the
#: only one (see above): its columns are made in C, and come back as Arrow IPC files,
#: memory-mapped.
_SQLITE_CHILD = """
import json, sys
import adbc_driver_sqlite.dbapi as sqlite
import pyarrow as pa
job = json.load(sys.stdin)
with sqlite.connect(job["database"]) as connection, connection.cursor() as cursor:
    cursor.adbc_statement.set_options(**job["options"])
    for name, query in job["queries"].items():
        cursor.execute(query)
        table = cursor.fetch_arrow_table()
        with pa.OSFile(job["folder"] + "/" + name + ".arrow", "wb") as sink:
            with pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
    connection.rollback()
"""


def _sqlite_apart(database: str, queries: Mapping[str, str]) -> dict[str, pa.Table]:
    import pyarrow as pa

    with tempfile.TemporaryDirectory(prefix="tagtrail-arrow-") as folder:
        job = {"database": database, "options": _ALL_ROWS, "queries": dict(queries)}
        done = subprocess.run(
            [sys.executable, "-c", _SQLITE_CHILD],
            input=json.dumps({**job, "folder": folder}),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise StoreError(f"cannot read the SQLite store {database}: {reason}")
        found = {}
        for name in queries:  # mapped, not copied; the files may go once they are mapped
            source = pa.memory_map(str(Path(folder) / f"{name}.arrow"))
            found[name] = pa.ipc.open_file(source).read_all()
    return found


def read_arrow(
    engine: Engine, queries: Mapping[str, str], *, apart: bool = False
) -> dict[str, pa.Table]:
    """Each query's rows as an Arrow table, all read in one transaction (one snapshot: SQLite's
    read transaction, PostgreSQL's REPEATABLE READ). Queries are plain SQL text (values as
    literals); a SQLite column of no value at all (no rows, or NULL in every row) has no type
    here: the caller casts each column to what it expects. `apart`: SQLite's rows are read by
    ADBC in a child process (for millions of rows; a store in memory is refused then)."""
    url = engine.url
    if url.get_backend_name() != "sqlite":
        return _postgresql(engine, queries)
    if not apart:
        return _sqlite(engine, queries)
    if not url.database or url.database == ":memory:":
        raise StoreError(
            "a SQLite store in memory cannot be read by the journeys engine",
            hint="use a store file (sqlite:///path.db)",
        )
    return _sqlite_apart(str(Path(url.database).resolve()), queries)
