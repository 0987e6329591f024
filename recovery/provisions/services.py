"""The provision matrix (坏账准备, CAS 22 / IFRS 9 simplified approach), specific provisions,
provision runs and the movement between periods. The rules are written in docs/provisions.md.

- The matrix: the outstanding of every item as of the date, by account age (账龄: the ledger's
  'age' buckets, recovery.ledger.rules.age_bucket), summed in SQL per counterparty and owning
  department (a *line*), times the rate of the setting ``provision.rates`` per bucket.
  Rounding: each line's provision per bucket is rounded to the fen, half up; every total is a
  sum of those rounded figures (so lines, departments and the total always add up).
- A specific provision (单项计提) approved for a counterparty and in force on the date replaces
  the matrix for all its lines: a rate of each line's outstanding (rounded per line), or a
  fixed amount (never more than the counterparty's outstanding on the date) shared over its
  lines in proportion to their outstanding (largest remainder, to the fen).
- The movement: the opening balance is the last *closed* run before the date; per line,
  movement = closing − opening; write-offs approved in the period used the provision; the
  charge to profit and loss is movement + write-offs (negative: a release).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from recovery.auth.models import Department
from recovery.core.money import ZERO, display_amount, from_fen, to_fen
from recovery.core.timeutil import utcnow
from recovery.extensions import db
from recovery.ledger import queries, rules
from recovery.ledger.models import Adjustment, Item
from recovery.parties.models import Counterparty
from recovery.provisions.models import (
    ProvisionRun,
    ProvisionRunLine,
    SpecificProvision,
)
from recovery.settings.services import get_setting

BUCKETS = rules.AGE_BUCKETS  # y0_1, y1_2, y2_3, y3_4, y4_5, y5_plus
HUNDRED = Decimal(100)
PROPOSERS = ("finance",)
APPROVERS = ("finance", "executive")


class ProvisionError(ValueError):
    """A refused change to a specific provision or a run; ``field`` names the input at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class StaleProvision(ProvisionError):
    """Somebody saved the record after this user loaded it (optimistic locking)."""


# ---------------------------------------------------------------------------------------------
# Arithmetic (integer fen, exact)


def provision_fen(outstanding_fen: int, rate: Decimal) -> int:
    """``rate`` percent of an amount in fen, rounded to the fen, half up."""
    exact = Decimal(outstanding_fen) * Decimal(rate) / HUNDRED
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def share_fen(total_fen: int, weights: list[int]) -> list[int]:
    """``total_fen`` shared in proportion to ``weights`` (largest remainder; ties go to the
    earlier weight), so the shares add up to the total exactly."""
    whole = sum(weights)
    if whole <= 0:
        return [0 for _ in weights]
    shares = [total_fen * weight // whole for weight in weights]
    remainders = [total_fen * weight % whole for weight in weights]
    left = total_fen - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for index in order[:left]:
        shares[index] += 1
    return shares


def matrix_rates() -> dict[str, Decimal]:
    """The expected-loss rate (percent) of each account-age bucket, from the settings."""
    return dict(zip(BUCKETS, get_setting("provision.rates"), strict=True))


def rates_text(rates: dict[str, Decimal]) -> str:
    return ",".join(format(rates[b].normalize(), "f") for b in BUCKETS)


def rates_from_text(text: str) -> dict[str, Decimal]:
    return dict(zip(BUCKETS, (Decimal(part) for part in text.split(",")), strict=True))


# ---------------------------------------------------------------------------------------------
# The matrix


@dataclass(frozen=True)
class SpecificTerms:
    """What a specific provision says (enough to show and to apply it)."""

    id: int
    method: str  # rate | amount
    rate: Decimal | None
    amount: Decimal | None
    effective_from: date
    reason: str


@dataclass
class Line:
    """One counterparty within one owning department."""

    counterparty_id: int
    counterparty_code: str
    counterparty_name: str
    department_id: int | None
    department_name: str
    buckets: dict[str, Decimal]
    bucket_provisions: dict[str, Decimal]
    specific: SpecificTerms | None = None
    specific_provision: Decimal | None = None

    @property
    def key(self) -> tuple[int, int | None]:
        return (self.counterparty_id, self.department_id)

    @property
    def outstanding(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    @property
    def matrix_provision(self) -> Decimal:
        return sum(self.bucket_provisions.values(), ZERO)

    @property
    def total_provision(self) -> Decimal:
        if self.specific_provision is not None:
            return self.specific_provision
        return self.matrix_provision


@dataclass
class BucketSummary:
    bucket: str
    balance: Decimal
    rate: Decimal
    provision: Decimal


@dataclass
class DepartmentSummary:
    department_id: int | None
    name: str
    outstanding: Decimal = ZERO
    matrix_provision: Decimal = ZERO  # of the lines under the matrix
    specific_provision: Decimal = ZERO  # of the lines individually assessed
    buckets: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BUCKETS, ZERO))

    @property
    def total_provision(self) -> Decimal:
        return self.matrix_provision + self.specific_provision


@dataclass
class Matrix:
    as_of: date
    department_id: int | None
    rates: dict[str, Decimal]
    lines: list[Line]

    @property
    def outstanding(self) -> Decimal:
        return sum((line.outstanding for line in self.lines), ZERO)

    @property
    def total_provision(self) -> Decimal:
        return sum((line.total_provision for line in self.lines), ZERO)

    @property
    def collective_lines(self) -> list[Line]:
        return [line for line in self.lines if line.specific is None]

    @property
    def specific_lines(self) -> list[Line]:
        return [line for line in self.lines if line.specific is not None]

    @property
    def matrix_provision(self) -> Decimal:
        """The provision of the lines under the matrix (按账龄组合计提)."""
        return sum((line.matrix_provision for line in self.collective_lines), ZERO)

    @property
    def specific_provision(self) -> Decimal:
        """The provision of the lines individually assessed (单项计提)."""
        return sum((line.specific_provision for line in self.specific_lines), ZERO)

    @property
    def specific_outstanding(self) -> Decimal:
        return sum((line.outstanding for line in self.specific_lines), ZERO)

    def bucket_totals(self) -> dict[str, Decimal]:
        """Outstanding per account-age bucket, all lines."""
        return {b: sum((line.buckets[b] for line in self.lines), ZERO) for b in BUCKETS}

    def collective_buckets(self) -> list[BucketSummary]:
        """The disclosure table of the collective part: balance, rate and provision per bucket
        of the lines under the matrix."""
        lines = self.collective_lines
        return [
            BucketSummary(
                bucket,
                sum((line.buckets[bucket] for line in lines), ZERO),
                self.rates[bucket],
                sum((line.bucket_provisions[bucket] for line in lines), ZERO),
            )
            for bucket in BUCKETS
        ]

    def by_department(self) -> list[DepartmentSummary]:
        rows: dict[int | None, DepartmentSummary] = {}
        for line in self.lines:
            row = rows.get(line.department_id)
            if row is None:
                row = rows[line.department_id] = DepartmentSummary(
                    line.department_id, line.department_name
                )
            row.outstanding += line.outstanding
            for bucket in BUCKETS:
                row.buckets[bucket] += line.buckets[bucket]
            if line.specific is None:
                row.matrix_provision += line.matrix_provision
            else:
                row.specific_provision += line.specific_provision
        return sorted(rows.values(), key=lambda r: (r.department_id is None, r.name))


def age_sums(balances, as_of: date) -> list:
    """SUM of the outstanding fen per account-age bucket, labelled by bucket (SQL)."""
    amount = balances.c.outstanding_fen
    return [
        sa.func.sum(
            sa.case((queries.bucket_condition(b, balances.c, as_of), amount), else_=0)
        ).label(b)
        for b in BUCKETS
    ]


def _line_query(as_of: date, item_filter: queries.LedgerFilter | None):
    """Outstanding per (counterparty, department) and account-age bucket, in fen (SQL)."""
    balances = queries.outstanding_items(as_of, item_filter)
    inner = (
        sa.select(
            balances.c.counterparty_id.label("cp"),
            balances.c.department_id.label("dept"),
            *age_sums(balances, as_of),
        )
        .where(balances.c.outstanding_fen != 0)
        .group_by(balances.c.counterparty_id, balances.c.department_id)
        .subquery("lines")
    )
    cp_t = Counterparty.__table__
    dept_t = Department.__table__
    return (
        sa.select(
            inner,
            cp_t.c.code.label("code"),
            cp_t.c.name.label("name"),
            dept_t.c.name.label("department_name"),
        )
        .join(cp_t, cp_t.c.id == inner.c.cp)
        .outerjoin(dept_t, dept_t.c.id == inner.c.dept)
    )


def specifics_in_force(as_of: date) -> dict[int, SpecificTerms]:
    """{counterparty id: the specific provision in force on ``as_of``}: the approved one with
    the latest effective date on or before it (a later approval wins a tie). One saying
    "matrix" ends the individual assessment."""
    rows = db.session.scalars(
        sa.select(SpecificProvision)
        .where(SpecificProvision.status == "approved", SpecificProvision.effective_from <= as_of)
        .order_by(
            SpecificProvision.counterparty_id,
            SpecificProvision.effective_from,
            SpecificProvision.decided_at,
            SpecificProvision.id,
        )
    )
    latest: dict[int, SpecificProvision] = {}
    for row in rows:
        latest[row.counterparty_id] = row
    return {
        cp: SpecificTerms(row.id, row.method, row.rate, row.amount, row.effective_from, row.reason)
        for cp, row in latest.items()
        if row.method != "matrix"
    }


def matrix(as_of: date, department_id: int | None = None) -> Matrix:
    """The provision matrix as of a date, for the company or one owning department."""
    item_filter = queries.LedgerFilter(department_id=department_id) if department_id else None
    rows = db.session.execute(_line_query(as_of, item_filter)).mappings()
    return matrix_from_rows(as_of, rows, department_id)


def matrix_from_rows(as_of: date, rows, department_id: int | None = None) -> Matrix:
    """The matrix from rows of line sums: mappings with ``cp``, ``dept``, ``code``, ``name``,
    ``department_name`` and the fen of each age bucket (a report that scans the ledger for
    other figures too adds ``age_sums`` to its own statement and calls this)."""
    rates = matrix_rates()
    lines = []
    for row in rows:
        fen_buckets = {b: int(row[b] or 0) for b in BUCKETS}
        lines.append(
            Line(
                counterparty_id=row["cp"],
                counterparty_code=row["code"],
                counterparty_name=row["name"],
                department_id=row["dept"],
                department_name=row["department_name"] or "",
                buckets={b: from_fen(v) for b, v in fen_buckets.items()},
                bucket_provisions={
                    b: from_fen(provision_fen(v, rates[b])) for b, v in fen_buckets.items()
                },
            )
        )
    _apply_specifics(lines, specifics_in_force(as_of), as_of, department_id)
    lines.sort(key=lambda line: (line.counterparty_code, line.department_name))
    return Matrix(as_of, department_id, rates, lines)


def _apply_specifics(lines, specifics, as_of, department_id) -> None:
    by_counterparty: dict[int, list[Line]] = defaultdict(list)
    for line in lines:
        if line.counterparty_id in specifics:
            by_counterparty[line.counterparty_id].append(line)
    for cp, cp_lines in by_counterparty.items():
        terms = specifics[cp]
        for line in cp_lines:
            line.specific = terms
        if terms.method == "rate":
            for line in cp_lines:
                fen = provision_fen(to_fen(line.outstanding), terms.rate)
                line.specific_provision = from_fen(fen)
            continue
        # A fixed amount is shared over all the counterparty's lines, whatever the filter.
        if department_id is None:
            weights = {line.department_id: to_fen(line.outstanding) for line in cp_lines}
        else:
            weights = dict(_counterparty_lines(cp, as_of))
        order = sorted(weights, key=lambda dept: (dept is None, dept or 0))
        fen_weights = [weights[dept] for dept in order]
        capped = min(to_fen(terms.amount), sum(fen_weights))
        shares = dict(zip(order, share_fen(capped, fen_weights), strict=True))
        for line in cp_lines:
            line.specific_provision = from_fen(shares.get(line.department_id, 0))


def _counterparty_lines(counterparty_id: int, as_of: date) -> list[tuple[int | None, int]]:
    """[(department id, outstanding fen)] of one counterparty's lines, every department."""
    balances = queries.outstanding_items(
        as_of, queries.LedgerFilter(counterparty_id=counterparty_id)
    )
    amount = balances.c.outstanding_fen
    rows = db.session.execute(
        sa.select(balances.c.department_id, sa.func.sum(amount))
        .where(amount != 0)
        .group_by(balances.c.department_id)
    )
    return [(dept, int(total or 0)) for dept, total in rows]


def counterparty_outstanding(counterparty_id: int, as_of: date) -> Decimal:
    balances = queries.outstanding_items(
        as_of, queries.LedgerFilter(counterparty_id=counterparty_id)
    )
    total = db.session.scalar(sa.select(sa.func.sum(balances.c.outstanding_fen)))
    return from_fen(int(total or 0))


# ---------------------------------------------------------------------------------------------
# Runs, and the movement since the last closed period


def last_closed_run(before: date) -> ProvisionRun | None:
    """The closed run with the latest date before ``before`` (the opening balance)."""
    return db.session.scalar(
        sa.select(ProvisionRun)
        .where(ProvisionRun.status == "closed", ProvisionRun.as_of < before)
        .order_by(ProvisionRun.as_of.desc())
        .limit(1)
    )


def latest_closed_run() -> ProvisionRun | None:
    return db.session.scalar(
        sa.select(ProvisionRun)
        .where(ProvisionRun.status == "closed")
        .order_by(ProvisionRun.as_of.desc())
        .limit(1)
    )


def matrix_of_run(run: ProvisionRun, department_id: int | None = None) -> Matrix:
    """A run's stored lines as a Matrix (the figures as they were when it was made)."""
    rates = rates_from_text(run.rates)
    lines_t = ProvisionRunLine.__table__
    cp_t = Counterparty.__table__
    dept_t = Department.__table__
    sp_t = SpecificProvision.__table__
    query = (
        sa.select(
            lines_t,
            cp_t.c.code.label("code"),
            cp_t.c.name.label("name"),
            dept_t.c.name.label("department_name"),
            sp_t.c.method.label("sp_method"),
            sp_t.c.rate.label("sp_rate"),
            queries.fen(sp_t.c.amount).label("sp_amount"),
            sp_t.c.effective_from.label("sp_from"),
            sp_t.c.reason.label("sp_reason"),
        )
        .join(cp_t, cp_t.c.id == lines_t.c.counterparty_id)
        .outerjoin(dept_t, dept_t.c.id == lines_t.c.department_id)
        .outerjoin(sp_t, sp_t.c.id == lines_t.c.specific_id)
        .where(lines_t.c.run_id == run.id)
    )
    if department_id:
        query = query.where(lines_t.c.department_id == department_id)
    lines = []
    for row in db.session.execute(query).mappings():
        terms = None
        if row["specific_id"] is not None:
            terms = SpecificTerms(
                row["specific_id"],
                row["sp_method"],
                row["sp_rate"],
                from_fen(row["sp_amount"]),
                row["sp_from"],
                row["sp_reason"],
            )
        buckets = {b: row[b] for b in BUCKETS}
        lines.append(
            Line(
                counterparty_id=row["counterparty_id"],
                counterparty_code=row["code"],
                counterparty_name=row["name"],
                department_id=row["department_id"],
                department_name=row["department_name"] or "",
                buckets=buckets,
                bucket_provisions={
                    b: from_fen(provision_fen(to_fen(buckets[b]), rates[b])) for b in BUCKETS
                },
                specific=terms,
                specific_provision=row["specific_provision"],
            )
        )
    lines.sort(key=lambda line: (line.counterparty_code, line.department_name))
    return Matrix(run.as_of, department_id, rates, lines)


def _written_off(after: date, until: date, department_id: int | None) -> dict[tuple, Decimal]:
    """Write-offs approved and dated in (after, until], per (counterparty, department) of the
    item: they used the provision during the period (SQL)."""
    adj = Adjustment.__table__
    items = Item.__table__
    query = (
        sa.select(
            items.c.counterparty_id,
            items.c.department_id,
            sa.func.sum(queries.fen(adj.c.amount)),
        )
        .join(items, items.c.id == adj.c.item_id)
        .where(
            adj.c.kind == "write_off",
            adj.c.status == "approved",
            adj.c.dated_on > after,
            adj.c.dated_on <= until,
        )
        .group_by(items.c.counterparty_id, items.c.department_id)
    )
    if department_id:
        query = query.where(items.c.department_id == department_id)
    return {(cp, dept): from_fen(int(total)) for cp, dept, total in db.session.execute(query)}


@dataclass
class MovementLine:
    counterparty_id: int
    counterparty_code: str
    counterparty_name: str
    department_id: int | None
    department_name: str
    line: Line | None  # None: nothing outstanding any more (the provision is released)
    previous: Decimal = ZERO
    written_off: Decimal = ZERO

    @property
    def closing(self) -> Decimal:
        return self.line.total_provision if self.line is not None else ZERO

    @property
    def movement(self) -> Decimal:
        return self.closing - self.previous

    @property
    def charge(self) -> Decimal:
        """To profit and loss: positive a charge (计提), negative a release (转回)."""
        return self.movement + self.written_off


@dataclass
class Movement:
    matrix: Matrix
    opening_run: ProvisionRun | None
    lines: list[MovementLine]

    @property
    def opening(self) -> Decimal:
        return sum((line.previous for line in self.lines), ZERO)

    @property
    def closing(self) -> Decimal:
        return self.matrix.total_provision

    @property
    def written_off(self) -> Decimal:
        return sum((line.written_off for line in self.lines), ZERO)

    @property
    def movement(self) -> Decimal:
        return self.closing - self.opening

    @property
    def charge(self) -> Decimal:
        return self.movement + self.written_off


def movement(current: Matrix, opening_run: ProvisionRun | None) -> Movement:
    """Closing (``current``) against the opening run, line by line (a full outer join on
    counterparty and department), with the write-offs of the period."""
    previous = (
        {line.key: line for line in matrix_of_run(opening_run, current.department_id).lines}
        if opening_run is not None
        else {}
    )
    written = (
        _written_off(opening_run.as_of, current.as_of, current.department_id)
        if opening_run is not None
        else {}
    )
    rows: dict[tuple, MovementLine] = {}
    for line in current.lines:
        rows[line.key] = MovementLine(
            line.counterparty_id,
            line.counterparty_code,
            line.counterparty_name,
            line.department_id,
            line.department_name,
            line,
        )
    for key, old in previous.items():
        row = rows.get(key)
        if row is None:
            row = rows[key] = MovementLine(
                old.counterparty_id,
                old.counterparty_code,
                old.counterparty_name,
                old.department_id,
                old.department_name,
                None,
            )
        row.previous = old.total_provision
    if written:
        missing = [key for key in written if key not in rows]
        names = _names(missing)
        for key, amount in written.items():
            row = rows.get(key)
            if row is None:
                code, name, department = names[key]
                row = rows[key] = MovementLine(key[0], code, name, key[1], department, None)
            row.written_off = amount
    ordered = sorted(rows.values(), key=lambda r: (r.counterparty_code, r.department_name))
    return Movement(current, opening_run, ordered)


def _names(keys) -> dict[tuple, tuple[str, str, str]]:
    if not keys:
        return {}
    cps = {cp for cp, _dept in keys}
    depts = {dept for _cp, dept in keys if dept is not None}
    cp_names = {
        row.id: (row.code, row.name)
        for row in db.session.execute(
            sa.select(Counterparty.id, Counterparty.code, Counterparty.name).where(
                Counterparty.id.in_(cps)
            )
        )
    }
    dept_names = dict(
        db.session.execute(
            sa.select(Department.id, Department.name).where(Department.id.in_(depts))
        ).all()
    )
    return {
        (cp, dept): (*cp_names[cp], dept_names.get(dept, "") if dept is not None else "")
        for cp, dept in keys
    }


def live_movement(as_of: date, department_id: int | None = None) -> Movement:
    """The matrix as of a date against the last period closed before it."""
    return movement(matrix(as_of, department_id), last_closed_run(as_of))


def run_movement(run: ProvisionRun, department_id: int | None = None) -> Movement:
    """A stored run against the last period closed before its date."""
    return movement(matrix_of_run(run, department_id), last_closed_run(run.as_of))


def _require(actor, roles, message) -> None:
    if actor is None or not actor.has_role(*roles):
        raise ProvisionError(message)


def _check_after_closed(day: date, field_name: str | None, what) -> None:
    closed = latest_closed_run()
    if closed is not None and day <= closed.as_of:
        raise ProvisionError(
            _l(
                "The period up to %(date)s is closed: %(what)s must be after it.",
                date=closed.as_of.isoformat(),
                what=what,
            ),
            field=field_name,
        )


def create_run(as_of: date, *, actor, today: date, note: str | None = None) -> ProvisionRun:
    """Compute the matrix as of ``as_of`` and keep it as a draft run with its lines. An
    earlier draft of the same date is superseded (kept, not deleted)."""
    _require(actor, PROPOSERS, _l("Only finance makes provision runs."))
    if as_of > today:
        raise ProvisionError(_l("A run cannot be dated in the future."), field="as_of")
    _check_after_closed(as_of, "as_of", _l("a new run"))
    current = matrix(as_of)
    for draft in db.session.scalars(
        sa.select(ProvisionRun).where(ProvisionRun.status == "draft", ProvisionRun.as_of == as_of)
    ):
        draft.status = "superseded"
        draft.updated_by_id = actor.id
    run = ProvisionRun(
        as_of=as_of,
        status="draft",
        rates=rates_text(current.rates),
        outstanding=current.outstanding,
        matrix_provision=current.matrix_provision,
        specific_provision=current.specific_provision,
        total_provision=current.total_provision,
        line_count=len(current.lines),
        note=(note or "").strip() or None,
        created_by_id=actor.id,
        updated_by_id=actor.id,
    )
    db.session.add(run)
    db.session.flush()
    rows = [
        {
            "run_id": run.id,
            "counterparty_id": line.counterparty_id,
            "department_id": line.department_id,
            "outstanding": line.outstanding,
            **line.buckets,
            "matrix_provision": line.matrix_provision,
            "specific_id": line.specific.id if line.specific else None,
            "specific_provision": line.specific_provision,
            "total_provision": line.total_provision,
        }
        for line in current.lines
    ]
    if rows:
        db.session.execute(sa.insert(ProvisionRunLine), rows)
    return run


def stale_error(obj) -> StaleProvision:
    who = obj.updated_by.display_name if obj.updated_by is not None else _l("the system")
    when = format_datetime(obj.updated_at, "short") if obj.updated_at else "—"
    return StaleProvision(
        _l(
            "Changed by %(who)s at %(when)s after you opened it: nothing was done. "
            "Look at the current state and try again.",
            who=who,
            when=when,
        )
    )


def check_version(obj, expected) -> None:
    try:
        expected = int(expected)
    except (TypeError, ValueError):
        expected = None
    if expected != obj.version:
        raise stale_error(obj)


def _flush_checked() -> None:
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleProvision(
            _l("Somebody else saved this record at the same moment; open it again.")
        ) from error


def close_run(run: ProvisionRun, *, actor, version) -> ProvisionRun:
    """Close the period at the run's date: the run is frozen and opens the next period."""
    _require(actor, PROPOSERS, _l("Only finance closes a provision period."))
    check_version(run, version)
    if run.status != "draft":
        raise ProvisionError(_l("Only a draft run can be closed."))
    _check_after_closed(run.as_of, None, _l("the run to close"))
    run.status = "closed"
    run.closed_by_id = actor.id
    run.closed_at = utcnow()
    run.updated_by_id = actor.id
    _flush_checked()
    return run


# ---------------------------------------------------------------------------------------------
# Specific provisions


def propose_specific(
    counterparty: Counterparty,
    *,
    method: str,
    rate: Decimal | None,
    amount: Decimal | None,
    reason: str,
    effective_from: date,
    actor,
    today: date,
) -> SpecificProvision:
    """Finance proposes an individual assessment of a counterparty; another user approves."""
    _require(actor, PROPOSERS, _l("Only finance proposes specific provisions."))
    reason = (reason or "").strip()
    if not reason:
        raise ProvisionError(_l("Give the reason for the assessment."), field="reason")
    _check_terms(counterparty.id, method, rate, amount, effective_from, today)
    specific = SpecificProvision(
        counterparty_id=counterparty.id,
        method=method,
        rate=rate if method == "rate" else None,
        amount=amount if method == "amount" else None,
        reason=reason,
        effective_from=effective_from,
        status="proposed",
        proposed_by_id=actor.id,
        updated_by_id=actor.id,
    )
    db.session.add(specific)
    db.session.flush()
    return specific


def _check_terms(counterparty_id, method, rate, amount, effective_from, today) -> None:
    if method not in ("rate", "amount", "matrix"):
        raise ProvisionError(_l("Choose how the provision is assessed."), field="method")
    if method == "rate":
        if rate is None:
            raise ProvisionError(_l("Enter the rate."), field="rate")
        if rate < 0 or rate > HUNDRED:
            raise ProvisionError(_l("The rate must be between 0 and 100 %."), field="rate")
    if method == "amount":
        if amount is None or amount <= 0:
            raise ProvisionError(_l("Enter the amount."), field="amount")
        # Checked against the outstanding on the effective date (today for a later date);
        # the matrix also caps it at the outstanding of each date it is applied to.
        on = min(effective_from, today)
        outstanding = counterparty_outstanding(counterparty_id, on)
        if amount > outstanding:
            raise ProvisionError(
                _l(
                    "The provision cannot exceed the outstanding of %(amount)s on %(date)s.",
                    amount=display_amount(outstanding),
                    date=on.isoformat(),
                ),
                field="amount",
            )
    _check_after_closed(effective_from, "effective_from", _l("the effective date"))


def decide_specific(
    specific: SpecificProvision, *, approve: bool, actor, note: str, version, today: date
) -> SpecificProvision:
    """Approve or reject a proposal: a finance user other than the proposer, or an
    executive. A rejection gives its reason."""
    _require(actor, APPROVERS, _l("Only finance or an executive decides on specific provisions."))
    check_version(specific, version)
    if specific.status != "proposed":
        raise ProvisionError(_l("This proposal was already decided."))
    if specific.proposed_by_id == actor.id:
        raise ProvisionError(_l("Nobody approves their own proposal."))
    note = (note or "").strip()
    if not approve and not note:
        raise ProvisionError(_l("Say why the proposal is rejected."), field="note")
    if approve:
        _check_terms(
            specific.counterparty_id,
            specific.method,
            specific.rate,
            specific.amount,
            specific.effective_from,
            today,
        )
    specific.status = "approved" if approve else "rejected"
    specific.decided_by_id = actor.id
    specific.decided_at = utcnow()
    specific.decision_note = note or None
    specific.updated_by_id = actor.id
    _flush_checked()
    return specific


def withdraw_specific(specific: SpecificProvision, *, actor, version) -> SpecificProvision:
    """The proposer takes back a proposal nobody has decided on yet."""
    check_version(specific, version)
    if specific.status != "proposed":
        raise ProvisionError(_l("This proposal was already decided."))
    if actor is None or specific.proposed_by_id != actor.id:
        raise ProvisionError(_l("Only the proposer can withdraw a proposal."))
    specific.status = "withdrawn"
    specific.updated_by_id = actor.id
    _flush_checked()
    return specific
