"""Importing items and receipts: read the whole file, check everything, then write all or nothing.

``import_file(kind, path, dry_run=...)`` is the one entry point (the web job and the command
line both call it). It never commits: the caller commits when the result is ``ok`` and not a
dry run, and rolls back otherwise.

1. Every row is read and each cell checked (dates, amounts, codes, lengths).
2. The rows are checked against each other (duplicate numbers, conflicting names) and against
   the database (unknown departments and users, documents of another counterparty, ...).
   Any problem: nothing is written and every problem is reported.
3. Otherwise each row is compared with what is stored: new documents are inserted in bulk
   (Core statements, with their audit entries appended by ``record_rows``), changed ones are
   updated through the ORM (audited by the central listener), unchanged ones are left alone.
   Re-importing the same file therefore writes nothing at all.
4. Allocation is replayed for the counterparties whose documents were added or changed in a
   way that matters to it (amount, dates, named item), and only for them.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from recovery.audit.services import insert_changes_text, record_rows
from recovery.auth.models import Department, User
from recovery.core import bulk
from recovery.core.money import from_fen, to_fen
from recovery.core.timeutil import utcnow
from recovery.dashboard import snapshots
from recovery.extensions import db
from recovery.imports import reader
from recovery.imports.allocation import reallocate_many
from recovery.imports.formats import FORMATS, Header, excel_column, map_header
from recovery.imports.messages import FileRefused, Issue
from recovery.jobs import services as jobs
from recovery.ledger.codes import (
    COUNTERPARTY_KINDS,
    ITEM_TYPES,
    RECEIPT_METHODS,
    Code,
    UnknownCode,
    category_of,
    resolve,
)
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.parties.models import Contract, Counterparty, Project

KINDS = ("items", "receipts", "adjustments")
# What a job stores of a failed import (the command line prints every issue).
MAX_STORED_ISSUES = 5000
MAX_STORED_CHANGES = 2000
CHUNK = 500  # keys per IN (...) lookup
PG_CHUNK = 5000  # keys per = ANY(array) lookup
WRITE_CHUNK = 2000  # rows per bulk INSERT

PHASES = {
    "reading": _l("Reading and checking rows"),
    "checking": _l("Checking against the ledger"),
    "writing": _l("Writing documents"),
    "allocating": _l("Replaying allocation"),
}

Progress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


# ---------------------------------------------------------------------------------------------
# The result


@dataclass
class Result:
    """What an import found and did (or, in a dry run, would do)."""

    kind: str
    dry_run: bool
    rows: int = 0
    issues: list[Issue] = field(default_factory=list)
    issues_total: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    # Updates: {"table", "key", "fields": [[column, before, after], ...]}
    changes: list[dict] = field(default_factory=list)
    changes_total: int = 0
    reallocated: int = 0
    seconds: float = 0.0

    _order: dict = field(default_factory=dict, repr=False)

    def column_order(self, issue: Issue) -> int:
        return self._order.get(issue.column, len(self._order))

    @property
    def ok(self) -> bool:
        return not self.issues and not self.issues_total

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run and self.changed

    @property
    def changed(self) -> bool:
        return any(c.get("new", 0) or c.get("updated", 0) for c in self.counts.values())

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "rows": self.rows,
            "issues": [i.to_json() for i in self.issues[:MAX_STORED_ISSUES]],
            "issues_total": max(self.issues_total, len(self.issues)),
            "counts": self.counts,
            "changes": self.changes[:MAX_STORED_CHANGES],
            "changes_total": max(self.changes_total, len(self.changes)),
            "reallocated": self.reallocated,
            "seconds": round(self.seconds, 2),
        }

    @classmethod
    def from_json(cls, data: dict) -> Result:
        return cls(
            kind=data["kind"],
            dry_run=data["dry_run"],
            rows=data.get("rows", 0),
            issues=[Issue.from_json(i) for i in data.get("issues", [])],
            issues_total=data.get("issues_total", 0),
            counts=data.get("counts", {}),
            changes=data.get("changes", []),
            changes_total=data.get("changes_total", 0),
            reallocated=data.get("reallocated", 0),
            seconds=data.get("seconds", 0.0),
        )


# ---------------------------------------------------------------------------------------------
# Entry points


def import_file(kind: str, path: Path | str, *, dry_run: bool = False, progress=None) -> Result:
    """Check ``path`` (CSV or XLSX) as a file of ``kind`` and, unless ``dry_run``, write it.

    Writes nothing when any row is wrong. Does not commit."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind}")
    progress = progress or _no_progress
    started = time.perf_counter()
    result = Result(kind=kind, dry_run=dry_run)
    try:
        with _import_settings():
            _run(kind, Path(path), dry_run, progress, result)
    except FileRefused as refused:
        result.issues = [refused.issue]
    result.issues.sort(key=lambda i: (i.row is not None, i.row or 0, result.column_order(i)))
    result.issues_total = len(result.issues)
    result.changes_total = len(result.changes)
    result.seconds = time.perf_counter() - started
    return result


SQLITE_IMPORT_CACHE_KB = 256 * 1024


@contextlib.contextmanager
def _import_settings():
    """Database settings for the import's transaction.

    SQLite: a large page cache, so that index pages are not spilled and read back over and
    over (twice as fast on 100,000 rows); restored afterwards.
    (PostgreSQL: every connection runs without server-side prepared statements, so that each
    lookup by ``code = ANY($1)`` is planned for its keys — recovery/core/database.py. Not
    ``plan_cache_mode = force_custom_plan``: that also re-plans the foreign-key checks of every
    inserted row, which made COPY of the items two to three times slower.)
    """
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = int(connection.exec_driver_sql("PRAGMA cache_size").scalar())
    connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_IMPORT_CACHE_KB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={previous}")


def _run(kind: str, path: Path, dry_run: bool, progress: Progress, result: Result) -> None:
    estimate, header_cells, rows = reader.table_rows(path)
    header, issues = map_header(kind, header_cells)
    result._order = {header.labels[name]: index for name, index in header.positions.items()}
    if issues:  # without the right columns, no row can be read meaningfully
        result.issues = issues
        return
    parse = {"items": _parse_item, "receipts": _parse_receipt, "adjustments": _parse_adjustment}[
        kind
    ]
    parsed = []
    codes: dict = {}
    issues = []
    for count, (number, cells) in enumerate(rows, start=1):
        parsed.append(parse(RowContext(number, cells, header, issues, codes)))
        if count % 2000 == 0:
            progress("reading", count, max(estimate, count))
    result.rows = len(parsed)
    progress("reading", len(parsed), len(parsed))
    if not parsed:
        result.issues = issues or [Issue(None, None, "", "no_rows")]
        return
    progress("checking", 0, 0)
    labels = _Labels(header, kind)
    planners = {
        "items": _plan_items,
        "receipts": _plan_receipts,
        "adjustments": _plan_adjustments,
    }
    plan = planners[kind](parsed, issues, labels)
    result.issues = issues
    if issues:
        return
    result.counts = plan.counts()
    result.changes = plan.changes
    if dry_run:
        return
    # The documents go in and allocation is replayed without the ORM: the dashboard's
    # month-end snapshots note what these counterparties contribute first, and are corrected
    # at the commit, in this transaction (recovery/dashboard/snapshots.py, will_change).
    snapshots.will_change(plan.affected)
    plan.write(progress)
    progress("allocating", 0, len(plan.affected))
    reallocate_many(plan.affected, lambda done, total: progress("allocating", done, total))
    result.reallocated = len(plan.affected)
    from recovery.credit.services import reevaluate  # credit holds follow the new rows
    from recovery.limitation import kept  # and the worklist's limitation signs

    reevaluate(plan.affected)
    kept.invalidate(plan.affected)


def save_upload(stream, suffix: str, folder: Path | str) -> Path:
    """Store an uploaded file under a generated name (never the user's), return its path."""
    suffix = suffix.lower()
    if suffix not in reader.EXTENSIONS:
        raise ValueError(f"refused extension {suffix}")
    target = Path(folder) / "imports"
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{uuid.uuid4().hex}{suffix}"
    with open(path, "wb") as handle:
        while chunk := stream.read(1 << 20):
            handle.write(chunk)
    return path


def discard_upload(path: Path | str | None) -> None:
    if path:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


# ---------------------------------------------------------------------------------------------
# Reading rows


class _Labels:
    """The column names as the file writes them (errors point at what the user sees)."""

    def __init__(self, header: Header, kind: str):
        self.header = header
        self.kind = kind

    def __call__(self, name: str) -> str:
        return self.header.labels.get(name, name)


class RowContext:
    """One data row: its cells by column name, and a place to report what is wrong."""

    __slots__ = ("number", "values", "header", "issues", "codes", "bad")

    def __init__(self, number, cells, header: Header, issues: list[Issue], codes: dict):
        self.number = number
        self.header = header
        self.issues = issues
        self.codes = codes
        self.bad = False
        width = len(cells)
        self.values = {name: cells[i] for name, i in header.positions.items() if i < width}
        if width > header.width:
            for index in range(header.width, width):
                if reader.text(cells[index]):
                    self.fail_at(excel_column(index), cells[index], "cell_without_header")

    def raw(self, name: str):
        return self.values.get(name)

    def fail_at(self, column: str, raw, code: str, **params) -> None:
        self.issues.append(Issue(self.number, column, reader.shown(raw), code, params))
        self.bad = True

    def fail(self, name: str, raw, code: str, **params) -> None:
        self.fail_at(self.header.labels.get(name, name), raw, code, **params)

    def text(self, name: str, max_length: int | None = None, required: bool = False) -> str:
        raw = self.values.get(name)
        value = raw.strip() if raw.__class__ is str and raw[:1] != "'" else reader.text(raw)
        if not value:
            if required:
                self.fail(name, raw, "required")
        elif max_length and len(value) > max_length:
            self.fail(name, raw, "too_long", n=max_length)
        elif "\x00" in value:
            self.fail(name, raw, "nul_character")
            # PostgreSQL refuses NUL in text: the rest of the row is checked without it.
            return value.replace("\x00", "")
        return value

    def code(self, name: str, vocabulary, issue: str, required: bool = False) -> str | None:
        raw = self.raw(name)
        value = reader.text(raw)
        if not value:
            if required:
                self.fail(name, raw, "required")
            return None
        key = (name, value)
        if key not in self.codes:
            try:
                self.codes[key] = resolve(vocabulary, value)
            except UnknownCode:
                self.codes[key] = None
        if self.codes[key] is None:
            examples = ", ".join(list(vocabulary)[:5])
            self.fail(name, raw, issue, examples=examples)
        return self.codes[key]

    def _parsed(self, name: str, parse):
        """The cell parsed by ``parse``, or None with the cell's error recorded."""
        raw = self.raw(name)
        try:
            return parse(raw)
        except reader.CellError as error:
            self.fail(name, raw, error.code, **error.params)
            return None

    def date(self, name: str) -> date | None:
        return self._parsed(name, reader.parse_date)

    def money(self, name: str) -> Decimal | None:
        return self._parsed(name, reader.parse_money)

    def rate(self, name: str) -> Decimal | None:
        return self._parsed(name, reader.parse_rate)


_LENGTHS = {
    kind: {c.name: c.max_length for c in columns if c.max_length}
    for kind, columns in FORMATS.items()
}


@dataclass(slots=True)
class ItemRow:
    row: int
    counterparty_code: str
    counterparty_name: str
    counterparty_kind: str | None
    project_code: str
    project_name: str
    contract_no: str
    document_no: str
    item_type: str | None
    amount: Decimal | None
    recognized_on: date | None
    due_on: date | None
    department: str
    responsible: str
    overdue_rate: Decimal | None
    bad: bool


def _parse_item(row: RowContext) -> ItemRow:
    lengths = _LENGTHS["items"]
    recognized_on = row.date("recognized_on")
    due_on = row.date("due_on")
    if recognized_on and due_on and due_on < recognized_on:
        row.fail("due_on", row.raw("due_on"), "due_before_recognized")
    return ItemRow(
        row=row.number,
        counterparty_code=row.text("counterparty_code", lengths["counterparty_code"], True),
        counterparty_name=row.text("counterparty_name", lengths["counterparty_name"]),
        counterparty_kind=row.code("counterparty_kind", COUNTERPARTY_KINDS, "unknown_kind"),
        project_code=row.text("project_code", lengths["project_code"]),
        project_name=row.text("project_name", lengths["project_name"]),
        contract_no=row.text("contract_no", lengths["contract_no"]),
        document_no=row.text("document_no", lengths["document_no"], True),
        item_type=row.code("item_type", ITEM_TYPES, "unknown_item_type", required=True),
        amount=row.money("amount"),
        recognized_on=recognized_on,
        due_on=due_on,
        department=row.text("department", lengths["department"]),
        responsible=row.text("responsible", lengths["responsible"]).lower(),
        overdue_rate=row.rate("overdue_rate"),
        bad=row.bad,
    )


@dataclass(slots=True)
class ReceiptRow:
    row: int
    receipt_no: str
    counterparty_code: str
    amount: Decimal | None
    received_on: date | None
    method: str | None
    document_no: str
    reference: str
    bad: bool


def _parse_receipt(row: RowContext) -> ReceiptRow:
    lengths = _LENGTHS["receipts"]
    return ReceiptRow(
        row=row.number,
        receipt_no=row.text("receipt_no", lengths["receipt_no"], True),
        counterparty_code=row.text("counterparty_code", lengths["counterparty_code"], True),
        amount=row.money("amount"),
        received_on=row.date("received_on"),
        method=row.code("method", RECEIPT_METHODS, "unknown_method") or "transfer",
        document_no=row.text("document_no", lengths["document_no"]),
        reference=row.text("reference", lengths["reference"]),
        bad=row.bad,
    )


ADJUSTMENT_KINDS = {
    c.code: c
    for c in (
        Code("credit_note", _l("Credit note"), ("折让", "贷项通知单", "红字发票")),
        Code("write_off", _l("Write-off"), ("核销", "坏账核销")),
    )
}


@dataclass(slots=True)
class AdjustmentRow:
    row: int
    number: str
    document_no: str
    kind: str | None
    amount: Decimal | None
    dated_on: date | None
    reason: str
    bad: bool


def _parse_adjustment(row: RowContext) -> AdjustmentRow:
    lengths = _LENGTHS["adjustments"]
    return AdjustmentRow(
        row=row.number,
        number=row.text("number", lengths["number"], True),
        document_no=row.text("document_no", lengths["document_no"], True),
        kind=row.code("kind", ADJUSTMENT_KINDS, "unknown_adjustment_kind", required=True),
        amount=row.money("amount"),
        dated_on=row.date("dated_on"),
        reason=row.text("reason", lengths["reason"], True),
        bad=row.bad,
    )


# ---------------------------------------------------------------------------------------------
# Helpers for the plans


def _chunks(values: Iterable, size: int = CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _lookup_size() -> int:
    return PG_CHUNK if db.session.get_bind().dialect.name == "postgresql" else CHUNK


def _fetch(make_query, keys) -> list:
    """Rows for ``keys``, looked up a chunk at a time (larger chunks on PostgreSQL, where the
    keys travel as one array parameter)."""
    rows = []
    for chunk in _chunks(sorted(keys), _lookup_size()):
        rows.extend(db.session.execute(make_query(chunk)).all())
    return rows


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _plain(value: Decimal) -> str:
    """A Decimal without exponent or needless trailing zeros beyond the fen: 6.5, 1234.50."""
    if value == value.quantize(Decimal("0.01")):
        return str(value.quantize(Decimal("0.01")))
    return format(value.normalize(), "f")


def _same(before, after) -> bool:
    return before == after


def _insert(
    table: sa.Table, key: str, rows: list[dict], progress: Progress, done: list[int], total: int
) -> list[int]:
    """Insert ``rows`` in bulk and append their audit entries; return the new ids in order.

    PostgreSQL: the ids are taken from the table's own sequence first and written with the
    rows (COPY returns nothing). SQLite: ``key`` is a unique column (the document number or
    code) by which the new ids are read back — a plain executemany is much faster than
    INSERT ... RETURNING row by row."""
    connection = db.session.connection()
    key_column = table.c[key]
    ids: list[int] = []
    for chunk in _chunks(rows, WRITE_CHUNK):
        if connection.dialect.name == "postgresql":
            chunk_ids = (
                connection.execute(
                    sa.text(
                        "SELECT nextval(pg_get_serial_sequence(:table, 'id'))"
                        " FROM generate_series(1, :n)"
                    ),
                    {"table": table.name, "n": len(chunk)},
                )
                .scalars()
                .all()
            )
            bulk.insert_many(
                connection,
                table,
                [{**values, "id": row_id} for values, row_id in zip(chunk, chunk_ids, strict=True)],
            )
            found = {values[key]: row_id for values, row_id in zip(chunk, chunk_ids, strict=True)}
        else:
            bulk.insert_many(connection, table, chunk)
            found = {}
            for keys in _chunks([values[key] for values in chunk], _lookup_size()):
                found.update(
                    connection.execute(
                        sa.select(key_column, table.c.id).where(bulk.one_of(key_column, keys))
                    ).all()
                )
        entries = []
        for values in chunk:
            row_id = found[values[key]]
            ids.append(row_id)
            entries.append((table.name, row_id, "insert", insert_changes_text(values, row_id)))
        record_rows(connection, entries)
        done[0] += len(chunk)
        progress("writing", done[0], total)
    return ids


def _update(model, updates: dict[int, dict], progress: Progress, done: list[int], total: int):
    """Apply ``{id: {attribute: value}}`` through the ORM, so the audit listener records each."""
    for chunk in _chunks(updates, WRITE_CHUNK):
        objects = db.session.scalars(sa.select(model).where(bulk.one_of(model.id, chunk))).all()
        for obj in objects:
            for key, value in updates[obj.id].items():
                setattr(obj, key, value)
        db.session.flush()
        for obj in objects:
            db.session.expunge(obj)
        done[0] += len(chunk)
        progress("writing", done[0], total)


# ---------------------------------------------------------------------------------------------
# Items


@dataclass
class _Party:
    """A counterparty, project or contract as the file wants it."""

    id: int | None
    values: dict  # what a new one is created with
    changes: dict = field(default_factory=dict)  # attribute -> new value for an existing one
    before: dict = field(default_factory=dict)


class ItemPlan:
    def __init__(self):
        self.counterparties: dict[str, _Party] = {}
        self.projects: dict[str, _Party] = {}
        self.contracts: dict[str, _Party] = {}
        self.new_items: list[dict] = []  # with counterparty/project/contract codes to resolve
        self.updates: dict[int, dict] = {}
        self.unchanged = 0
        self.changes: list[dict] = []
        self.affected: set[int] = set()  # counterparty ids whose allocation must be replayed

    def counts(self) -> dict:
        def tally(parties):
            return {
                "new": sum(1 for p in parties.values() if p.id is None),
                "updated": sum(1 for p in parties.values() if p.id is not None and p.changes),
            }

        return {
            "items": {
                "new": len(self.new_items),
                "updated": len(self.updates),
                "unchanged": self.unchanged,
            },
            "counterparties": tally(self.counterparties),
            "projects": tally(self.projects),
            "contracts": tally(self.contracts),
        }

    def write(self, progress: Progress) -> None:
        now = utcnow()
        total = (
            len(self.new_items)
            + len(self.updates)
            + sum(
                1
                for parties in (self.counterparties, self.projects, self.contracts)
                for p in parties.values()
                if p.id is None or p.changes
            )
        )
        done = [0]
        progress("writing", 0, total)
        cp_ids = _write_parties(Counterparty, self.counterparties, now, progress, done, total)
        # Counterparties created just now contribute nothing to the snapshots: noted before
        # their items go in (the existing ones were noted before the write, in _run).
        snapshots.will_change(
            cp_ids[code] for code, party in self.counterparties.items() if party.id is None
        )
        project_ids = _write_parties(Project, self.projects, now, progress, done, total)
        for party in self.contracts.values():
            if party.id is not None:
                if "project_code" in party.changes:
                    party.changes["project_id"] = project_ids[party.changes.pop("project_code")]
                continue
            party.values["counterparty_id"] = cp_ids[party.values.pop("counterparty_code")]
            project_code = party.values.pop("project_code", None)
            party.values["project_id"] = project_ids[project_code] if project_code else None
        contract_ids = _write_parties(Contract, self.contracts, now, progress, done, total)
        rows = []
        for values in self.new_items:
            row = dict(values)
            row["counterparty_id"] = cp_ids[row.pop("counterparty_code")]
            project_code = row.pop("project_code")
            row["project_id"] = project_ids[project_code] if project_code else None
            contract_no = row.pop("contract_no")
            row["contract_id"] = contract_ids[contract_no] if contract_no else None
            row["created_at"] = now
            rows.append(row)
        _insert(Item.__table__, "document_no", rows, progress, done, total)
        for updates in self.updates.values():
            if "project_code" in updates:
                code = updates.pop("project_code")
                updates["project_id"] = project_ids[code] if code else None
            if "contract_no" in updates:
                number = updates.pop("contract_no")
                updates["contract_id"] = contract_ids[number] if number else None
        _update(Item, self.updates, progress, done, total)
        # Counterparties created by this import need no replay: they have no receipts and no
        # adjustments, so each of their items stays open for its whole amount, as inserted.


_KEYS = {Counterparty: "code", Project: "code", Contract: "number"}


def _write_parties(model, parties: dict[str, _Party], now, progress, done, total) -> dict:
    """Create the new ones in bulk, update the changed ones; return {code: id} for all."""
    ids = {key: party.id for key, party in parties.items() if party.id is not None}
    new_keys = [key for key, party in parties.items() if party.id is None]
    rows = [{**parties[key].values, "created_at": now} for key in new_keys]
    new_ids = _insert(model.__table__, _KEYS[model], rows, progress, done, total)
    ids.update(zip(new_keys, new_ids, strict=True))
    updates = {p.id: p.changes for p in parties.values() if p.id is not None and p.changes}
    _update(model, updates, progress, done, total)
    return ids


def _plan_items(rows: list[ItemRow], issues: list[Issue], label) -> ItemPlan:
    from recovery.imports.exporter import effective_annual_rate
    from recovery.ledger.statement import interest_terms

    plan = ItemPlan()
    day_count = interest_terms().day_count

    def fail(target: ItemRow, name: str, value, reason: str, **params):
        issues.append(Issue(target.row, label(name), _show(value), reason, params))
        target.bad = True

    # Numbers appear once in a file.
    first: dict[str, int] = {}
    for row in rows:
        if row.document_no:
            if row.document_no in first:
                fail(
                    row,
                    "document_no",
                    row.document_no,
                    "duplicate_number",
                    row=first[row.document_no],
                )
            else:
                first[row.document_no] = row.row

    # Reference data: departments and users are small tables.
    departments = dict(db.session.execute(sa.select(Department.name, Department.id)).all())
    department_names = {v: k for k, v in departments.items()}
    users = dict(db.session.execute(sa.select(User.username, User.id)).all())
    usernames = {v: k for k, v in users.items()}
    for row in rows:
        if row.department and row.department not in departments:
            fail(row, "department", row.department, "unknown_department")
        if row.responsible and row.responsible not in users:
            fail(row, "responsible", row.responsible, "unknown_user")

    # Counterparties: the rows must agree on name and kind; new ones need a name.
    cp_t = Counterparty.__table__
    stored_cps = {
        r.code: r
        for r in _fetch(
            lambda keys: sa.select(
                cp_t.c.id,
                cp_t.c.code,
                cp_t.c.name,
                cp_t.c.kind,
                cp_t.c.department_id,
                cp_t.c.responsible_id,
            ).where(bulk.one_of(cp_t.c.code, keys)),
            {r.counterparty_code for r in rows if r.counterparty_code},
        )
    }
    names = _agree(
        rows, "counterparty_code", "counterparty_name", "counterparty_name_conflict", fail
    )
    kinds = _agree(
        rows, "counterparty_code", "counterparty_kind", "counterparty_kind_conflict", fail
    )
    for row in rows:
        code = row.counterparty_code
        if code and code not in stored_cps and code not in names:
            fail(row, "counterparty_name", "", "new_counterparty_needs_name")
    for code in {r.counterparty_code for r in rows if r.counterparty_code}:
        stored = stored_cps.get(code)
        if stored is None:
            values = {
                "code": code,
                "name": names.get(code, ""),
                "kind": kinds.get(code) or "customer",
                "financial_status": "good",
                "business_status": "normal",
                "active": True,
            }
            plan.counterparties[code] = _Party(None, values)
        else:
            party = _Party(stored.id, {})
            if code in names and names[code] != stored.name:
                party.changes["name"], party.before["name"] = names[code], stored.name
            if kinds.get(code) and kinds[code] != stored.kind:
                party.changes["kind"], party.before["kind"] = kinds[code], stored.kind
            plan.counterparties[code] = party

    # Projects: created when new (named by the file or after their code), renamed when changed.
    pr_t = Project.__table__
    project_codes = {r.project_code for r in rows if r.project_code}
    stored_projects = {
        r.code: r
        for r in _fetch(
            lambda keys: sa.select(pr_t.c.id, pr_t.c.code, pr_t.c.name).where(
                bulk.one_of(pr_t.c.code, keys)
            ),
            project_codes,
        )
    }
    project_names = _agree(rows, "project_code", "project_name", "project_name_conflict", fail)
    for code in project_codes:
        stored = stored_projects.get(code)
        if stored is None:
            plan.projects[code] = _Party(
                None,
                {
                    "code": code,
                    "name": project_names.get(code) or code,
                    "prospects": "good",
                    "active": True,
                },
            )
        else:
            party = _Party(stored.id, {})
            if code in project_names and project_names[code] != stored.name:
                party.changes["name"], party.before["name"] = project_names[code], stored.name
            plan.projects[code] = party

    # Contracts: one counterparty each; the project is taken from the rows that name one.
    ct_t = Contract.__table__
    contract_numbers = {r.contract_no for r in rows if r.contract_no}
    stored_contracts = {
        r.number: r
        for r in _fetch(
            lambda keys: (
                sa.select(
                    ct_t.c.id,
                    ct_t.c.number,
                    cp_t.c.code,
                    pr_t.c.code.label("project"),
                    ct_t.c.overdue_rate,
                    ct_t.c.rate_basis,
                )
                .join(cp_t, cp_t.c.id == ct_t.c.counterparty_id)
                .outerjoin(pr_t, pr_t.c.id == ct_t.c.project_id)
                .where(bulk.one_of(ct_t.c.number, keys))
            ),
            contract_numbers,
        )
    }
    contract_cps = _agree(
        rows,
        "contract_no",
        "counterparty_code",
        "contract_counterparty_conflict",
        fail,
        "contract_no",
    )
    contract_projects = _agree(
        rows, "contract_no", "project_code", "contract_project_conflict", fail, "contract_no"
    )
    for row in rows:
        stored = stored_contracts.get(row.contract_no)
        if stored is not None and row.counterparty_code and stored.code != row.counterparty_code:
            fail(
                row,
                "contract_no",
                row.contract_no,
                "contract_of_other_counterparty",
                code=stored.code,
            )
    for number in contract_numbers:
        stored = stored_contracts.get(number)
        project_code = contract_projects.get(number)
        if stored is None:
            plan.contracts[number] = _Party(
                None,
                {
                    "number": number,
                    "counterparty_code": contract_cps.get(number),
                    "project_code": project_code,
                    "rate_basis": "annual",
                    "reviewed": True,
                },
            )
        else:
            party = _Party(stored.id, {})
            if project_code and project_code != stored.project:
                party.changes["project_code"], party.before["project_code"] = (
                    project_code,
                    stored.project,
                )
            plan.contracts[number] = party

    # Items already stored under these numbers.
    it_t, ct2, pr2 = Item.__table__, ct_t.alias("ct2"), pr_t.alias("pr2")
    stored_items = {
        r.document_no: r
        for r in _fetch(
            lambda keys: (
                sa.select(
                    it_t.c.id,
                    it_t.c.document_no,
                    it_t.c.counterparty_id,
                    cp_t.c.code.label("counterparty_code"),
                    pr2.c.code.label("project_code"),
                    ct2.c.number.label("contract_no"),
                    it_t.c.item_type,
                    it_t.c.amount,
                    it_t.c.recognized_on,
                    it_t.c.due_on,
                    it_t.c.department_id,
                    it_t.c.responsible_id,
                    it_t.c.overdue_rate,
                )
                .join(cp_t, cp_t.c.id == it_t.c.counterparty_id)
                .outerjoin(pr2, pr2.c.id == it_t.c.project_id)
                .outerjoin(ct2, ct2.c.id == it_t.c.contract_id)
                .where(bulk.one_of(it_t.c.document_no, keys))
            ),
            set(first),
        )
    }
    credits = _credited({s.id for s in stored_items.values()})

    for row in rows:
        stored = stored_items.get(row.document_no)
        if stored is None or row.bad:
            continue
        if row.counterparty_code and stored.counterparty_code != row.counterparty_code:
            fail(
                row,
                "counterparty_code",
                row.counterparty_code,
                "document_of_other_counterparty",
                code=stored.counterparty_code,
            )
        elif row.amount is not None and row.amount < credits.get(stored.id, Decimal(0)):
            fail(row, "amount", row.amount, "below_credits", amount=_show(credits[stored.id]))

    if issues:
        return plan

    for row in rows:
        cp = stored_cps.get(row.counterparty_code)
        stored = stored_items.get(row.document_no)
        # Blank department / responsible person: the counterparty's for a new item; an
        # existing item keeps its own (so a later change of the counterparty's defaults does
        # not make the same file change anything).
        if row.department:
            department_id = departments[row.department]
        elif stored is not None:
            department_id = stored.department_id
        else:
            department_id = cp.department_id if cp else None
        if row.responsible:
            responsible_id = users[row.responsible]
        elif stored is not None:
            responsible_id = stored.responsible_id
        else:
            responsible_id = cp.responsible_id if cp else None
        # Exports write an item's effective annual rate, its contract's where it has none of its
        # own: that rate, read back for an item without one, stays with the contract.
        overdue_rate = row.overdue_rate
        contract = stored_contracts.get(row.contract_no) if row.contract_no else None
        if (
            overdue_rate is not None
            and contract is not None
            and (stored is None or stored.overdue_rate is None)
            and effective_annual_rate(None, contract.overdue_rate, contract.rate_basis, day_count)
            == overdue_rate
        ):
            overdue_rate = None
        wanted = {
            "project_code": row.project_code or None,
            "contract_no": row.contract_no or None,
            "item_type": row.item_type,
            "amount": row.amount,
            "recognized_on": row.recognized_on,
            "due_on": row.due_on,
            "department_id": department_id,
            "responsible_id": responsible_id,
            "overdue_rate": overdue_rate,
        }
        if stored is None:
            plan.new_items.append(
                {
                    "document_no": row.document_no,
                    "counterparty_code": row.counterparty_code,
                    **wanted,
                    "category": category_of(row.item_type),
                    "open_amount": row.amount,
                    "description": None,
                    "last_movement_on": None,
                }
            )
            if cp is not None:
                plan.affected.add(cp.id)
            continue
        changed = {k: v for k, v in wanted.items() if not _same(getattr(stored, k), v)}
        if not changed:
            plan.unchanged += 1
            continue
        if "item_type" in changed:
            changed["category"] = category_of(row.item_type)
        plan.updates[stored.id] = changed
        if changed.keys() & {"amount", "recognized_on", "due_on"}:
            plan.affected.add(stored.counterparty_id)

        def display(key, value):
            if key == "department_id":
                return department_names.get(value, "")
            if key == "responsible_id":
                return usernames.get(value, "")
            return _show(value)

        plan.changes.append(
            {
                "table": "items",
                "key": row.document_no,
                "fields": [
                    [_FIELD_NAMES.get(k, k), display(k, getattr(stored, k)), display(k, v)]
                    for k, v in changed.items()
                    if k != "category"
                ],
            }
        )
    for table, parties in (
        ("counterparties", plan.counterparties),
        ("projects", plan.projects),
        ("contracts", plan.contracts),
    ):
        for key, party in sorted(parties.items()):
            if party.id is not None and party.changes:
                plan.changes.append(
                    {
                        "table": table,
                        "key": key,
                        "fields": [
                            [_FIELD_NAMES.get(k, k), _show(party.before.get(k)), _show(v)]
                            for k, v in party.changes.items()
                        ],
                    }
                )
    return plan


# Names of stored attributes as the file calls them (for the list of changes).
_FIELD_NAMES = {
    "department_id": "department",
    "responsible_id": "responsible",
    "item_id": "document_no",
    "project_code": "project_code",
}


def _agree(rows, key_attr, value_attr, conflict_code, fail, column=None) -> dict:
    """{key: value} from the rows that give a value; a row giving another value is an issue."""
    seen: dict = {}
    for row in rows:
        key, value = getattr(row, key_attr), getattr(row, value_attr)
        if not key or not value:
            continue
        if key not in seen:
            seen[key] = (value, row.row)
        elif seen[key][0] != value:
            fail(row, column or value_attr, value, conflict_code, row=seen[key][1])
    return {key: value for key, (value, _row) in seen.items()}


def _credited(item_ids: set[int]) -> dict[int, Decimal]:
    adj_t = Adjustment.__table__
    totals: dict[int, Decimal] = {}
    for item_id, fen in _fetch(
        lambda keys: (
            sa.select(adj_t.c.item_id, sa.func.sum(sa.type_coerce(adj_t.c.amount, sa.BigInteger)))
            .where(bulk.one_of(adj_t.c.item_id, keys), adj_t.c.status == "approved")
            .group_by(adj_t.c.item_id)
        ),
        item_ids,
    ):
        totals[item_id] = (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))
    return totals


# ---------------------------------------------------------------------------------------------
# Receipts


class ReceiptPlan:
    def __init__(self):
        self.new: list[dict] = []
        self.updates: dict[int, dict] = {}
        self.unchanged = 0
        self.changes: list[dict] = []
        self.affected: set[int] = set()

    def counts(self) -> dict:
        return {
            "receipts": {
                "new": len(self.new),
                "updated": len(self.updates),
                "unchanged": self.unchanged,
            }
        }

    def write(self, progress: Progress) -> None:
        now = utcnow()
        total = len(self.new) + len(self.updates)
        done = [0]
        progress("writing", 0, total)
        _insert(
            Receipt.__table__,
            "receipt_no",
            [{**r, "created_at": now} for r in self.new],
            progress,
            done,
            total,
        )
        _update(Receipt, self.updates, progress, done, total)


def _plan_receipts(rows: list[ReceiptRow], issues: list[Issue], label) -> ReceiptPlan:
    plan = ReceiptPlan()

    def fail(target: ReceiptRow, name: str, value, reason: str, **params):
        issues.append(Issue(target.row, label(name), _show(value), reason, params))
        target.bad = True

    first: dict[str, int] = {}
    for row in rows:
        if row.receipt_no:
            if row.receipt_no in first:
                fail(
                    row, "receipt_no", row.receipt_no, "duplicate_number", row=first[row.receipt_no]
                )
            else:
                first[row.receipt_no] = row.row

    cp_t, it_t, rc_t = Counterparty.__table__, Item.__table__, Receipt.__table__
    counterparties = dict(
        _fetch(
            lambda keys: sa.select(cp_t.c.code, cp_t.c.id).where(bulk.one_of(cp_t.c.code, keys)),
            {r.counterparty_code for r in rows if r.counterparty_code},
        )
    )
    items = {
        r.document_no: r
        for r in _fetch(
            lambda keys: (
                sa.select(it_t.c.id, it_t.c.document_no, cp_t.c.code)
                .join(cp_t, cp_t.c.id == it_t.c.counterparty_id)
                .where(bulk.one_of(it_t.c.document_no, keys))
            ),
            {r.document_no for r in rows if r.document_no},
        )
    }
    document_nos = {r.id: r.document_no for r in items.values()}
    stored_receipts = {
        r.receipt_no: r
        for r in _fetch(
            lambda keys: (
                sa.select(
                    rc_t.c.id,
                    rc_t.c.receipt_no,
                    rc_t.c.counterparty_id,
                    cp_t.c.code.label("counterparty_code"),
                    rc_t.c.amount,
                    rc_t.c.received_on,
                    rc_t.c.method,
                    rc_t.c.item_id,
                    rc_t.c.reference,
                )
                .join(cp_t, cp_t.c.id == rc_t.c.counterparty_id)
                .where(bulk.one_of(rc_t.c.receipt_no, keys))
            ),
            set(first),
        )
    }
    # Items named by stored receipts but not by the file (to show "before" in the changes).
    missing = {r.item_id for r in stored_receipts.values() if r.item_id} - set(document_nos)
    document_nos.update(
        dict(
            _fetch(
                lambda keys: sa.select(it_t.c.id, it_t.c.document_no).where(
                    bulk.one_of(it_t.c.id, keys)
                ),
                missing,
            )
        )
    )

    for row in rows:
        if row.counterparty_code and row.counterparty_code not in counterparties:
            fail(row, "counterparty_code", row.counterparty_code, "unknown_counterparty")
        if row.document_no:
            item = items.get(row.document_no)
            if item is None:
                fail(row, "document_no", row.document_no, "unknown_item")
            elif row.counterparty_code and item.code != row.counterparty_code:
                fail(
                    row,
                    "document_no",
                    row.document_no,
                    "item_of_other_counterparty",
                    code=item.code,
                )
        stored = stored_receipts.get(row.receipt_no)
        if (
            stored is not None
            and row.counterparty_code
            and stored.counterparty_code != row.counterparty_code
        ):
            fail(
                row,
                "counterparty_code",
                row.counterparty_code,
                "document_of_other_counterparty",
                code=stored.counterparty_code,
            )
    if issues:
        return plan

    for row in rows:
        counterparty_id = counterparties[row.counterparty_code]
        wanted = {
            "amount": row.amount,
            "received_on": row.received_on,
            "method": row.method,
            "item_id": items[row.document_no].id if row.document_no else None,
            "reference": row.reference or None,
        }
        stored = stored_receipts.get(row.receipt_no)
        if stored is None:
            plan.new.append(
                {"receipt_no": row.receipt_no, "counterparty_id": counterparty_id, **wanted}
            )
            plan.affected.add(counterparty_id)
            continue
        changed = {k: v for k, v in wanted.items() if not _same(getattr(stored, k), v)}
        if not changed:
            plan.unchanged += 1
            continue
        plan.updates[stored.id] = changed
        if changed.keys() & {"amount", "received_on", "item_id"}:
            plan.affected.add(counterparty_id)

        def display(key, value):
            if key == "item_id":
                return document_nos.get(value, "")
            return _show(value)

        plan.changes.append(
            {
                "table": "receipts",
                "key": row.receipt_no,
                "fields": [
                    [_FIELD_NAMES.get(k, k), display(k, getattr(stored, k)), display(k, v)]
                    for k, v in changed.items()
                ],
            }
        )
    return plan


# ---------------------------------------------------------------------------------------------
# Credit notes and write-offs


class AdjustmentPlan:
    """New rows become proposals (ledger.services.propose_adjustment: a finance user other than
    the importer approves them); a changed row updates a proposal still awaiting a decision.
    Nothing here touches allocation: only an approval does."""

    def __init__(self):
        self.new: list[AdjustmentRow] = []
        self.items: dict[str, int] = {}  # document number -> item id
        self.updates: dict[int, dict] = {}
        self.unchanged = 0
        self.changes: list[dict] = []
        self.affected: set[int] = set()

    def counts(self) -> dict:
        return {
            "adjustments": {
                "new": len(self.new),
                "updated": len(self.updates),
                "unchanged": self.unchanged,
            }
        }

    def write(self, progress: Progress) -> None:
        from recovery.audit.context import current_actor
        from recovery.ledger import services as ledger

        total = len(self.new) + len(self.updates)
        done = [0]
        progress("writing", 0, total)
        actor = current_actor()
        proposer = db.session.get(User, actor.user_id) if actor.user_id is not None else None
        items = {
            item.id: item
            for item in db.session.scalars(
                sa.select(Item).where(bulk.one_of(Item.id, set(self.items.values())))
            )
        }
        for row in self.new:
            # The ledger's own service: the same checks and the same audit as the web form.
            ledger.propose_adjustment(
                items[self.items[row.document_no]],
                kind=row.kind,
                amount=row.amount,
                dated_on=row.dated_on,
                reason=row.reason,
                number=row.number,
                actor=proposer,
            )
            done[0] += 1
            if done[0] % 500 == 0:
                progress("writing", done[0], total)
        _update(Adjustment, self.updates, progress, done, total)


def _plan_adjustments(rows: list[AdjustmentRow], issues: list[Issue], label) -> AdjustmentPlan:
    plan = AdjustmentPlan()

    def fail(target: AdjustmentRow, name: str, value, reason: str, **params):
        issues.append(Issue(target.row, label(name), _show(value), reason, params))
        target.bad = True

    first: dict[str, int] = {}
    for row in rows:
        if row.number:
            if row.number in first:
                fail(row, "number", row.number, "duplicate_number", row=first[row.number])
            else:
                first[row.number] = row.row

    it_t, adj_t, apps_t = Item.__table__, Adjustment.__table__, Application.__table__
    fen = sa.BigInteger
    items = {
        r.document_no: r
        for r in _fetch(
            lambda keys: sa.select(
                it_t.c.id, it_t.c.document_no, it_t.c.recognized_on, it_t.c.amount
            ).where(bulk.one_of(it_t.c.document_no, keys)),
            {r.document_no for r in rows if r.document_no},
        )
    }
    item_ids = {r.id for r in items.values()}
    # What is open on each item for a new credit: amount − approved credits − applications
    # (ledger.services._check_room, the rule the proposal and its approval are held to).
    credited = dict(
        _fetch(
            lambda keys: (
                sa.select(adj_t.c.item_id, sa.func.sum(sa.type_coerce(adj_t.c.amount, fen)))
                .where(bulk.one_of(adj_t.c.item_id, keys), adj_t.c.status == "approved")
                .group_by(adj_t.c.item_id)
            ),
            item_ids,
        )
    )
    applied = dict(
        _fetch(
            lambda keys: (
                sa.select(apps_t.c.item_id, sa.func.sum(sa.type_coerce(apps_t.c.amount, fen)))
                .where(bulk.one_of(apps_t.c.item_id, keys))
                .group_by(apps_t.c.item_id)
            ),
            item_ids,
        )
    )
    stored = {
        r.number: r
        for r in _fetch(
            lambda keys: (
                sa.select(
                    adj_t.c.id,
                    adj_t.c.number,
                    adj_t.c.item_id,
                    it_t.c.document_no,
                    adj_t.c.kind,
                    adj_t.c.amount,
                    adj_t.c.dated_on,
                    adj_t.c.reason,
                    adj_t.c.status,
                )
                .join(it_t, it_t.c.id == adj_t.c.item_id)
                .where(bulk.one_of(adj_t.c.number, keys))
            ),
            set(first),
        )
    }

    for row in rows:
        item = items.get(row.document_no) if row.document_no else None
        if row.document_no and item is None:
            fail(row, "document_no", row.document_no, "unknown_item")
        if item is not None and row.dated_on is not None and row.dated_on < item.recognized_on:
            fail(
                row,
                "dated_on",
                row.dated_on,
                "dated_before_recognition",
                date=item.recognized_on.isoformat(),
            )
        previous = stored.get(row.number)
        if previous is not None and item is not None and previous.item_id != item.id:
            fail(
                row,
                "document_no",
                row.document_no,
                "adjustment_of_other_item",
                document_no=previous.document_no,
            )
            continue
        if item is None or row.bad:
            continue
        wanted = {
            "kind": row.kind,
            "amount": row.amount,
            "dated_on": row.dated_on,
            "reason": row.reason,
        }
        if previous is not None:
            changed = {k: v for k, v in wanted.items() if not _same(getattr(previous, k), v)}
            if not changed:
                plan.unchanged += 1
                continue
            if previous.status != "proposed":
                fail(row, "number", row.number, "adjustment_decided")
                continue
            plan.updates[previous.id] = changed
            plan.changes.append(
                {
                    "table": "adjustments",
                    "key": row.number,
                    "fields": [
                        [k, _show(getattr(previous, k)), _show(v)] for k, v in changed.items()
                    ],
                }
            )
        else:
            plan.new.append(row)
            plan.items[row.document_no] = item.id
        open_fen = (
            to_fen(item.amount) - int(credited.get(item.id, 0)) - int(applied.get(item.id, 0))
        )
        if row.amount is not None and to_fen(row.amount) > open_fen:
            fail(
                row,
                "amount",
                row.amount,
                "adjustment_exceeds_open",
                amount=_show(from_fen(open_fen)),
            )
    return plan


# ---------------------------------------------------------------------------------------------
# As a background job (the web upload)


KIND_LABELS = {
    "items": _l("Receivable items"),
    "receipts": _l("Receipts"),
    "adjustments": _l("Credit notes and write-offs (imported for approval)"),
}


def _describe_job(params: dict):
    return KIND_LABELS.get(params.get("kind"), params.get("kind", ""))


def run_import_job(params: dict, progress: Progress) -> dict:
    """The job task: import the uploaded file, then delete it whatever happened.

    The runner commits when this returns; a failed or dry-run import is rolled back here so
    that the commit writes nothing but the job's own state."""
    path = params["path"]
    try:
        result = import_file(params["kind"], path, dry_run=params["dry_run"], progress=progress)
        if not result.written:
            db.session.rollback()
        return result.to_json()
    finally:
        discard_upload(path)


jobs.register(
    jobs.Task(
        kind="import",
        label=_l("Import"),
        work=run_import_job,
        result_template="imports/result.html",
        phases=PHASES,
        describe=_describe_job,
        present=Result.from_json,
    )
)
