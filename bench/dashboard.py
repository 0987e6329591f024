"""Measure the executive dashboard (issue 6, point 7) on a database made by bench/generate.py.

    .venv/bin/python bench/dashboard.py --database URL [--as-of 2026-11-28] [--runs 5]
        [--upgrade] [--snapshots] [--pg-set name=value ...] [--json FILE]

Timed, median of ``--runs`` after one warm-up run (wall and CPU time, as bench/run.py):

- the whole page: GET /dashboard/ through the application (an executive signed in; the
  figures, the twelve-month trend, both aging charts, top 20, cases, lawsuits, holds,
  limitation, disputes, rendered to HTML), for the whole company and one department, as of
  the benchmark's date and as of the last month-end before it, computed each time
  (``refresh=1``), and once more as a second visitor gets it from the dashboard's cache;
- its parts (recovery.dashboard.kpis and queries), to see where the time goes — without
  PostgreSQL's JIT compilation, as the page runs them (queries.without_jit);
- ``flask --app recovery dashboard snapshots --rebuild`` (the month-end snapshots), once.

``--upgrade`` first brings the schema to the latest migration (the dashboard's indexes and
snapshot table: migrations 0008 and 0011) — use it on a COPY of the benchmark database, not
on one somebody else is measuring. ``--snapshots`` builds the snapshots before timing (without it,
the page computes the trend's month-ends live, and the timings say so).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def cpu_probe():
    """CPU seconds of this process and, on PostgreSQL, of the session's server process."""
    from recovery.extensions import db

    backend = None
    if db.engine.dialect.name == "postgresql":
        pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        stat = Path(f"/proc/{pid}/stat")
        backend = stat if stat.exists() else None
    ticks = os.sysconf("SC_CLK_TCK")

    def used() -> float:
        total = time.process_time()
        if backend is not None:
            fields = backend.read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    return used


def measure(function, runs: int, cpu) -> dict:
    function()  # warm the caches
    times, cpu_times = [], []
    for _ in range(runs):
        cpu_started, started = cpu(), time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((cpu() - cpu_started) * 1000)
    return {
        "median_ms": round(statistics.median(times)),
        "min_ms": round(min(times)),
        "cpu_median_ms": round(statistics.median(cpu_times)),
        "runs": runs,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 28))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--upgrade", action="store_true", help="flask db upgrade first")
    parser.add_argument("--snapshots", action="store_true", help="rebuild the snapshots first")
    parser.add_argument("--pg-set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--only", default=None, help="only the timings whose name contains this")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from recovery import create_app
    from recovery.auth import services as auth
    from recovery.dashboard import kpis, queries, rules, snapshots
    from recovery.extensions import db

    config = {
        "SQLALCHEMY_DATABASE_URI": args.database,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        # One connection for everything, so that the server process whose CPU time is read
        # (cpu_probe) is the one serving the page requests too.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0},
    }
    app = create_app(config)
    results: dict = {"database": sa.engine.make_url(args.database).get_backend_name()}
    results["as_of"] = args.as_of.isoformat()
    if args.upgrade:
        from flask_migrate import upgrade

        with app.app_context():
            log("upgrading the schema")
            sqlite = db.engine.dialect.name == "sqlite"
            if sqlite:
                # Migrations that rebuild a table (SQLite's batch mode) need the foreign keys
                # off while they copy it, as SQLite's documentation says; the app turns them on.
                from sqlalchemy import event

                from recovery.core.database import _sqlite_pragmas

                event.remove(db.engine, "connect", _sqlite_pragmas)
                db.engine.dispose()
            upgrade()
            if sqlite:
                event.listen(db.engine, "connect", _sqlite_pragmas)
                db.engine.dispose()
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.execute(sa.text("VACUUM ANALYZE items"))
            else:
                db.session.execute(sa.text("ANALYZE"))
                db.session.commit()

    with app.app_context():
        for setting in args.pg_set:
            name, value = setting.split("=", 1)
            db.session.execute(sa.text("SELECT set_config(:n, :v, false)"), {"n": name, "v": value})
        results["settings"] = args.pg_set
        if args.snapshots:
            last = rules.previous_month_end(args.as_of)
            log(f"rebuilding the month-end snapshots up to {last}")
            started = time.perf_counter()
            months = snapshots.rebuild(last)
            db.session.commit()
            seconds = time.perf_counter() - started
            results["snapshot_rebuild"] = {"months": months, "seconds": round(seconds, 1)}
            log(f"  {months} month-ends in {seconds:.1f} s")
        stored = snapshots.stored_month_ends()
        results["snapshot_months"] = len(stored)
        counts = {
            t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}"))  # noqa: S608
            for t in ("items", "receipts", "applications", "kpi_month_snapshots")
        }
        results["rows"] = counts
        log(f"{db.engine.dialect.name}: {counts}")
        if auth.find_user("bench.executive") is None:
            auth.create_user("bench.executive", "bench-password-9", ["executive"])
            db.session.commit()
        department = db.session.scalar(
            sa.text("SELECT id FROM departments WHERE name = '营销二部'")
        )
        cpu = cpu_probe()
        queries.without_jit()  # as the page does (kpis.dashboard), for this transaction
        month_end = rules.previous_month_end(args.as_of)
        as_of, date_from = args.as_of, rules.month_start(args.as_of)
        company, dept = queries.COMPANY, queries.scope_for(department)
        parts = {
            "balances by department (aging), today": lambda: queries.balances_by_department(as_of),
            "balances, last month-end": lambda: queries.balances(month_end),
            "aging + top 20 + holds in one reading, last month-end": lambda: (
                queries.company_overview(month_end)
            ),
            "receivables at period start (snapshot or live)": lambda: snapshots.receivables_at(
                date_from - timedelta(days=1)
            ),
            "report (the twelve KPIs)": lambda: kpis.report(as_of, date_from=date_from),
            "trend (12 months)": lambda: kpis.trend(as_of, company, queries.balances(as_of)),
            "top 20 overdue": lambda: queries.top_overdue(as_of),
            "credit holds": lambda: queries.credit_holds(as_of),
            "cases matrix": lambda: queries.cases_matrix(as_of),
            "disputed": lambda: queries.disputed_total(as_of),
            "settled in the period": lambda: queries.settled_between(date_from, as_of),
            "lawsuits by stage": lambda: kpis.lawsuits(as_of, company),
            "limitation expiring": lambda: kpis.limitation(as_of, company),
            "targets month/quarter/year": lambda: kpis.target_rows(as_of, company),
            "department: report": lambda: kpis.report(
                as_of, date_from=date_from, department_id=dept
            ),
        }
        results["parts"] = {}
        for name, function in parts.items():
            if args.only and args.only not in name:
                continue
            timing = measure(function, args.runs, cpu)
            results["parts"][name] = timing
            log(f"  {name}: {timing['median_ms']} ms (cpu {timing['cpu_median_ms']})")
        db.session.remove()

    with app.app_context():
        cpu = cpu_probe()  # the pool's one connection: the pages' server process
        for setting in args.pg_set:  # a setting of the session stays on its connection
            name, value = setting.split("=", 1)
            db.session.execute(sa.text("SELECT set_config(:n, :v, false)"), {"n": name, "v": value})
        db.session.commit()
    client = app.test_client()
    response = client.post(
        "/login", data={"username": "bench.executive", "password": "bench-password-9"}
    )
    assert response.status_code == 302, response.status_code
    # refresh=1: the figures are computed on every run, not taken from the dashboard's cache
    # (docs/kpis.md); the "cached" row is what a second visitor within the minute costs.
    pages = {
        "page: company, today": f"/dashboard/?as_of={args.as_of}&refresh=1",
        "page: 营销二部, today": (
            f"/dashboard/?as_of={args.as_of}&department_id={department}&refresh=1"
        ),
        "page: company, last month-end": f"/dashboard/?as_of={month_end}&refresh=1",
        "page: company, today, from the cache": f"/dashboard/?as_of={args.as_of}",
        "drill-down: overdue items, page 1": f"/dashboard/items?list=overdue&as_of={args.as_of}",
    }
    results["pages"] = {}
    for name, path in pages.items():
        if args.only and args.only not in name:
            continue

        def get(path=path):
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code)

        timing = measure(get, args.runs, cpu)
        results["pages"][name] = timing
        log(f"  {name}: {timing['median_ms']} ms (cpu {timing['cpu_median_ms']})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
