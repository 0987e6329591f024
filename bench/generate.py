"""Generate a benchmark ledger: by default 20,000 counterparties, 5,000 projects, 1,000,000 items
and 800,000 receipts, with their stored applications, into a SQLite file or PostgreSQL.

    .venv/bin/python bench/generate.py --database sqlite:////abs/path/bench/data/bench.sqlite3
    .venv/bin/python bench/generate.py --database postgresql+psycopg://user@host:port/dbname

How (see bench/README.md):
1. ``flask db upgrade`` (flask_migrate.upgrade) creates or updates the schema; the demo
   organisation and its sales users are created as the departments and responsible persons.
2. Documents are generated in memory from a seeded generator (the same seed and as-of date
   always give the same ledger).
3. Allocation is computed with recovery.ledger.rules.allocate per counterparty — the function
   recovery.ledger.services.reallocate stores — and each item gets the open amount and last
   movement date reallocate would give it.
4. Rows are bulk-loaded with the raw driver: sqlite3 executemany (journal off, secondary
   indexes dropped and rebuilt) or psycopg COPY (indexes and foreign keys dropped and
   re-created around the load, all in one transaction), then ANALYZE (VACUUM ANALYZE on
   PostgreSQL, so that index-only scans see an up-to-date visibility map).

Benchmark data carry no audit trail: the rows are written below the application on purpose.
The ledger tables must be empty (``--reset`` empties them first).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sqlite3
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

LEDGER_TABLES = (
    "applications",
    "receipts",
    "adjustments",
    "items",
    "contacts",
    "contracts",
    "projects",
    "counterparties",
)
# Tables whose indexes and foreign keys are dropped around the bulk load.
BULK_TABLES = ("counterparties", "projects", "contracts", "items", "adjustments", "receipts",
               "applications")  # fmt: skip

DEALER_TYPES = (
    ("goods", 55, 30, 90, 12.3),
    ("parts", 25, 30, 30, 9.5),
    ("freight", 12, 30, 30, 8.7),
    ("warehouse_financing", 4, 180, 180, 14.0),
    ("repurchase", 1, 90, 90, 13.0),
    ("guarantee_deposit", 1, 365, 1095, 12.5),
    ("deposit", 1, 365, 365, 10.0),
    ("other_receivable", 1, 60, 180, 9.0),
)  # (type, weight, shortest and longest terms in days, log-mean of the amount in yuan)
CUSTOMER_TYPES = (
    ("goods", 50, 30, 90, 12.0),
    ("parts", 25, 30, 30, 9.2),
    ("freight", 15, 30, 30, 8.5),
    ("deposit", 4, 365, 365, 10.0),
    ("other_receivable", 3, 60, 180, 9.0),
    ("guarantee_deposit", 3, 365, 730, 11.5),
)
EMPLOYER_TYPES = (
    ("progress", 60, 28, 28, 14.0),
    ("settlement", 8, 90, 90, 15.0),
    ("retention", 8, 365, 730, 13.0),
    ("advance", 6, 14, 14, 14.5),
    ("variation_claim", 6, 60, 120, 12.5),
    ("completed_unsettled", 4, 180, 180, 14.0),
    ("schedule_bonus", 3, 60, 60, 11.5),
    ("quality_bonus", 3, 60, 60, 11.5),
    ("guarantee_deposit", 2, 365, 730, 12.0),
)
TYPES = {"dealer": DEALER_TYPES, "customer": CUSTOMER_TYPES, "employer": EMPLOYER_TYPES}
CATEGORY = {
    "guarantee_deposit": "other_receivable",
    "deposit": "other_receivable",
    "other_receivable": "other_receivable",
    "completed_unsettled": "completed_unsettled",
}
METHODS = (("transfer", 70), ("acceptance_bill", 20), ("offset", 6), ("in_kind", 2),
           ("enforcement", 2))  # fmt: skip
HISTORY_DAYS = 6 * 365


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def shares(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainders)."""
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    out = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


class Generator:
    def __init__(self, args, departments: list[int], users: dict[int, list[int]]):
        self.args = args
        self.rng = random.Random(args.seed)
        self.as_of = args.as_of
        self.start = self.as_of - timedelta(days=HISTORY_DAYS)
        self.departments = departments
        self.users = users  # department id -> sales user ids
        self.created = datetime.combine(self.as_of, datetime.min.time())

    def counterparties(self):
        from recovery.demo.ledger import CITIES, make_credit_code

        rng = self.rng
        rows, self.kind, self.weight, self.profile = [], [], [], []
        codes = set()
        for n in range(1, self.args.counterparties + 1):
            kind = rng.choices(("dealer", "customer", "employer"), (60, 30, 10))[0]
            department = rng.choice(self.departments)
            responsible = rng.choice(self.users[department])
            region = rng.choice(CITIES)[0]
            while (code := make_credit_code(rng, region)) in codes:
                pass
            codes.add(code)
            profile = rng.choices(("prompt", "late", "slow", "never"), (15, 55, 20, 10))[0]
            rows.append(
                (n, f"B{n:06d}", f"基准{kind}{n:06d}有限公司", kind, code,
                 rng.randint(1, 200) * 10_000_000, "poor" if profile == "never" else "good",
                 "normal", department, responsible, True, self.created)
            )  # fmt: skip
            self.kind.append(kind)
            self.profile.append(profile)
            self.weight.append(rng.lognormvariate(0, 1.1))
        self.party_rows = rows
        return rows

    def projects(self):
        rng = self.rng
        employers = [row for row in self.party_rows if row[3] == "employer"]
        self.projects_of = defaultdict(list)
        projects, contracts = [], []
        for n in range(1, self.args.projects + 1):
            employer = employers[(n - 1) % len(employers)] if employers else None
            department = rng.choice(self.departments)
            projects.append(
                (n, f"BP{n:05d}", f"基准项目{n:05d}", employer[0] if employer else None,
                 department, "good" if rng.random() < 0.8 else "poor", True, self.created)
            )  # fmt: skip
            if employer:
                self.projects_of[employer[0]].append((n, department))
                rate = rng.choice((None, None, Decimal("0.0500"), Decimal("6.0000")))
                contracts.append(
                    (n, f"BHT{n:06d}", employer[0], n, self.start, 10_000_000_000,
                     rate, "daily" if rate == Decimal("0.0500") else "annual",
                     rng.random() > 0.1, employer[9], self.created)
                )  # fmt: skip
        return projects, contracts

    def items(self):
        """Items as lists: id, document_no, counterparty, project, contract, type, category,
        amount, recognized, due, department, responsible, (open, last movement) set later."""
        rng = self.rng
        counts = shares(self.args.items, self.weight)
        self.items_of = []  # per counterparty: range of item ids
        rows = []
        span = HISTORY_DAYS
        next_id = 1
        for index, count in enumerate(counts):
            party = self.party_rows[index]
            cp_id, kind = party[0], party[3]
            types = TYPES[kind]
            names = [t[0] for t in types]
            weights = [t[1] for t in types]
            spec = {t[0]: t for t in types}
            projects = self.projects_of.get(cp_id, [])
            first = next_id
            for item_type in rng.choices(names, weights, k=count):
                _name, _w, short, long, mean = spec[item_type]
                recognized = self.start + timedelta(days=int(span * rng.random() ** 0.7))
                due = recognized + timedelta(days=rng.randint(short, long))
                amount = max(100, int(rng.lognormvariate(mean, 0.9) * 100))
                project = contract = None
                department = party[8]
                if projects:
                    project, department = rng.choice(projects)
                    contract = project
                rows.append(
                    [next_id, f"BI{next_id:08d}", cp_id, project, contract, item_type,
                     CATEGORY.get(item_type, "accounts_receivable"), amount, recognized, due,
                     department, party[9], None, None]
                )  # fmt: skip
                next_id += 1
            self.items_of.append((first, next_id))
        return rows

    def receipts(self, items):
        """Receipts per counterparty in proportion to its items; each pays (part of) one of its
        items, late as the counterparty's habit, naming it about a third of the time."""
        rng = self.rng
        per_party = shares(self.args.receipts, [hi - lo for lo, hi in self.items_of])
        methods = [m for m, _w in METHODS]
        method_weights = [w for _m, w in METHODS]
        rows = []
        next_id = 1
        lateness = {"prompt": -3, "late": 35, "slow": 120, "never": 400}
        for index, count in enumerate(per_party):
            lo, hi = self.items_of[index]
            if not count or lo == hi:
                continue
            cp_id = self.party_rows[index][0]
            median = lateness[self.profile[index]]
            # Older items are the likelier to have been paid.
            own = sorted(items[lo - 1 : hi - 1], key=lambda row: row[8])
            for _ in range(count):
                item = own[min(int(len(own) * rng.random() ** 1.5), len(own) - 1)]
                share = 1.0 if rng.random() < 0.7 else rng.uniform(0.3, 0.9)
                amount = max(1, int(item[7] * share))
                delay = round(rng.lognormvariate(0, 0.8) * abs(median))
                day = item[9] + timedelta(days=delay if median > 0 else -delay)
                if rng.random() < 0.03:
                    day = item[8] - timedelta(days=rng.randint(1, 30))  # paid in advance
                day = min(max(day, self.start), self.as_of)
                named = item[0] if rng.random() < 0.33 else None
                method = rng.choices(methods, method_weights)[0]
                rows.append(
                    [next_id, f"BR{next_id:08d}", cp_id, amount, day, method,
                     f"bench {next_id}", named, self.created, amount]
                )  # fmt: skip
                # [9]: the unapplied amount, less each application in allocate_all.
                next_id += 1
        return rows

    def adjustments(self, items, finance_id):
        rng = self.rng
        rows = []
        for n in range(1, max(self.args.items // 500, 1) + 1):
            item = items[rng.randrange(len(items))]
            amount = max(1, item[7] * rng.randint(1, 10) // 100)
            day = min(item[8] + timedelta(days=rng.randint(10, 300)), self.as_of)
            rows.append(
                (n, f"BT{n:07d}", item[0], "credit_note", amount, day, "bench allowance",
                 "approved", None, finance_id, self.created, "bench", self.created)
            )  # fmt: skip
        return rows


def allocate_all(items, receipts, adjustments, items_of, party_rows):
    """Applications of every counterparty by recovery.ledger.rules.allocate; fills each item's
    open amount and last movement date, and each receipt's unapplied amount (ids 1..n in
    order), as services.reallocate would."""
    from recovery.ledger import rules

    credited = defaultdict(int)
    credit_day = {}
    for adj in adjustments:
        credited[adj[2]] += adj[4]
        credit_day[adj[2]] = max(credit_day.get(adj[2], adj[5]), adj[5])
    receipts_of = defaultdict(list)
    for row in receipts:
        receipts_of[row[2]].append(rules.ReceiptDoc(row[0], row[1], row[3], row[4], row[7]))
    applications = []
    next_id = 1
    for index, (lo, hi) in enumerate(items_of):
        if lo == hi:
            continue
        cp_id = party_rows[index][0]
        docs = [
            rules.ItemDoc(row[0], row[1], row[7], row[8], row[9], credited.get(row[0], 0))
            for row in items[lo - 1 : hi - 1]
        ]
        paid = defaultdict(int)
        last = {}
        for a in rules.allocate(docs, receipts_of.get(cp_id, [])):
            applications.append((next_id, cp_id, a.receipt_id, a.item_id, a.amount, a.applied_on))
            next_id += 1
            paid[a.item_id] += a.amount
            receipts[a.receipt_id - 1][9] -= a.amount
            last[a.item_id] = max(last.get(a.item_id, a.applied_on), a.applied_on)
        for row in items[lo - 1 : hi - 1]:
            item_id = row[0]
            row[12] = row[7] - credited.get(item_id, 0) - paid[item_id]
            moved = [d for d in (last.get(item_id), credit_day.get(item_id)) if d is not None]
            row[13] = max(moved) if moved else None
    return applications


COLUMNS = {
    "counterparties": ("id", "code", "name", "kind", "credit_code", "credit_limit",
                       "financial_status", "business_status", "department_id", "responsible_id",
                       "active", "created_at"),
    "projects": ("id", "code", "name", "employer_id", "department_id", "prospects", "active",
                 "created_at"),
    "contracts": ("id", "number", "counterparty_id", "project_id", "signed_on", "amount",
                  "overdue_rate", "rate_basis", "reviewed", "signer_id", "created_at"),
    "items": ("id", "document_no", "counterparty_id", "project_id", "contract_id", "item_type",
              "category", "amount", "recognized_on", "due_on", "department_id", "responsible_id",
              "open_amount", "last_movement_on", "created_at"),
    "adjustments": ("id", "number", "item_id", "kind", "amount", "dated_on", "reason", "status",
                    "proposed_by_id", "decided_by_id", "decided_at", "decision_note",
                    "created_at"),
    "receipts": ("id", "receipt_no", "counterparty_id", "amount", "received_on", "method",
                 "reference", "item_id", "created_at", "unapplied_amount"),
    "applications": ("id", "counterparty_id", "receipt_id", "item_id", "amount", "applied_on"),
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Loading with the raw drivers


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


def load_sqlite(path: str, tables: dict[str, list]) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-500000")
        connection.execute("BEGIN")
        marks = ",".join(["?"] * len(BULK_TABLES))
        indexes = connection.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "  # noqa: S608
            f"AND tbl_name IN ({marks})",
            BULK_TABLES,
        ).fetchall()
        for name, _sql in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        for table, rows in tables.items():
            started = time.perf_counter()
            columns = COLUMNS[table]
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: E501, S608
            connection.executemany(
                sql, ([_sqlite_value(v) for v in row[: len(columns)]] for row in rows)
            )
            log(f"  {table}: {len(rows):,} rows in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        for _name, index_sql in indexes:
            connection.execute(index_sql)
        log(f"  indexes rebuilt in {time.perf_counter() - started:.1f} s")
        connection.execute("COMMIT")
        started = time.perf_counter()
        connection.execute("ANALYZE")
        connection.execute("PRAGMA journal_mode=WAL")
        log(f"  ANALYZE in {time.perf_counter() - started:.1f} s")
    finally:
        connection.close()


def load_postgresql(conninfo: str, tables: dict[str, list]) -> None:
    import psycopg

    with psycopg.connect(conninfo) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
                     FROM pg_constraint c
                    WHERE c.contype IN ('f', 'u') AND (c.conrelid::regclass::text = ANY(%s)
                          OR c.confrelid::regclass::text = ANY(%s))""",
                (list(BULK_TABLES), list(BULK_TABLES)),
            )
            constraints = cursor.fetchall()
            cursor.execute(
                """SELECT i.indexname, i.indexdef FROM pg_indexes i
                    WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                       WHERE c.conname = i.indexname)""",
                (list(BULK_TABLES),),
            )
            indexes = cursor.fetchall()
            for table, name, _definition in constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            for table, rows in tables.items():
                started = time.perf_counter()
                columns = COLUMNS[table]
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row[: len(columns)])
                sequence = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                cursor.execute(sequence + f"(SELECT coalesce(max(id), 1) FROM {table}))")  # noqa: S608
                log(f"  {table}: {len(rows):,} rows in {time.perf_counter() - started:.1f} s")
            started = time.perf_counter()
            for _name, definition in indexes:
                cursor.execute(definition)
            # Unique constraints first: foreign keys may rest on them.
            ordered = sorted(constraints, key=lambda c: not c[2].startswith("UNIQUE"))
            for table, name, definition in ordered:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            log(f"  indexes and constraints re-created in {time.perf_counter() - started:.1f} s")
        connection.commit()
        started = time.perf_counter()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")
        log(f"  VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")


# ---------------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="SQLAlchemy URL (sqlite or postgresql)")
    parser.add_argument("--counterparties", type=int, default=20_000)
    parser.add_argument("--projects", type=int, default=5_000)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--receipts", type=int, default=800_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=date.today(),
        help="the last day of the generated history (default: today)",
    )
    parser.add_argument(
        "--reset", action="store_true", help="empty the ledger tables first (else they must be)"
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault(
        "RECOVERY_INSTANCE_PATH", str(Path(__file__).parent / "data" / "instance")
    )
    from flask_migrate import upgrade

    from recovery import create_app
    from recovery.audit.context import acting_as, cli_actor
    from recovery.auth import services as auth
    from recovery.demo.ledger import SALES_DEPARTMENTS, ensure_sales_users
    from recovery.demo.services import demo_password, load_organisation
    from recovery.extensions import db

    url = sa.engine.make_url(args.database)
    if url.get_backend_name() == "sqlite" and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database})
    total = time.perf_counter()
    with app.app_context():
        log("schema: flask db upgrade")
        upgrade()
        with acting_as(cli_actor()):
            load_organisation()
            sales, _created = ensure_sales_users(demo_password)
            finance_id = auth.find_user("finance").id
            departments = {name: auth.find_department(name).id for name in SALES_DEPARTMENTS}
            db.session.commit()
        users = {departments[name]: ids for name, ids in sales.items()}
        counts = {
            t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}"))  # noqa: S608
            for t in LEDGER_TABLES
        }
        if any(counts.values()):
            if not args.reset:
                print(f"The ledger tables are not empty ({counts}); use --reset.", file=sys.stderr)
                return 1
            log("reset: emptying the ledger tables")
            for table in LEDGER_TABLES:
                db.session.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608
            db.session.commit()
        db.session.remove()
        db.engine.dispose()

    started = time.perf_counter()
    generator = Generator(args, list(users), users)
    parties = generator.counterparties()
    projects, contracts = generator.projects()
    items = generator.items()
    receipts = generator.receipts(items)
    adjustments = generator.adjustments(items, finance_id)
    log(
        f"generated {len(parties):,} counterparties, {len(projects):,} projects, "
        f"{len(items):,} items, {len(receipts):,} receipts in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    applications = allocate_all(items, receipts, adjustments, generator.items_of, parties)
    log(f"allocated: {len(applications):,} applications in {time.perf_counter() - started:.1f} s")

    for row in items:
        row.append(generator.created)
    tables = {
        "counterparties": parties,
        "projects": projects,
        "contracts": contracts,
        "items": items,
        "adjustments": adjustments,
        "receipts": receipts,
        "applications": applications,
    }
    started = time.perf_counter()
    log("loading")
    if url.get_backend_name() == "sqlite":
        load_sqlite(url.database, tables)
    else:
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        load_postgresql(conninfo, tables)
    log(f"loaded in {time.perf_counter() - started:.1f} s")
    log(f"total {time.perf_counter() - total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
