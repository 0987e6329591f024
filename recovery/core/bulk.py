"""Bulk INSERT and UPDATE through the driver's own executemany.

Values still go through each column's bind processor (Money to integer fen, dates for
SQLite), exactly as a Core statement would convert them; only SQLAlchemy's per-row work is
skipped, which is most of the cost of a large Core executemany. Anything unexpected in the
compiled statement falls back to the plain Core statement.
"""

from __future__ import annotations

import contextlib
import operator

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from recovery.extensions import db


def one_of(column, values):
    """``column IN (values)``; on PostgreSQL ``column = ANY(array)``: one parameter instead of
    hundreds, which keeps the planner on the index when psycopg prepares the statement (the
    IN form went from milliseconds to half a second per lookup after a few executions)."""
    values = list(values)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def dialect_insert(dialect: str):
    """The INSERT construct with ON CONFLICT of the dialect (PostgreSQL's or SQLite's)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def upsert_statement(table: sa.Table, key: str, update, where=None, set_=None):
    """INSERT into ``table``; a row whose ``key`` is taken updates the columns ``update`` to
    the new row's values instead (ON CONFLICT … DO UPDATE, on both databases), and those of
    ``set_`` to its expressions. ``where``: a condition the stored row must meet to be
    updated (else it is left as it is)."""
    statement = dialect_insert(db.session.get_bind().dialect.name)(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c[key]],
        set_={**{name: statement.excluded[name] for name in update}, **(set_ or {})},
        where=where,
    )


def _processors(dialect, types):
    return [t.dialect_impl(dialect).bind_processor(dialect) for t in types]


def _run(connection, compiled, names: list[str], processors, rows: list[dict], keys) -> None:
    dialect = connection.dialect
    order = list(compiled.positiontup) if dialect.positional else list(compiled.binds)
    if sorted(order) != sorted(names):
        raise LookupError("unexpected parameters")
    position = {name: index for index, name in enumerate(names)}
    pairs = [(keys[position[name]], processors[position[name]]) for name in order]
    # The values in statement order at C speed; only the columns with a processor (dates,
    # money) are touched one by one.
    getter = operator.itemgetter(*(key for key, _process in pairs))
    processed = [(index, process) for index, (_key, process) in enumerate(pairs) if process]
    converted = []
    for row in rows:
        values = [getter(row)] if len(pairs) == 1 else list(getter(row))
        for index, process in processed:
            values[index] = process(values[index])
        converted.append(
            tuple(values) if dialect.positional else dict(zip(order, values, strict=True))
        )
    with _prepared(connection):
        connection.exec_driver_sql(compiled.string, converted)


@contextlib.contextmanager
def _prepared(connection):
    """psycopg: the statement of an executemany prepared on the server once, whatever the
    connection's setting (an import turns preparing off for its key lookups; 100,000 UPDATEs
    unprepared are 100,000 parses and plans)."""
    driver = connection.connection.driver_connection
    if not hasattr(driver, "prepare_threshold"):
        yield
        return
    threshold = driver.prepare_threshold
    driver.prepare_threshold = 0
    try:
        yield
    finally:
        driver.prepare_threshold = threshold


def insert_many(connection, table: sa.Table, rows: list[dict]) -> None:
    """INSERT ``rows`` (dicts with the same keys, in the same order) into ``table``.

    PostgreSQL (psycopg): COPY, several times faster than row-by-row INSERTs."""
    if not rows:
        return
    names = list(rows[0])
    uniform = all(list(row) == names for row in rows)
    if uniform and (connection.dialect.name, connection.dialect.driver) == (
        "postgresql",
        "psycopg",
    ):
        _copy(connection, table, names, rows)
        return
    compiled = table.insert().compile(
        dialect=connection.dialect, column_keys=names, for_executemany=True
    )
    if "RETURNING" in compiled.string.upper() or not uniform:
        connection.execute(table.insert(), rows)
        return
    processors = _processors(connection.dialect, [table.c[name].type for name in names])
    try:
        _run(connection, compiled, names, processors, rows, names)
    except LookupError:
        connection.execute(table.insert(), rows)


def _copy(connection, table: sa.Table, names: list[str], rows: list[dict]) -> None:
    dialect = connection.dialect
    processors = _processors(dialect, [table.c[name].type for name in names])
    pairs = list(zip(names, processors, strict=True))
    preparer = dialect.identifier_preparer
    columns = ", ".join(preparer.quote(name) for name in names)
    statement = f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN"
    getter = operator.itemgetter(*names)
    processed = [(index, process) for index, (_name, process) in enumerate(pairs) if process]
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                values = [getter(row)] if len(names) == 1 else list(getter(row))
                for index, process in processed:
                    values[index] = process(values[index])
                copy.write_row(values)
    finally:
        cursor.close()


def update_many(connection, table: sa.Table, key: str, rows: list[dict]) -> None:
    """UPDATE ``table`` SET the other keys of each row WHERE ``key`` equals the row's."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != key]
    bind_names = [f"b_{name}" for name in columns] + [f"b_{key}"]
    statement = (
        table.update()
        .where(table.c[key] == sa.bindparam(f"b_{key}", type_=table.c[key].type))
        .values({name: sa.bindparam(f"b_{name}", type_=table.c[name].type) for name in columns})
    )
    compiled = statement.compile(dialect=connection.dialect, for_executemany=True)
    types = [table.c[name].type for name in columns] + [table.c[key].type]
    processors = _processors(connection.dialect, types)
    try:
        _run(connection, compiled, bind_names, processors, rows, [*columns, key])
    except LookupError:
        renamed = [{f"b_{k}": v for k, v in row.items()} for row in rows]
        connection.execute(statement, renamed)
