"""The store's rows as Arrow tables, for DuckDB to compute over (the lift's sends and goal events).

PostgreSQL's rows are read by the ADBC driver (`adbc-driver-postgresql`, binary COPY): they go
from the database's C client straight into Arrow columns, never through Python objects.

SQLite's are read by the process's own SQLite (the `sqlite3` module SQLAlchemy uses), one
cursor fetch a query, then made Arrow columns. The ADBC SQLite driver bundles a second copy of
SQLite, and two copies in one process do not see each other's locks: when its connection
closed, it took itself for the database's last user, checkpointed and deleted the WAL under
the server's open connections, whose later commits no new connection saw (and POSIX locks are
the process's: closing its files drops the locks the server's connections hold). So it is not
used, here or anywhere a server may have the store open.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Engine

if TYPE_CHECKING:
    import pyarrow as pa


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


def read_arrow(engine: Engine, queries: Mapping[str, str]) -> dict[str, pa.Table]:
    """Each query's rows as an Arrow table, all read in one transaction (one snapshot: SQLite's
    read transaction, PostgreSQL's REPEATABLE READ). Queries are plain SQL text (values as
    literals); a SQLite column of no value at all (no rows, or NULL in every row) has no type
    here: the caller casts each column to what it expects."""
    if engine.url.get_backend_name() == "sqlite":
        return _sqlite(engine, queries)
    return _postgresql(engine, queries)
