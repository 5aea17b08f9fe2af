"""The SQLAlchemy tables (store/schema.py) and the database the migrations make describe the same
store, on SQLite and PostgreSQL: tables, columns, their type affinity and nullability, primary
keys, unique constraints and indexes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.pg import postgres_database
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    inspect,
)
from sqlalchemy.types import TypeEngine

from tagtrail.store.database import prepare_store
from tagtrail.store.schema import metadata

_AFFINITIES: list[tuple[str, type[TypeEngine[Any]]]] = [
    ("boolean", Boolean),
    ("integer", Integer),
    ("real", Float),
    ("real", Numeric),
    ("datetime", DateTime),
    ("date", Date),
    ("text", String),
]


def affinity(kind: TypeEngine[Any]) -> str:
    for name, base in _AFFINITIES:
        if isinstance(kind, base):
            return name
    raise AssertionError(f"no affinity for {kind!r}")


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = prepare_store(f"sqlite:///{tmp_path / 'tagtrail.db'}")
        yield engine
        engine.dispose()
        return
    with postgres_database() as url:
        engine = prepare_store(url)
        yield engine
        engine.dispose()


def _orm(engine: Engine) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    for table in metadata.sorted_tables:
        columns = {
            c.name: (affinity(c.type.dialect_impl(engine.dialect)), c.nullable or False)
            for c in table.columns
        }
        uniques = {
            tuple(c.name for c in u.columns)
            for u in table.constraints
            if isinstance(u, UniqueConstraint)
        }
        uniques |= {(c.name,) for c in table.columns if c.unique}
        indexes = {
            (i.name, tuple(c.name for c in i.columns), bool(i.unique)) for i in table.indexes
        }
        primary = tuple(c.name for c in table.primary_key.columns)
        tables[table.name] = (columns, primary, uniques, indexes)
    return tables


def _database(engine: Engine) -> dict[str, Any]:
    found = inspect(engine)
    tables: dict[str, Any] = {}
    for name in found.get_table_names():
        if name == "_tagtrail_migrations":
            continue
        primary = tuple(found.get_pk_constraint(name)["constrained_columns"])
        columns = {
            c["name"]: (affinity(c["type"]), bool(c["nullable"]) and c["name"] not in primary)
            for c in found.get_columns(name)
        }
        uniques = {tuple(u["column_names"]) for u in found.get_unique_constraints(name)}
        indexes = {
            (i["name"], tuple(i["column_names"]), bool(i["unique"]))
            for i in found.get_indexes(name)
            if "duplicates_constraint" not in i
        }
        tables[name] = (columns, primary, uniques, indexes)
    return tables


def test_the_orm_schema_is_the_migrated_schema(migrated: Engine) -> None:
    orm, database = _orm(migrated), _database(migrated)
    assert sorted(orm) == sorted(database)
    for name in orm:
        orm_columns, orm_primary, orm_uniques, orm_indexes = orm[name]
        db_columns, db_primary, db_uniques, db_indexes = database[name]
        assert orm_columns == db_columns, name
        assert orm_primary == db_primary, name
        assert orm_uniques == db_uniques, name
        assert orm_indexes == db_indexes, name
