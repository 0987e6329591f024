"""Measure the ledger's reads (and the CSV import) on a database made by bench/generate.py.

    .venv/bin/python bench/run.py --database URL [--runs 5] [--as-of YYYY-MM-DD]
                                  [--import-rows 100000] [--explain] [--json FILE]

Each read is run once to warm the caches, then ``--runs`` times; the median (and the fastest)
is reported, in milliseconds. Measured, through the application's own code:

- the aging report by counterparty (recovery.ledger.queries.aging), as of the as-of date and
  as of a year before, and the same aging as ONE hand-written SQL statement — the floor —
  in up to three forms: "full" (sums every application dated by then), "stored" (uses each
  item's stored open amount where nothing moved after the date) and, when no item moved
  after the date at all, "open" (the stored open amounts alone, as the application then
  does). The hand-written result is checked equal to the application's;
- one counterparty's statement: recovery.ledger.statement.build_statement (the counterparty
  page: totals over all its items, the first page of 200 item lines and of 200 receipts) for
  the counterparties with the median, 90th and 99th percentile and largest number of items,
  and for comparison a replay of allocation (services.load_documents + rules.allocate), which
  the statement does not do;
- the ledger page's first page (50 rows by due date) with its totals and count, for several
  filters, as the ledger screen runs it (screen_queries.totals, then ledger_page taking the
  count from the totals), and the equivalent on queries.outstanding_items;
- the import of a 100,000-row items CSV with recovery.imports.services.import_file (what
  ``flask --app recovery ledger import items`` runs), into an empty database and into a copy
  of the benchmark database — when the importer exists.

Nothing here changes the benchmark database (imports go to copies).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def cpu_probe():
    """A function giving the CPU seconds used so far by this process and, on PostgreSQL, by
    the server process serving this session (read from /proc: same machine only)."""
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
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        return total

    return used


def measure(function, runs: int, cpu=time.process_time) -> dict:
    """Median and fastest wall time, and median CPU time (the machine is shared: CPU time is
    what the work itself costs, wall time what a user waits)."""
    function()  # warm the caches
    times, cpu_times = [], []
    for _ in range(runs):
        cpu_started = cpu()
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((cpu() - cpu_started) * 1000)
    return {
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "cpu_median_ms": statistics.median(cpu_times),
        "runs": runs,
    }


def measure_interleaved(functions: dict, runs: int, cpu=time.process_time):
    """Like measure() for several functions run in turn, run after run; also the median of the
    per-run ratios of the first function's time to each other's (wall and CPU)."""
    names = list(functions)
    for function in functions.values():
        function()
    wall = {name: [] for name in names}
    used = {name: [] for name in names}
    for _ in range(runs):
        for name in names:
            cpu_started = cpu()
            started = time.perf_counter()
            functions[name]()
            wall[name].append((time.perf_counter() - started) * 1000)
            used[name].append((cpu() - cpu_started) * 1000)
    figures = {
        name: {
            "median_ms": statistics.median(wall[name]),
            "min_ms": min(wall[name]),
            "cpu_median_ms": statistics.median(used[name]),
            "runs": runs,
        }
        for name in names
    }
    first = names[0]
    ratios = {
        f"{first} / {name}": {
            "wall": round(
                statistics.median(a / b for a, b in zip(wall[first], wall[name], strict=True)), 2
            ),
            "cpu": round(
                statistics.median(a / b for a, b in zip(used[first], used[name], strict=True) if b),
                2,
            ),
        }
        for name in names[1:]
    }
    return figures, ratios


# ---------------------------------------------------------------------------------------------
# The floor: the aging by counterparty as one hand-written statement

FLOOR_SQL = """
WITH paid AS (
    SELECT a.item_id, SUM(a.amount) AS fen
      FROM applications a
     WHERE a.applied_on <= :d {moved}
     GROUP BY a.item_id
), credited AS (
    SELECT j.item_id, SUM(j.amount) AS fen
      FROM adjustments j
     WHERE j.status = 'approved' AND j.dated_on <= :d {moved_j}
     GROUP BY j.item_id
), balances AS (
    SELECT i.counterparty_id, i.due_on, {balance} AS fen
      FROM items i
      LEFT JOIN paid p ON p.item_id = i.id
      LEFT JOIN credited c ON c.item_id = i.id
     WHERE i.recognized_on <= :d
), sums AS (
    SELECT counterparty_id,
           SUM(fen) AS outstanding,
           SUM(CASE WHEN due_on >= :d THEN fen ELSE 0 END) AS not_due,
           SUM(CASE WHEN due_on BETWEEN :b30 AND :b1 THEN fen ELSE 0 END) AS d1_30,
           SUM(CASE WHEN due_on BETWEEN :b90 AND :b31 THEN fen ELSE 0 END) AS d31_90,
           SUM(CASE WHEN due_on BETWEEN :b180 AND :b91 THEN fen ELSE 0 END) AS d91_180,
           SUM(CASE WHEN due_on BETWEEN :b365 AND :b181 THEN fen ELSE 0 END) AS d181_365,
           SUM(CASE WHEN due_on BETWEEN :b730 AND :b366 THEN fen ELSE 0 END) AS d366_730,
           SUM(CASE WHEN due_on BETWEEN :b1095 AND :b731 THEN fen ELSE 0 END) AS d731_1095,
           SUM(CASE WHEN due_on <= :b1096 THEN fen ELSE 0 END) AS d1096_plus,
           SUM(CASE WHEN due_on < :d THEN fen ELSE 0 END) AS overdue
      FROM balances
     WHERE fen <> 0
     GROUP BY counterparty_id
), credit AS (
    SELECT cp, SUM(fen) AS fen FROM (
        SELECT r.counterparty_id AS cp, r.amount AS fen FROM receipts r WHERE r.received_on <= :d
        UNION ALL
        SELECT a.counterparty_id, -a.amount FROM applications a WHERE a.applied_on <= :d
    ) m GROUP BY cp HAVING SUM(fen) <> 0
)
SELECT k.code, k.name, {columns}, COALESCE(cr.fen, 0) AS unapplied_credit
  FROM counterparties k
  LEFT JOIN sums s ON s.counterparty_id = k.id
  LEFT JOIN credit cr ON cr.cp = k.id
 WHERE s.counterparty_id IS NOT NULL OR cr.cp IS NOT NULL
 ORDER BY k.code
"""
BUCKET_COLUMNS = ("outstanding", "not_due", "d1_30", "d31_90", "d91_180", "d181_365",
                  "d366_730", "d731_1095", "d1096_plus", "overdue")  # fmt: skip


def floor_statement(variant: str, dialect: str) -> sa.TextClause:
    cast = "CAST({} AS BIGINT)" if dialect == "postgresql" else "{}"
    columns = ", ".join(cast.format(f"COALESCE(s.{c}, 0)") + f" AS {c}" for c in BUCKET_COLUMNS)
    if variant == "open":  # valid only when no item moved after the date: the stored amounts
        balance = "i.open_amount"
        moved = moved_j = "AND 1 = 0"
    elif variant == "full":
        balance = "i.amount - COALESCE(p.fen, 0) - COALESCE(c.fen, 0)"
        moved = moved_j = ""
    else:  # stored: the open amount where nothing moved after the date
        balance = (
            "CASE WHEN i.last_movement_on IS NULL OR i.last_movement_on <= :d THEN i.open_amount "
            "ELSE i.amount - COALESCE(p.fen, 0) - COALESCE(c.fen, 0) END"
        )
        # Only the items that moved after the date need their sums: driven from the index
        # on last_movement_on, then the applications' (item_id, applied_on, amount) index.
        later = "(SELECT m.id FROM items m WHERE m.last_movement_on > :d)"
        moved, moved_j = f"AND a.item_id IN {later}", f"AND j.item_id IN {later}"
    return sa.text(FLOOR_SQL.format(balance=balance, moved=moved, moved_j=moved_j, columns=columns))


def floor_params(as_of: date) -> dict:
    params = {"d": as_of}
    for days in (1, 30, 31, 90, 91, 180, 181, 365, 366, 730, 731, 1095, 1096):
        params[f"b{days}"] = as_of - timedelta(days=days)
    return params


def run_floor(statement, as_of: date):
    from recovery.extensions import db

    return db.session.execute(statement, floor_params(as_of)).all()


def same_as_app(floor_rows, app_rows) -> bool:
    from recovery.core.money import to_fen

    mine = {r[0]: tuple(int(v) for v in r[2:]) for r in floor_rows}  # code -> buckets..., credit
    theirs = {
        r.key: tuple(to_fen(r.values[c]) for c in (*BUCKET_COLUMNS, "unapplied_credit"))
        for r in app_rows
    }
    return mine == theirs


# ---------------------------------------------------------------------------------------------
# Ledger page and statement


def ledger_page_functions(as_of: date, filters: dict):
    """{name: callable} for the ledger page's first page + count + totals, per filter."""
    from recovery.extensions import db
    from recovery.ledger import queries, rules

    try:
        from recovery.ledger import screen_queries
    except ImportError:
        screen_queries = None

    out = {}
    for name, values in filters.items():
        if screen_queries is not None:
            item_filter = screen_queries.ScreenFilter(open_only=True, **values)

            def page(item_filter=item_filter):
                # What the ledger screen (ledger.routes.index) runs: the totals, whose count
                # the page takes instead of counting again, then the page.
                totals = screen_queries.totals(as_of, item_filter)
                return screen_queries.ledger_page(
                    as_of, item_filter, "due_on", "asc", 1, 50, total=totals.count
                )

            out[f"ledger page ({name}) — screen_queries"] = page
        item_filter = queries.LedgerFilter(**values)

        def equivalent(item_filter=item_filter):
            b = queries.outstanding_items(as_of, item_filter)
            open_rows = sa.select(*b.c).where(b.c.outstanding_fen != 0).subquery("o")
            rows = db.session.execute(
                sa.select(open_rows).order_by(open_rows.c.due_on, open_rows.c.document_no).limit(50)
            ).all()
            amount = open_rows.c.outstanding_fen
            sums = [sa.func.count(), sa.func.sum(amount)]
            for bucket in (*rules.DUE_BUCKETS, *rules.AGE_BUCKETS):
                condition = queries.bucket_condition(bucket, open_rows.c, as_of)
                sums.append(sa.func.sum(sa.case((condition, amount), else_=0)))
            db.session.execute(sa.select(*sums)).one()
            return rows

        out[f"ledger page ({name}) — outstanding_items"] = equivalent
    return out


def statement_functions(counterparty_id: int, as_of: date, label: str):
    from recovery.ledger import rules, services

    def replay():
        items, receipts = services.load_documents(counterparty_id)
        return rules.allocate(items, receipts)

    out = {f"statement, {label}: load_documents + rules.allocate": replay}
    try:
        from recovery.ledger import statement
    except ImportError:
        return out
    terms = statement.InterestTerms(statement.Decimal("6.0"))

    def page():
        return statement.build_statement(counterparty_id, as_of, terms)

    out[f"statement, {label}: statement.build_statement"] = page
    return out


# ---------------------------------------------------------------------------------------------
# Import


def write_items_csv(path: Path, rows: int, counterparties: list[tuple[str, str, str]], as_of):
    """A CSV of new items for the given counterparties (code, name, kind), in the import's
    format, with the demo departments and sales users."""
    import random

    from recovery.demo.ledger import EXTRA_SALES_USERS

    rng = random.Random(3)
    users = [(u, d) for u, _n, d in EXTRA_SALES_USERS]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["counterparty_code", "counterparty_name", "counterparty_kind", "project_code",
             "project_name", "contract_no", "document_no", "item_type", "amount",
             "recognized_on", "due_on", "department", "responsible", "overdue_rate"]
        )  # fmt: skip
        for n in range(rows):
            code, name, kind = counterparties[n % len(counterparties)]
            recognized = as_of - timedelta(days=rng.randint(0, 900))
            user, department = rng.choice(users)
            writer.writerow(
                [code, name, kind, "", "", "", f"IMP{n:08d}", rng.choice(("goods", "parts")),
                 f"{rng.randint(100, 5_000_000)}.{rng.randint(0, 99):02d}",
                 recognized.isoformat(), (recognized + timedelta(days=60)).isoformat(),
                 department, user, ""]
            )  # fmt: skip


def cli_has_import() -> bool:
    from recovery import create_app

    app = create_app()
    group = app.cli.commands.get("ledger")
    return group is not None and "import" in getattr(group, "commands", {})


def server_cpu_probe(url: str):
    """A function giving the CPU seconds used so far by the PostgreSQL server at ``url`` — its
    postmaster's reaped children (backends that have exited) plus the live ones — or None
    when it cannot be read (not PostgreSQL, or not on this machine). Meaningful on a server
    that serves only the benchmark."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return None
    engine = sa.create_engine(parsed)
    try:
        with engine.connect() as connection:
            folder = connection.exec_driver_sql("SHOW data_directory").scalar()
        pid = int(Path(folder, "postmaster.pid").read_text().split()[0])
    except (OSError, sa.exc.DBAPIError, ValueError):
        return None
    finally:
        engine.dispose()
    ticks = os.sysconf("SC_CLK_TCK")

    def fields(process: int):
        return Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()

    def used() -> float:
        total = sum(int(v) for v in fields(pid)[13:15])  # the postmaster's cutime + cstime
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = fields(int(entry.name))
                except OSError:
                    continue
                if int(stat[1]) == pid:  # a live child: utime + stime
                    total += int(stat[11]) + int(stat[12])
        return total / ticks

    return used


def time_import(url: str, csv_path: Path) -> dict:
    """Time `flask --app recovery ledger import items FILE` when the command exists, else the
    importer's function in this process; each on the database at ``url``. Also the CPU time
    of the importing process and, on a local PostgreSQL, of the server."""
    import resource

    env = {**os.environ, "RECOVERY_DATABASE_URL": url}
    server = server_cpu_probe(url)
    server_started = server() if server else None
    if cli_has_import():
        import subprocess

        flask = Path(sys.executable).with_name("flask")
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - our own flask, our own file
            [str(flask), "--app", "recovery", "ledger", "import", "items", str(csv_path)],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        figure = {
            "how": "flask --app recovery ledger import items",
            "seconds": seconds,
            "client_cpu_seconds": cpu,
            "ok": done.returncode == 0,
            "output": (done.stdout + done.stderr)[-2000:],
        }
    else:
        from recovery import create_app
        from recovery.audit.context import acting_as, cli_actor
        from recovery.extensions import db
        from recovery.imports.services import import_file

        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context(), acting_as(cli_actor()):
            started = time.perf_counter()
            cpu_started = time.process_time()
            result = import_file("items", csv_path)
            if result.ok:
                db.session.commit()
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            db.session.remove()
            db.engine.dispose()
        figure = {
            "how": "recovery.imports.services.import_file (in process) + commit",
            "seconds": seconds,
            "client_cpu_seconds": cpu,
            "ok": bool(result.ok),
            "output": repr(getattr(result, "issues", ""))[:2000],
        }
    if server:
        figure["server_cpu_seconds"] = server() - server_started
    return figure


def empty_database(url: sa.engine.URL, work: Path) -> str:
    """A freshly migrated database with the demo organisation, next to the benchmark one."""
    from flask_migrate import upgrade

    from recovery import create_app
    from recovery.audit.context import acting_as, cli_actor
    from recovery.demo.ledger import ensure_sales_users
    from recovery.demo.services import demo_password, load_organisation
    from recovery.extensions import db

    if url.get_backend_name() == "sqlite":
        target = f"sqlite:///{work / 'import-empty.sqlite3'}"
    else:
        target = _pg_database(url, "bench_import_empty", template=None)
    app = create_app({"SQLALCHEMY_DATABASE_URI": target})
    with app.app_context():
        upgrade()
        with acting_as(cli_actor()):
            load_organisation()
            ensure_sales_users(demo_password)
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return target


def copy_database(url: sa.engine.URL, work: Path) -> str:
    if url.get_backend_name() == "sqlite":
        source = Path(url.database)
        target = work / "import-copy.sqlite3"
        with sa.create_engine(f"sqlite:///{source}").connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    return _pg_database(url, "bench_import_copy", template=url.database)


def _pg_database(url: sa.engine.URL, name: str, template: str | None) -> str:
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        suffix = f' TEMPLATE "{template}"' if template else ""
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"{suffix}')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: sa.engine.URL, name: str) -> None:
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    admin.dispose()


# ---------------------------------------------------------------------------------------------


def explain(statement, params, dialect: str) -> str:
    from recovery.extensions import db

    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    if not isinstance(statement, sa.TextClause):
        statement = sa.text(
            str(statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": 1}))
        )
    rows = db.session.execute(sa.text(prefix + statement.text), params or {}).all()
    return "\n".join(" ".join(str(c) for c in row) for row in rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date.today())
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument(
        "--only", help="measure only the reads whose name contains this text (e.g. aging)"
    )
    parser.add_argument(
        "--proposed",
        action="store_true",
        help="measure with the query change proposed in bench/proposed.py",
    )
    parser.add_argument(
        "--pg-set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting for the session, e.g. max_parallel_workers_per_gather=0",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("RECOVERY_INSTANCE_PATH", str(HERE / "data" / "instance"))

    from recovery import create_app
    from recovery.extensions import db
    from recovery.ledger import queries
    from recovery.parties.models import Counterparty

    url = sa.engine.make_url(args.database)
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database})
    if args.proposed:
        sys.path.insert(0, str(HERE))
        import proposed

        proposed.apply()
    as_of, past = args.as_of, args.as_of - timedelta(days=365)
    results: dict = {"database": url.get_backend_name(), "as_of": str(as_of), "reads": {}}
    with app.app_context():
        dialect = db.engine.dialect.name
        for setting in args.pg_set:
            name, value = setting.split("=", 1)
            db.session.execute(sa.text("SELECT set_config(:n, :v, false)"), {"n": name, "v": value})
        results["settings"] = args.pg_set
        results["proposed"] = args.proposed
        count = db.session.scalar
        results["rows"] = {
            t: count(sa.text(f"SELECT count(*) FROM {t}"))  # noqa: S608
            for t in ("counterparties", "projects", "items", "receipts", "applications")
        }
        log(f"{dialect}: {results['rows']}")
        sizes = db.session.execute(
            sa.text("SELECT counterparty_id, count(*) AS n FROM items GROUP BY counterparty_id")
        ).all()
        sizes.sort(key=lambda r: (r.n, r.counterparty_id))
        median_cp, largest_cp = sizes[len(sizes) // 2], sizes[-1]
        department = db.session.scalar(
            sa.text("SELECT id FROM departments WHERE name = '营销二部'")
        )
        responsible = db.session.scalar(sa.text("SELECT id FROM users WHERE username = 'wuhua'"))
        filters = {
            "no filter": {},
            "department 营销二部, overdue only": {
                "department_id": department,
                "overdue_only": True,
            },
            "responsible wuhua": {"responsible_id": responsible},
            "one counterparty": {"counterparty_id": median_cp.counterparty_id},
            "type goods, bucket d91_180": {"item_type": "goods", "bucket": "d91_180"},
        }

        floor = {v: floor_statement(v, dialect) for v in ("full", "stored", "open")}

        def floors_for(day) -> tuple[str, ...]:
            """The hand-written forms valid as of ``day``: "open" (the stored open amounts
            alone) only when no item moved after it — as the application does then."""
            return (
                ("full", "stored", "open")
                if queries.nothing_moved_after(day)
                else (
                    "full",
                    "stored",
                )
            )

        # The aging and its floors are measured interleaved (application, full, stored, then
        # again), so that all of them see the same load on a shared machine; the ratios are
        # taken run by run.
        aging_groups = {
            label: {
                f"aging by counterparty, {label}": lambda day=day: queries.aging(day),
                **{
                    f"floor ({variant}), {label}": (
                        lambda day=day, variant=variant: run_floor(floor[variant], day)
                    )
                    for variant in floors_for(day)
                },
            }
            for day, label in ((as_of, "as of today"), (past, "a year ago"))
        }
        reads = {}
        # Counterparties by size: the median one, the 90th and 99th percentiles, the largest.
        for label, row in (
            ("median", median_cp),
            ("90th percentile", sizes[int(len(sizes) * 0.9)]),
            ("99th percentile", sizes[int(len(sizes) * 0.99)]),
            ("largest", largest_cp),
        ):
            reads.update(statement_functions(row.counterparty_id, as_of, f"{label}, {row.n} items"))
        reads.update(ledger_page_functions(as_of, filters))

        check = not args.only or args.only in "aging by counterparty floor"
        for day, label in ((as_of, "today"), (past, "a year ago")) if check else ():
            app_rows = queries.aging(day, "counterparty")
            for variant in floors_for(day):
                agrees = same_as_app(run_floor(floor[variant], day), app_rows)
                results[f"floor ({variant}) equals aging(), {label}"] = agrees
                log(f"floor ({variant}) equals queries.aging, {label}: {agrees}")
                if not agrees:
                    print("  the hand-written aging differs from the application's!")

        cpu = cpu_probe()
        for label, group in aging_groups.items():
            if args.only and not any(args.only in name for name in group):
                continue
            figures, ratios = measure_interleaved(group, args.runs, cpu)
            results["reads"].update(figures)
            results.setdefault("ratios", {})[label] = ratios
            for name, figure in figures.items():
                log(
                    f"{name}: median {figure['median_ms']:.1f} ms (min {figure['min_ms']:.1f}, "
                    f"CPU {figure['cpu_median_ms']:.1f})"
                )
            log(f"aging / floor, {label} (median of per-run ratios): {ratios}")
        for name, function in reads.items():
            if args.only and args.only not in name:
                continue
            results["reads"][name] = figure = measure(function, args.runs, cpu)
            log(
                f"{name}: median {figure['median_ms']:.1f} ms (min {figure['min_ms']:.1f}, "
                f"CPU {figure['cpu_median_ms']:.1f})"
            )

        if args.explain:
            for variant in ("full", "stored"):
                for day in (as_of, past):
                    print(f"\n--- floor ({variant}) as of {day}")
                    print(explain(floor[variant], floor_params(day), dialect))
            balances = queries.outstanding_items(past)
            print(f"\n--- queries.outstanding_items as of {past} (summed)")
            print(
                explain(
                    sa.select(sa.func.sum(balances.c.outstanding_fen)).where(
                        balances.c.outstanding_fen != 0
                    ),
                    None,
                    dialect,
                )
            )
        cp_names = db.session.execute(
            sa.select(Counterparty.code, Counterparty.name, Counterparty.kind)
            .order_by(Counterparty.id)
            .limit(2000)
        ).all()
        db.session.remove()
        db.engine.dispose()

    if not args.skip_import and not (args.only and "import" not in args.only):
        results["import"] = run_imports(url, args, as_of, [tuple(r) for r in cp_names])

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
        log(f"results written to {args.json}")
    return 0


def run_imports(url, args, as_of, counterparties) -> dict:
    try:
        import recovery.imports.services  # noqa: F401
    except ImportError:
        log("import: recovery.imports.services is not there yet — not measured")
        return {"status": "not measured yet: no importer"}
    out = {}
    with tempfile.TemporaryDirectory(dir=HERE / "data" if (HERE / "data").is_dir() else None) as t:
        work = Path(t)
        csv_path = work / "items.csv"
        write_items_csv(csv_path, args.import_rows, counterparties, as_of)
        log(f"import: {args.import_rows:,} rows, {csv_path.stat().st_size / 1e6:.1f} MB")
        for label, make in (("into an empty database", empty_database),
                            ("into a copy of the benchmark database", copy_database)):  # fmt: skip
            target = make(url, work)
            figure = time_import(target, csv_path)
            figure["rows_per_second"] = args.import_rows / figure["seconds"]
            out[label] = figure
            server = figure.get("server_cpu_seconds")
            log(
                f"import {label}: {figure['seconds']:.1f} s "
                f"({figure['rows_per_second']:,.0f} rows/s, ok={figure['ok']}, {figure['how']}); "
                f"CPU: importer {figure['client_cpu_seconds']:.1f} s"
                + (f", server {server:.1f} s" if server is not None else "")
            )
            if not figure["ok"]:
                print(figure["output"])
            if url.get_backend_name() != "sqlite":
                drop_pg_database(url, sa.engine.make_url(target).database)
    return out


if __name__ == "__main__":
    sys.exit(main())
