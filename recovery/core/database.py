"""Database connection settings that differ per engine."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from recovery.extensions import db


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def postgresql_options(app: Flask) -> None:
    """Before the engine exists, two rules for every PostgreSQL connection (docs/deployment.md):

    - No JIT compilation. The limitation's correlated subqueries (and the dashboard's
      aggregates) are estimated far above the JIT threshold; compiling them took 2.7 s of a
      3.1 s query, the query itself 0.3 s.
    - No server-side prepared statements (psycopg's ``prepare_threshold=None``): each
      statement is planned for its own parameters. psycopg prepares a statement run five
      times, and after five more the server may keep a generic plan that knows neither how
      many ids an array holds nor how many accounts a person has: the import's lookups by
      ``code = ANY($1)`` scanned the whole table (seconds instead of milliseconds at 100,000
      items), the worklist's ranking went from 70 to 120-150 ms. Planning costs well under a
      millisecond for the small statements, 2-4 ms for the largest.
    """
    if not str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    connect_args["options"] = f"{connect_args.get('options', '')} -c jit=off".strip()
    connect_args.setdefault("prepare_threshold", None)
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def configure(app: Flask) -> None:
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite" and not event.contains(
            engine, "connect", _sqlite_pragmas
        ):
            event.listen(engine, "connect", _sqlite_pragmas)
