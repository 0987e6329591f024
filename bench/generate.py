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
4. The recovery work (on by default; ``--no-work`` leaves it out) is generated from a seeded
   generator of its own, after the ledger and without changing it: activities, promises to
   pay, recovery cases, limitation events, legal referrals and lawsuits, following the
   application's own rules (WorkGenerator; the rules are in bench/README.md).
5. Rows are bulk-loaded with the raw driver: sqlite3 executemany (journal off, secondary
   indexes dropped and rebuilt) or psycopg COPY (indexes and foreign keys dropped and
   re-created around the load, all in one transaction), then ANALYZE (VACUUM ANALYZE on
   PostgreSQL, so that index-only scans see an up-to-date visibility map). The triggers that
   keep the open-item sums are off during the load; the sums are summed once after it.

Benchmark data carry no audit trail: the rows are written below the application on purpose.
The ledger and recovery work tables must be empty (``--reset`` empties them first).
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
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import sqlalchemy as sa

LEDGER_TABLES = (
    "applications",
    "receipts",
    "adjustments",
    "items",
    "open_item_sums",
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


# ---------------------------------------------------------------------------------------------
# Recovery work (on by default; --no-work skips it): activities, promises, recovery cases,
# limitation events, referrals and lawsuits, from a generator of their own so that the ledger
# is the same with or without them.

WORK_SEED = 7_919  # mixed into --seed for the work's own generator
# Written here, in the order they are loaded (a table after those it refers to).
WORK_TABLES = ("contacts", "recovery_cases", "activities", "promises", "limitation_events",
               "referrals", "referral_decisions", "referral_items", "lawsuits",
               "lawsuit_hearings", "lawsuit_costs")  # fmt: skip
# Emptied by --reset before the ledger tables: what is written here and what refers to it.
RESET_FIRST = ("lawsuit_recoveries", "lawsuit_costs", "lawsuit_hearings", "lawsuits",
               "referral_documents", "referral_decisions", "referral_items", "referrals",
               "limitation_warnings", "limitation_events", "disputes", "promises",
               "evidence_files", "approval_decisions", "collateral", "extension_requests",
               "strategies", "activities", "recovery_cases")  # fmt: skip
ACTIVITY_WEIGHTS = (("call", 45), ("visit", 10), ("meeting", 4), ("letter", 8), ("email", 12),
                    ("message", 8), ("demand", 8), ("confirmation", 5))  # fmt: skip
# Share of each kind that arrived with a proof (a signed receipt, a read receipt, a
# confirmation returned signed); the rest does not interrupt limitation.
PROOF_SHARE = {"demand": 0.8, "letter": 0.5, "email": 0.4, "message": 0.2, "confirmation": 0.5}
EVENT_WEIGHTS = (("demand", 35), ("acknowledgement", 30), ("suspension", 15),
                 ("equivalent", 10), ("suit", 10))  # fmt: skip
REFERRAL_WEIGHTS = (("draft", 10), ("submitted", 10), ("returned", 10), ("accepted", 60),
                    ("declined", 10))  # fmt: skip
SUIT_STAGES = (("filed", 20), ("preservation", 10), ("hearing", 20), ("judgment", 20),
               ("enforcement", 15), ("closed", 15))  # fmt: skip
STAGE_ORDER = ("filed", "preservation", "hearing", "judgment", "enforcement", "closed")
CAUSE_WEIGHTS = (("cash_shortage", 45), ("quality_dispute", 12), ("settlement_not_agreed", 18),
                 ("wilful_default", 10), ("other", 15))  # fmt: skip
WORK_YEARS_DAYS = 3 * 365  # activities fall in the last three years before --as-of
CLAIM_RATE = Decimal("0.0600")  # the claim's overdue interest: simple, 6 % a year, actual/365


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


class WorkGenerator:
    """Recovery work for a generated ledger (bench/README.md, "Recovery work"): reads the
    ledger's rows, never changes them, and draws from its own seeded generator."""

    def __init__(self, args, ledger: Generator, items, receipts, adjustments, applications,
                 people: dict, zone: str):  # fmt: skip
        from zoneinfo import ZoneInfo

        self.args = args
        self.rng = random.Random(args.seed * 1_000_003 + WORK_SEED)
        self.as_of = args.as_of
        self.ledger = ledger
        self.items = items
        self.receipts = receipts
        self.adjustments = adjustments
        self.applications = applications
        self.people = people  # finance, legal, supervisor user ids
        self.zone = ZoneInfo(zone)
        self.min_overdue_fen, self.min_days = people["thresholds"]
        self.tables = {name: [] for name in WORK_TABLES}

    # -- time: typed in the company's zone, stored as naive UTC, as the application does
    def utc(self, day: date, hour: int, minute: int) -> datetime:
        local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
        return local.astimezone(UTC).replace(tzinfo=None)

    def local_day(self, moment: datetime) -> date:
        return moment.replace(tzinfo=UTC).astimezone(self.zone).date()

    @staticmethod
    def weekday(day: date) -> date:
        """The day, or the Friday before when it falls on a weekend."""
        return day - timedelta(days=max(0, day.weekday() - 4))

    def working_moment(self, day: date) -> datetime:
        """A moment of an office day (Monday to Friday, 09:00-17:59 local)."""
        return self.utc(self.weekday(day), self.rng.randint(9, 17), self.rng.randrange(60))

    # -- the ledger as of --as-of, per counterparty
    def positions(self):
        """Per counterparty index: open overdue items (due, open fen, item id) as of the date,
        and the first day the case proposal rule holds (None: not proposed)."""
        as_of = self.as_of
        self.overdue = []
        self.proposed_from = []
        self.open_items = []
        for lo, hi in self.ledger.items_of:
            overdue = []
            for row in self.items[lo - 1 : hi - 1]:
                if row[12] > 0:
                    self.open_items.append(row[0])
                    if row[9] < as_of:
                        overdue.append((row[9], row[12], row[0]))
            overdue.sort()
            self.overdue.append(overdue)
            # Outstanding never grows after an item is recognised: an item open now was open
            # on every earlier day, so the rule held from the day these items crossed it.
            first = None
            if overdue:
                first = overdue[0][0] + timedelta(days=self.min_days)
                total = 0
                for due, open_fen, _id in overdue:
                    total += open_fen
                    if total >= self.min_overdue_fen:
                        first = min(first, due + timedelta(days=1))
                        break
            self.proposed_from.append(first if first is not None and first <= as_of else None)

    def generate(self) -> dict[str, list]:
        self.positions()
        rng = self.rng
        parties = self.ledger.party_rows
        n = len(parties)
        proposed = sum(1 for day in self.proposed_from if day is not None)
        # About 40 % of the counterparties are worked, the proposed (overdue) ones three times
        # as likely as the others; a tenth of all give promises (among those worked).
        share = proposed / n if n else 0
        p_other = 0.4 / (3 * share + (1 - share)) if n else 0
        p_proposed = min(0.95, 3 * p_other)
        worked = []
        for index in range(n):
            p = p_proposed if self.proposed_from[index] is not None else p_other
            if rng.random() < p:
                worked.append(index)
        p_promise = min(1.0, 0.10 * n / len(worked)) if worked else 0
        self.receipts_of = self._receipts_of(worked)
        for index in worked:
            self.work_on(index, rng.random() < p_promise)
        self.limitation_events()
        self.referrals()
        return self.tables

    def _receipts_of(self, worked) -> dict[int, list]:
        wanted = {self.ledger.party_rows[index][0] for index in worked}
        found = defaultdict(list)
        for row in self.receipts:
            if row[2] in wanted:
                found[row[2]].append((row[4], row[3]))
        for rows in found.values():
            rows.sort()
        return found

    def paid_between(self, cp_id: int, first: date, last: date) -> int:
        return sum(
            amount for day, amount in self.receipts_of.get(cp_id, ()) if first <= day <= last
        )

    def contacts(self, cp_id: int) -> int:
        from recovery.demo.ledger import GIVEN, SURNAMES

        rng = self.rng
        rows = self.tables["contacts"]
        primary = None
        for n in range(rng.choice((1, 1, 2))):
            contact_id = len(rows) + 1
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=2))
            rows.append(
                (contact_id, cp_id, name, rng.choice(("财务经理", "总经理", "会计", "采购经理")),
                 f"138{rng.randrange(10**8):08d}", f"c{contact_id}@bench.example", n == 0, True)
            )  # fmt: skip
            primary = primary or contact_id
        return primary

    def work_on(self, index: int, promising: bool) -> None:
        from recovery.activities import rules

        rng = self.rng
        party = self.ledger.party_rows[index]
        cp_id, user = party[0], party[9]
        contact = self.contacts(cp_id)
        count = min(15, 1 + int(rng.expovariate(1 / 3.5)))
        moments = sorted(
            self.working_moment(self.as_of - timedelta(days=rng.randrange(WORK_YEARS_DAYS)))
            for _ in range(count)
        )
        kinds = [k for k, _w in ACTIVITY_WEIGHTS]
        weights = [w for _k, w in ACTIVITY_WEIGHTS]
        drafts = []
        for moment in moments:
            kind = rng.choices(kinds, weights)[0]
            connected = kind != "call" or rng.random() < 0.8
            acknowledged = kind in rules.ACKNOWLEDGING_KINDS and connected and rng.random() < 0.25
            proof = None
            if kind in PROOF_SHARE and rng.random() < PROOF_SHARE[kind]:
                proof = rng.choice(("快递签收单", "EMS妥投记录", "已读回执", "对方盖章回函"))
            drafts.append(
                {"moment": moment, "kind": kind, "connected": connected, "ack": acknowledged,
                 "proof": proof, "promises": []}
            )  # fmt: skip
        if promising:
            for draft in rng.sample(drafts, min(len(drafts), rng.choices((1, 2, 3), (6, 3, 1))[0])):
                if draft["kind"] not in rules.ACKNOWLEDGING_KINDS:
                    draft["kind"], draft["proof"] = "call", None
                # The promise is the acknowledgement (a cancelled one leaves none behind).
                draft["connected"], draft["ack"] = True, False
                draft["promises"].append(None)
        case = self.open_case(index, drafts)
        activities = self.tables["activities"]
        for draft in drafts:
            moment = draft["moment"]
            day = self.local_day(moment)
            activity_id = len(activities) + 1
            case_id = None
            if (
                case is not None
                and case["opened_at"] <= moment
                and (case["closed_at"] is None or moment <= case["closed_at"])
            ):
                case_id = case["id"]
                if case["first_action_at"] is None:
                    case["first_action_at"] = moment
            promises = [self.promise(cp_id, case_id, activity_id, user, moment) for _ in
                        draft["promises"]]  # fmt: skip
            standing = any(not cancelled for cancelled in promises)
            interrupts = rules.interrupts_limitation(
                draft["kind"],
                proof_of_arrival=draft["proof"],
                debtor_acknowledged=draft["ack"],
                with_promise=standing,
            )
            next_step = next_on = None
            if rng.random() < 0.3:
                next_on = day + timedelta(days=rng.randint(1, 30))
                next_step = rng.choice(("再次致电催款", "上门拜访", "寄送催款函", "核对账目"))
            review = ("not_required", None, None, None)
            if draft["kind"] == "visit":
                if (self.as_of - day).days < 10:
                    review = ("pending", None, None, None)
                elif rng.random() < 0.05:
                    review = ("returned", self.people["supervisor"],
                              moment + timedelta(days=1), "请补充拜访照片")  # fmt: skip
                else:
                    review = ("approved", self.people["supervisor"],
                              moment + timedelta(days=rng.randint(1, 3)), None)  # fmt: skip
            reached = contact if draft["kind"] in rules.CONTACT_REQUIRED_KINDS or (
                rng.random() < 0.5) else None  # fmt: skip
            activities.append(
                (activity_id, cp_id, case_id, draft["kind"], moment, user, reached,
                 draft["connected"], f"基准催收记录 {activity_id}",
                 "对方表示将安排付款" if draft["connected"] else "未接通", next_step, next_on,
                 interrupts, draft["proof"], None, None, *review,
                 moment + timedelta(minutes=rng.randint(1, 120)))
            )  # fmt: skip

    def promise(self, cp_id, case_id, activity_id, user, moment) -> bool:
        """One promise made in the activity; returns whether it was withdrawn. Kept or broken
        is the application's judgment from the receipts (recovery/activities/promises.py): the
        amount is drawn below or above what the counterparty paid in the promise's window."""
        rng = self.rng
        rows = self.tables["promises"]
        promised_on = self.local_day(moment)
        due_on = promised_on + timedelta(days=rng.randint(7, 45))
        keep = rng.random() < 0.6
        if keep:
            # A debtor who keeps its word pays within the promised time: the window reaches
            # its first receipt after the promise (within 60 days), if there is one.
            horizon = min(self.as_of, promised_on + timedelta(days=60))
            coming = [d for d, _a in self.receipts_of.get(cp_id, ()) if promised_on <= d <= horizon]
            if coming:
                due_on = max(due_on, coming[0])
        paid = self.paid_between(cp_id, promised_on, min(due_on, self.as_of))
        if keep and paid >= 100:
            amount = min(paid, max(100, int(paid * rng.uniform(0.3, 1.0)) // 100 * 100))  # kept
        else:
            amount = paid + max(100_000, int(rng.lognormvariate(10.5, 1.0)) * 100)  # not kept
        cancelled = rng.random() < 0.04
        rows.append(
            (len(rows) + 1, cp_id, case_id, activity_id, amount, promised_on, due_on,
             "客户承诺分期付款", user, moment + timedelta(minutes=5), cancelled,
             "记录错误，撤回" if cancelled else None)
        )  # fmt: skip
        return cancelled

    def open_case(self, index: int, drafts: list) -> dict | None:
        """The case the application would propose (cases.propose_overdue_amount or
        cases.propose_overdue_days, as of the day it opens), opened by the responsible person
        on a day the rule held, shortly before the first activity from then on; a counterparty
        not proposed now may have had a case, closed as recovered."""
        rng = self.rng
        party = self.ledger.party_rows[index]
        cp_id, user = party[0], party[9]
        since = self.proposed_from[index]
        case = None
        if since is not None:
            start = max(since, self.as_of - timedelta(days=2 * 365))
            later = [d["moment"] for d in drafts if self.local_day(d["moment"]) >= start]
            if later:
                opened_at = later[0] - timedelta(minutes=rng.randint(20, 90))
            else:
                opened_at = self.working_moment(
                    start + timedelta(days=rng.randint(0, (self.as_of - start).days))
                )
                if self.local_day(opened_at) < start:  # moved back to a Friday
                    opened_at = self.utc(start, 10, 0)
                if len(drafts) < 15 and rng.random() < 0.8:
                    # Work starts on the new case: a call soon after it is opened (the
                    # others stay open, without a first action — service-level breaches).
                    call = opened_at + timedelta(minutes=rng.randint(30, 90))
                    if self.local_day(call) < self.as_of:
                        drafts.append(
                            {"moment": call, "kind": "call", "connected": True, "ack": False,
                             "proof": None, "promises": []}
                        )  # fmt: skip
            case = {"status": "open", "closed_at": None, "outcome": None}
        elif rng.random() < 0.25:
            opened_at = drafts[0]["moment"] - timedelta(minutes=rng.randint(20, 90))
            closed_at = opened_at + timedelta(days=rng.randint(30, 200))
            if self.local_day(closed_at) >= self.as_of:
                return None
            case = {"status": "closed", "closed_at": closed_at, "outcome": "recovered"}
        if case is None:
            return None
        rows = self.tables["recovery_cases"]
        overdue = sum(open_fen for _d, open_fen, _i in self.overdue[index])
        opened_on = self.local_day(opened_at)
        case.update(
            id=len(rows) + 1, cp_id=cp_id, user=user, opened_at=opened_at, opened_on=opened_on,
            first_action_at=None, index=index, overdue=overdue,
            cause=rng.choices(*zip(*CAUSE_WEIGHTS, strict=True))[0],
            target=overdue or None, visit=None, referred=None,
        )  # fmt: skip
        if case["status"] == "open" and rng.random() < 0.05:
            case["visit"] = opened_at + timedelta(days=1)
        rows.append(case)  # made a row in finish_cases, once activities and referrals are in
        return case

    def finish_cases(self) -> None:
        rows = self.tables["recovery_cases"]
        for n, case in enumerate(rows):
            status = case["status"]
            if status == "open" and case["first_action_at"] is not None:
                status = "in_progress"  # the first activity moves it (record_first_action)
            referred_at = referred_by = note = None
            if case["referred"] is not None:
                referred_at, note, live = case["referred"]
                referred_by = case["user"]
                status = "referred" if live else "in_progress"
            year = case["opened_on"].year
            opened_at = case["opened_at"]
            target_date = None
            if case["target"]:
                target_date = case["opened_on"] + timedelta(days=self.rng.choice((30, 60, 90)))
            closed = case["closed_at"]
            rows[n] = (
                case["id"], f"RC-{year}-{case['id']:05d}", case["cp_id"], status,
                case["outcome"], "manual", case["cause"], None,
                "客户申请对账后分期结清" if case["overdue"] == 0 or closed else None,
                case["target"], target_date, "电话催收，必要时上门", case["opened_on"], opened_at,
                case["user"], case["user"], opened_at, case["user"], case["first_action_at"],
                case["visit"], referred_at, referred_by, note, closed,
                case["user"] if closed else None, "款项已结清" if closed else None,
                closed or referred_at or case["first_action_at"] or opened_at, case["user"], 1,
            )  # fmt: skip

    def limitation_events(self) -> None:
        """About 0.5 % of the open items get an event recorded by hand (legal), on an overdue
        item: demands and acknowledgements outside the system, suspensions (half of them
        ended), suits filed outside the legal module, equivalents; a few withdrawn."""
        rng = self.rng
        rows = self.tables["limitation_events"]
        overdue = [row for rows_ in self.overdue for row in rows_]
        want = round(len(self.open_items) * 0.005)
        kinds = [k for k, _w in EVENT_WEIGHTS]
        weights = [w for _k, w in EVENT_WEIGHTS]
        for due, _open, item_id in sorted(rng.sample(overdue, min(want, len(overdue))),
                                          key=lambda row: row[2]):  # fmt: skip
            kind = rng.choices(kinds, weights)[0]
            dated = due + timedelta(days=1 + rng.randrange(max(1, (self.as_of - due).days)))
            dated = min(dated, self.as_of)
            ended = None
            if kind == "suspension" and rng.random() < 0.5:
                ended = min(self.as_of, dated + timedelta(days=rng.randint(20, 240)))
            withdrawn = rng.random() < 0.06
            moment = self.utc(dated, 10, 0) + timedelta(days=rng.randint(0, 3))
            rows.append(
                (len(rows) + 1, item_id, kind, dated, ended, f"基准时效事件：{kind}",
                 self.people["legal"], moment, withdrawn, "录入错误" if withdrawn else None,
                 moment, self.people["legal"], 1)
            )  # fmt: skip

    def _outstanding_on(self, cp_ids: set[int]) -> dict[int, list]:
        """{item id: [(applied or credited on, fen)]} of those counterparties' items."""
        moves = defaultdict(list)
        for _id, cp_id, _receipt, item_id, amount, applied_on in self.applications:
            if cp_id in cp_ids:
                moves[item_id].append((applied_on, amount))
        for adj in self.adjustments:
            if self.items[adj[2] - 1][2] in cp_ids:
                moves[adj[2]].append((adj[5], adj[4]))
        return moves

    def referrals(self) -> None:
        """About 0.3 % of the counterparties are referred to legal, from their open case, at
        every stage; accepted referrals mostly become suits at every stage."""
        rng = self.rng
        open_cases = [c for c in self.tables["recovery_cases"] if c["status"] == "open"]
        open_cases = [c for c in open_cases if (self.as_of - c["opened_on"]).days >= 45]
        want = min(len(open_cases), max(1, round(len(self.ledger.party_rows) * 0.003)))
        chosen = sorted(rng.sample(open_cases, want), key=lambda c: c["id"])
        moves = self._outstanding_on({c["cp_id"] for c in chosen})
        for case in chosen:
            self.referral(case, moves)
        self.finish_cases()

    def referral(self, case, moves) -> None:
        rng = self.rng
        legal, user = self.people["legal"], case["user"]
        referrals = self.tables["referrals"]
        referral_id = len(referrals) + 1
        status = rng.choices(*zip(*REFERRAL_WEIGHTS, strict=True))[0]
        span = (self.as_of - case["opened_on"]).days - 30
        claim_as_of = case["opened_on"] + timedelta(days=rng.randint(1, max(1, span)))
        created = self.working_moment(claim_as_of)
        if self.local_day(created) < claim_as_of:
            created = self.utc(claim_as_of, 10, 0)
        lines = []
        lo, hi = self.ledger.items_of[case["index"]]
        for row in self.items[lo - 1 : hi - 1]:
            if row[8] > claim_as_of or row[9] >= claim_as_of:
                continue
            paid = sum(fen for day, fen in moves.get(row[0], ()) if day <= claim_as_of)
            principal = row[7] - paid
            if principal > 0:
                days = (claim_as_of - row[9]).days
                interest = _half_up(Decimal(principal) * CLAIM_RATE * days / 365)
                lines.append([row[0], principal, interest, True])
        if status in ("accepted", "declined") and len(lines) >= 3 and rng.random() < 0.1:
            lines[-1][3] = False  # taken out of the claim before the decision
        principal = sum(line[1] for line in lines if line[3])
        interest = sum(line[2] for line in lines if line[3])
        kind = self.ledger.party_rows[case["index"]][3]
        claim_type = {"employer": "construction"}.get(kind, "sale_of_goods")
        note = "对方长期拖欠且拒绝对账，请求诉讼"
        submitted_at = decided_at = decided_by = reason = requested = None
        decisions = self.tables["referral_decisions"]
        if status != "draft":
            submitted_at = created + timedelta(days=rng.randint(1, 3))
            decisions.append((len(decisions) + 1, referral_id, "submitted", None, None, user,
                              submitted_at))  # fmt: skip
            case["referred"] = (submitted_at, note, status != "declined")
        if status in ("returned", "accepted", "declined"):
            decided_at = submitted_at + timedelta(days=rng.randint(2, 10))
            decided_by = legal
            missing = "balance_confirmation,delivery" if status == "returned" else None
            requested = missing
            reason = "债务人已无可执行财产" if status == "declined" else None
            decisions.append((len(decisions) + 1, referral_id, status, reason, missing, legal,
                              decided_at))  # fmt: skip
        referrals.append(
            (referral_id, f"LR-{claim_as_of.year}-{referral_id:05d}", case["id"], case["cp_id"],
             claim_type, status, claim_as_of, principal, interest, note, requested, None, user,
             created, submitted_at, user if submitted_at else None, decided_at, decided_by,
             reason, decided_at or submitted_at or created, decided_by or user, 1)
        )  # fmt: skip
        items = self.tables["referral_items"]
        for item_id, line_principal, line_interest, claimed in lines:
            items.append((len(items) + 1, referral_id, item_id, line_principal, line_interest,
                          claimed))  # fmt: skip
        if status == "accepted" and rng.random() < 0.85:
            self.lawsuit(case, referral_id, self.local_day(decided_at), principal, interest)

    def lawsuit(self, case, referral_id, accepted_on, principal, interest) -> None:
        """A suit moved through the stages in order, each date after the one before and none
        after --as-of (the stage reached is the last whose date has come)."""
        rng = self.rng
        legal = self.people["legal"]
        filed = accepted_on + timedelta(days=rng.randint(5, 60))
        if filed > self.as_of:
            return
        target = STAGE_ORDER.index(rng.choices(*zip(*SUIT_STAGES, strict=True))[0])
        suits = self.tables["lawsuits"]
        suit_id = len(suits) + 1
        court = rng.choice(
            ("上海市第一中级人民法院", "北京市朝阳区人民法院", "广州市天河区人民法院")
        )
        values = dict.fromkeys(
            ("preservation_on", "preservation_ruling", "preserved_assets", "preserved_amount",
             "judgment_kind", "judgment_on", "awarded_principal", "awarded_interest",
             "awarded_costs", "judgment_effective_on", "performance_deadline",
             "post_judgment_rate", "interest_runs_from", "enforcement_on", "enforcement_court",
             "enforcement_case_number", "outcome", "closed_on", "closing_note")
        )  # fmt: skip
        stage, last = "filed", filed
        court_fee = max(5_000, principal // 100)
        costs = self.tables["lawsuit_costs"]
        costs.append((len(costs) + 1, suit_id, "court_fee", court_fee, filed, "立案缴纳", legal,
                      self.utc(filed, 11, 0)))  # fmt: skip
        if target >= 1 and (target == 1 or rng.random() < 0.5):
            day = last + timedelta(days=rng.randint(3, 20))
            if day <= self.as_of:
                stage, last = "preservation", day
                values.update(
                    preservation_on=day,
                    preservation_ruling=f"({day.year})财保{suit_id}号",
                    preserved_assets="银行存款",
                    preserved_amount=principal // 2 or None,
                )
        hearing_day = None
        if target >= 2:
            hearing_day = last + timedelta(days=rng.randint(30, 90))
            hearings = self.tables["lawsuit_hearings"]
            hearings.append((len(hearings) + 1, suit_id, hearing_day, "hearing", None, False, None,
                             legal, self.utc(min(last, self.as_of), 15, 0)))  # fmt: skip
            stage = "hearing"  # a hearing set (held or to come) moves the suit on
            if hearing_day <= self.as_of:
                last = hearing_day
        if target >= 3 and hearing_day is not None and hearing_day <= self.as_of:
            day = last + timedelta(days=rng.randint(10, 60))
            effective = day + timedelta(days=15)
            if effective <= self.as_of:
                stage, last = "judgment", effective
                deadline = effective + timedelta(days=rng.randint(10, 30))
                values.update(
                    judgment_kind=rng.choice(("judgment", "judgment", "mediation")),
                    judgment_on=day, awarded_principal=principal * rng.randint(70, 100) // 100,
                    awarded_interest=interest * rng.randint(50, 100) // 100,
                    awarded_costs=court_fee, judgment_effective_on=effective,
                    performance_deadline=deadline,
                )  # fmt: skip
                if target >= 4:
                    day = deadline + timedelta(days=rng.randint(1, 60))
                    if day <= self.as_of:
                        stage, last = "enforcement", day
                        values.update(
                            enforcement_on=day,
                            enforcement_court=court,
                            enforcement_case_number=f"({day.year})执{suit_id}号",
                        )
        if target >= 5 and stage in ("judgment", "enforcement"):
            day = last + timedelta(days=rng.randint(30, 180))
            if day <= self.as_of:
                stage = "closed"
                values.update(outcome=rng.choice(("partly_recovered", "settled", "no_assets",
                                                  "paid_in_full")),
                              closed_on=day, closing_note="结案")  # fmt: skip
        moment = self.utc(filed, 11, 0)
        suits.append(
            (suit_id, referral_id, case["id"], case["cp_id"], stage, court,
             f"({filed.year})民初{suit_id}号", filed, principal, interest, *values.values(), legal,
             moment, moment, legal, 1)
        )  # fmt: skip


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
    "contacts": ("id", "counterparty_id", "name", "title", "phone", "email", "is_primary",
                 "active"),
    "recovery_cases": ("id", "number", "counterparty_id", "status", "outcome", "origin", "cause",
                       "cause_note", "opening_reason", "target_amount", "target_date", "plan",
                       "opened_on", "opened_at", "opened_by_id", "assignee_id", "assigned_at",
                       "assigned_by_id", "first_action_at", "visit_requested_at", "referred_at",
                       "referred_by_id", "referral_note", "closed_at", "closed_by_id",
                       "closing_note", "updated_at", "updated_by_id", "version"),
    "activities": ("id", "counterparty_id", "case_id", "kind", "occurred_at", "user_id",
                   "contact_id", "connected", "summary", "outcome", "next_step", "next_step_on",
                   "interrupts_limitation", "proof_of_arrival", "conduct_warning",
                   "conduct_override_reason", "review_status", "reviewed_by_id", "reviewed_at",
                   "review_note", "created_at"),
    "promises": ("id", "counterparty_id", "case_id", "activity_id", "amount", "promised_on",
                 "due_on", "note", "recorded_by_id", "created_at", "cancelled", "cancel_reason"),
    "limitation_events": ("id", "item_id", "kind", "dated_on", "ended_on", "note",
                          "recorded_by_id", "created_at", "withdrawn", "withdraw_reason",
                          "updated_at", "updated_by_id", "version"),
    "referrals": ("id", "number", "case_id", "counterparty_id", "claim_type", "status",
                  "claim_as_of", "principal", "interest", "note", "requested_kinds",
                  "summary_file_id", "created_by_id", "created_at", "submitted_at",
                  "submitted_by_id", "decided_at", "decided_by_id", "decision_reason",
                  "updated_at", "updated_by_id", "version"),
    "referral_decisions": ("id", "referral_id", "decision", "reason", "missing", "decided_by_id",
                           "decided_at"),
    "referral_items": ("id", "referral_id", "item_id", "principal", "interest", "claimed"),
    "lawsuits": ("id", "referral_id", "case_id", "counterparty_id", "stage", "court",
                 "case_number", "filed_on", "claimed_principal", "claimed_interest",
                 "preservation_on", "preservation_ruling", "preserved_assets", "preserved_amount",
                 "judgment_kind", "judgment_on", "awarded_principal", "awarded_interest",
                 "awarded_costs", "judgment_effective_on", "performance_deadline",
                 "post_judgment_rate", "interest_runs_from", "enforcement_on",
                 "enforcement_court", "enforcement_case_number", "outcome", "closed_on",
                 "closing_note", "created_by_id", "created_at", "updated_at", "updated_by_id",
                 "version"),
    "lawsuit_hearings": ("id", "lawsuit_id", "held_on", "kind", "note", "cancelled",
                         "cancel_reason", "created_by_id", "created_at"),
    "lawsuit_costs": ("id", "lawsuit_id", "kind", "amount", "incurred_on", "note",
                      "created_by_id", "created_at"),
}  # fmt: skip


def _column_list(table: str) -> str:
    # Quoted: "plan" is a keyword of SQLite.
    return ", ".join(f'"{column}"' for column in COLUMNS[table])


def _bulk_tables(tables) -> list[str]:
    """The tables whose indexes and foreign keys are dropped around the load."""
    return [*BULK_TABLES, *(table for table in tables if table not in BULK_TABLES)]


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
    from recovery.ledger import open_sums

    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-500000")
        connection.execute("BEGIN")
        bulk = _bulk_tables(tables)
        marks = ",".join(["?"] * len(bulk))

        def schema_objects(kind: str) -> list[tuple[str, str]]:
            return connection.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = ? AND sql IS NOT NULL "  # noqa: S608
                f"AND tbl_name IN ({marks})",
                [kind, *bulk],
            ).fetchall()

        # Dropped for the load and re-created after it: the indexes, and the triggers that keep
        # the open-item sums (summed once after the load instead).
        indexes, triggers = schema_objects("index"), schema_objects("trigger")
        for name, _sql in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        for name, _sql in triggers:
            connection.execute(f'DROP TRIGGER "{name}"')
        for table, rows in tables.items():
            started = time.perf_counter()
            columns = COLUMNS[table]
            sql = f"INSERT INTO {table} ({_column_list(table)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: E501, S608
            connection.executemany(
                sql, ([_sqlite_value(v) for v in row[: len(columns)]] for row in rows)
            )
            log(f"  {table}: {len(rows):,} rows in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        for _name, index_sql in indexes:
            connection.execute(index_sql)
        for _name, trigger_sql in triggers:
            connection.execute(trigger_sql)
        connection.execute(open_sums.rebuild_sql("sqlite"))
        log(f"  indexes and open-item sums rebuilt in {time.perf_counter() - started:.1f} s")
        connection.execute("COMMIT")
        started = time.perf_counter()
        connection.execute("ANALYZE")
        connection.execute("PRAGMA journal_mode=WAL")
        log(f"  ANALYZE in {time.perf_counter() - started:.1f} s")
    finally:
        connection.close()


def load_postgresql(conninfo: str, tables: dict[str, list]) -> None:
    import psycopg

    from recovery.ledger import open_sums

    bulk = _bulk_tables(tables)
    with psycopg.connect(conninfo) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
                     FROM pg_constraint c
                    WHERE c.contype IN ('f', 'u') AND (c.conrelid::regclass::text = ANY(%s)
                          OR c.confrelid::regclass::text = ANY(%s))""",
                (bulk, bulk),
            )
            constraints = cursor.fetchall()
            cursor.execute(
                """SELECT i.indexname, i.indexdef FROM pg_indexes i
                    WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                       WHERE c.conname = i.indexname)""",
                (bulk,),
            )
            indexes = cursor.fetchall()
            for table, name, _definition in constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            # The triggers that keep the open-item sums: off for the load, the sums summed after.
            for table in bulk:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            for table, rows in tables.items():
                started = time.perf_counter()
                columns = COLUMNS[table]
                with cursor.copy(f"COPY {table} ({_column_list(table)}) FROM STDIN") as copy:
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
            for table in bulk:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            cursor.execute(open_sums.rebuild_sql("postgresql"))
            elapsed = time.perf_counter() - started
            log(f"  indexes, constraints and open-item sums re-created in {elapsed:.1f} s")
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
        "--reset",
        action="store_true",
        help="empty the ledger and recovery work tables first (else they must be)",
    )
    parser.add_argument(
        "--work",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also generate the recovery work: activities, promises, cases, limitation events, "
        "referrals and lawsuits (default: yes; --no-work: the ledger alone)",
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
    from recovery.settings.services import get_setting

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
        people = {name: auth.find_user(name).id for name in ("finance", "legal", "supervisor")}
        people["thresholds"] = (
            int(get_setting("cases.propose_overdue_amount") * 100),
            get_setting("cases.propose_overdue_days"),
        )
        zone = app.config["BABEL_DEFAULT_TIMEZONE"]
        counts = {
            t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}"))  # noqa: S608
            for t in (*LEDGER_TABLES, *WORK_TABLES)
        }
        if any(counts.values()):
            if not args.reset:
                print(f"The ledger tables are not empty ({counts}); use --reset.", file=sys.stderr)
                return 1
            log("reset: emptying the recovery work and ledger tables")
            for table in (*RESET_FIRST, *LEDGER_TABLES):
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

    work = {}
    if args.work:
        started = time.perf_counter()
        work = WorkGenerator(
            args, generator, items, receipts, adjustments, applications, people, zone
        ).generate()
        log(
            "recovery work: "
            + ", ".join(f"{len(rows):,} {table}" for table, rows in work.items())
            + f" in {time.perf_counter() - started:.1f} s"
        )

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
        **work,
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
