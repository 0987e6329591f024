"""A deterministic demo ledger: dealers, customers and employers with their projects, contracts,
receivable items, receipts and credit notes, as a finance department would keep them.

Everything comes from one seeded random generator, with dates counted back from an anchor day
(today by default), so the same anchor always gives the same ledger. Counterparties, projects,
contracts and adjustments (a few hundred rows) go through the ORM and are audited by the
central listener. Items and receipts (tens of thousands) are written in bulk with their audit
entries appended in one batch (``record_rows``). Allocation is computed with the ledger's own
``rules.allocate`` per counterparty, and the applications, open amounts and last movement
dates stored are exactly what ``services.reallocate`` would store (tests/test_demo_ledger.py
replays every counterparty and checks that nothing changes).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from recovery.audit.chain import jsonable
from recovery.audit.services import record_rows
from recovery.auth import services as auth
from recovery.core.money import Money, from_fen, to_fen
from recovery.extensions import db
from recovery.ledger import rules
from recovery.ledger import services as ledger_services
from recovery.ledger.codes import category_of
from recovery.ledger.models import Adjustment, Application, Item, Receipt
from recovery.parties.models import Contact, Contract, Counterparty, Project
from recovery.parties.services import validate_credit_code

SEED = 20260315

SALES_DEPARTMENTS = ("营销一部", "营销二部", "工程公司", "华东子公司")
# Extra demo sales users (username, name, department); the demo `sales` user is in 营销一部.
EXTRA_SALES_USERS = (
    ("zhoujie", "周杰", "营销一部"),
    ("wuhua", "吴华", "营销二部"),
    ("zhengli", "郑丽", "营销二部"),
    ("sunhao", "孙浩", "工程公司"),
    ("mali", "马丽", "工程公司"),
    ("hujun", "胡军", "华东子公司"),
    ("guoyan", "郭艳", "华东子公司"),
)

# (administrative division code, city) — the region part of a unified social credit code.
CITIES = (
    ("330100", "杭州"),
    ("320500", "苏州"),
    ("310115", "上海"),
    ("370200", "青岛"),
    ("410100", "郑州"),
    ("420100", "武汉"),
    ("440300", "深圳"),
    ("510100", "成都"),
    ("610100", "西安"),
    ("110108", "北京"),
    ("120116", "天津"),
    ("340100", "合肥"),
    ("350200", "厦门"),
    ("430100", "长沙"),
    ("500112", "重庆"),
    ("210200", "大连"),
    ("130100", "石家庄"),
    ("360100", "南昌"),
    ("320100", "南京"),
    ("330200", "宁波"),
)
WORDS = (
    "恒达", "宏远", "鑫源", "华泰", "瑞丰", "金鼎", "盛世", "东方", "永安", "泰和",
    "昌盛", "天润", "正阳", "博远", "力拓", "隆鑫", "海川", "嘉禾", "广汇", "中兴",
    "宏图", "新城", "合力", "顺通", "远大", "信达", "鼎盛", "华宇", "安泰", "联创",
)  # fmt: skip
SUFFIXES = {
    "dealer": ("工程机械销售有限公司", "机械设备有限公司", "重工机械贸易有限公司",
               "工程设备租赁有限公司", "机电设备有限公司"),
    "customer": ("建筑工程有限公司", "矿业有限公司", "市政工程有限公司", "路桥建设有限公司",
                 "土石方工程有限公司", "水利工程有限公司"),
    "employer": ("城市建设投资集团有限公司", "房地产开发有限公司", "交通投资集团有限公司",
                 "置业有限公司", "产业园开发有限公司"),
}  # fmt: skip
PROJECT_KINDS = (
    "地铁站土建工程", "综合管廊工程", "产业园厂房工程", "安置房项目", "快速路改造工程",
    "污水处理厂工程", "学校新建工程", "医院门诊楼工程", "物流园项目", "桥梁加固工程",
)  # fmt: skip
MACHINES = ("SY75C", "SY135C", "SY215C", "SY365H", "STC250", "SAC1200", "SR155", "SMG200")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "军", "杰", "涛", "明", "超", "霞", "平")

# Payment behaviour of a counterparty: (weight, lateness median in days, share paid, naming)
PROFILES = {
    "prompt": (12, -5, 1.0, 0.7),
    "late": (46, 35, 1.0, 0.35),
    "slow": (20, 110, 0.7, 0.25),
    "prepay": (10, 20, 1.0, 0.5),
    "never": (12, 0, 0.0, 0.0),
}


@dataclass(frozen=True)
class Scale:
    dealers: int = 200
    customers: int = 140
    employers: int = 80
    projects: int = 150
    years: int = 6  # of history before the anchor

    def scaled(self, factor: float) -> Scale:  # float-ok: a count multiplier, not money
        def n(value):
            return max(2, round(value * factor))

        return Scale(n(self.dealers), n(self.customers), n(self.employers), n(self.projects))


@dataclass
class Summary:
    counterparties: int = 0
    projects: int = 0
    contracts: int = 0
    items: int = 0
    receipts: int = 0
    applications: int = 0
    adjustments: int = 0
    users: list[str] = field(default_factory=list)
    skipped: str | None = None


def org_check_char(body8: str) -> str:
    """The check character of a 9-character organisation code (GB 11714)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c, 36) * w for c, w in zip(body8, weights, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def make_credit_code(rng: random.Random, region: str) -> str:
    """A valid unified social credit code: 9 (industry and commerce registration) 1
    (enterprise), the region, an organisation code with its check character, the check."""
    from stdnum.cn import uscc

    body = f"{rng.randrange(10**8):08d}"
    head = "91" + region + body + org_check_char(body)
    return head + uscc.calc_check_digit(head)


def ledger_is_empty() -> bool:
    items = db.session.scalar(sa.select(sa.func.count()).select_from(Item.__table__))
    parties = db.session.scalar(sa.select(sa.func.count()).select_from(Counterparty.__table__))
    return items == 0 and parties == 0


# ---------------------------------------------------------------------------------------------
# Bulk writes with audit entries


def audit_entries(table_name: str, rows: list[dict], ids: list[int]):
    """Audit entries for rows inserted in bulk, shaped like the ORM listener's."""
    for row, row_id in zip(rows, ids, strict=True):
        changes = {k: [None, jsonable(v)] for k, v in row.items() if v is not None}
        yield table_name, row_id, "insert", changes


def insert_rows(table: sa.Table, rows: list[dict], key: str | None = None) -> list[int]:
    """Insert ``rows`` in bulk; with ``key`` (a unique column), return their ids in order.

    SQLite: the driver's executemany through SQLAlchemy Core (in-process, fast). PostgreSQL:
    COPY through psycopg — executemany there sends one statement per row and multi-row
    INSERT ... VALUES spends its time in psycopg's query parsing; COPY is ten times faster.
    Column defaults are filled here and Money values turned into fen, as Core would.
    """
    if not rows:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        _copy_rows(table, rows)
    else:
        db.session.execute(table.insert(), rows)
    if key is None:
        return []
    keys = [row[key] for row in rows]
    ids: dict[str, int] = {}
    for start in range(0, len(keys), 5000):
        query = sa.select(table.c[key], table.c.id).where(
            table.c[key].in_(keys[start : start + 5000])
        )
        ids.update((row[0], row[1]) for row in db.session.execute(query))
    return [ids[k] for k in keys]


def _copy_rows(table: sa.Table, rows: list[dict]) -> None:
    given = list(rows[0])
    defaults = {}
    for column in table.columns:
        if column.key in given or column.primary_key or column.default is None:
            continue
        default = column.default
        defaults[column.key] = default.arg(None) if default.is_callable else default.arg
    names = given + list(defaults)
    money = {name for name in names if isinstance(table.c[name].type, Money)}
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor, cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        extra = list(defaults.values())
        for row in rows:
            values = [
                to_fen(row[name]) if name in money and row[name] is not None else row[name]
                for name in given
            ]
            copy.write_row(values + extra)


def insert_with_audit(table: sa.Table, rows: list[dict], key: str) -> list[int]:
    """Insert ``rows`` in bulk, append their audit entries, and return their ids in order."""
    ids = insert_rows(table, rows, key)
    if ids:
        record_rows(db.session.connection(), audit_entries(table.name, rows, ids))
    return ids


# ---------------------------------------------------------------------------------------------
# The generator


@dataclass
class Party:
    code: str
    kind: str
    department: str
    responsible: int
    profile: str
    id: int | None = None
    stopped_on: date | None = None  # a bad debtor's last day of paying anything


@dataclass
class PlannedItem:
    pid: int  # provisional id, until the row has its own
    document_no: str
    party: Party
    item_type: str
    amount: int  # fen
    recognized_on: date
    due_on: date
    department: str
    responsible: int
    project_id: int | None = None
    contract_id: int | None = None
    description: str | None = None


class DemoLedger:
    def __init__(self, anchor: date, scale: Scale, users: dict[str, list[int]], departments):
        self.rng = random.Random(SEED)
        self.anchor = anchor
        self.start = anchor - timedelta(days=365 * scale.years)
        self.scale = scale
        self.users = users  # department name -> sales user ids
        self.departments = departments  # name -> id
        self.names: set[str] = set()
        self.credit_codes: set[str] = set()
        self.parties: list[Party] = []
        self.items: list[PlannedItem] = []
        self.seq = defaultdict(int)

    # --- helpers ---------------------------------------------------------------------------

    def number(self, prefix: str, day: date) -> str:
        self.seq[(prefix, day.year)] += 1
        return f"{prefix}{day.year}{self.seq[(prefix, day.year)]:06d}"

    def day_between(self, low: date, high: date) -> date:
        return low + timedelta(days=self.rng.randrange(max((high - low).days, 0) + 1))

    def fen(self, low_yuan: int, high_yuan: int, whole: bool = False) -> int:
        value = self.rng.randrange(low_yuan * 100, high_yuan * 100 + 1)
        return value - value % 100 if whole else value

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choices(GIVEN, k=2))

    def company(self, kind: str) -> tuple[str, str]:
        while True:
            region, city = self.rng.choice(CITIES)
            name = city + self.rng.choice(WORDS) + self.rng.choice(SUFFIXES[kind])
            if name not in self.names:
                self.names.add(name)
                return region, name

    def credit_code(self, region: str) -> str:
        while True:
            code = validate_credit_code(make_credit_code(self.rng, region))
            if code not in self.credit_codes:
                self.credit_codes.add(code)
                return code

    def profile(self, kind: str) -> str:
        names = [n for n in PROFILES if kind == "dealer" or n != "prepay"]
        return self.rng.choices(names, weights=[PROFILES[n][0] for n in names])[0]

    # --- counterparties, projects, contracts -------------------------------------------------

    def build_parties(self) -> list[Counterparty]:
        plan = (
            ("dealer", "D", self.scale.dealers, ("营销一部", "营销二部", "华东子公司")),
            ("customer", "C", self.scale.customers, ("营销一部", "营销二部", "华东子公司")),
            ("employer", "E", self.scale.employers, ("工程公司", "华东子公司")),
        )
        objects = []
        for kind, prefix, count, departments in plan:
            for n in range(1, count + 1):
                department = self.rng.choice(departments)
                responsible = self.rng.choice(self.users[department])
                profile = self.profile(kind)
                region, name = self.company(kind)
                party = Party(f"{prefix}{n:04d}", kind, department, responsible, profile)
                if profile == "never":  # half never paid at all, half stopped one day
                    party.stopped_on = self.start
                    if self.rng.random() < 0.5:
                        party.stopped_on = self.day_between(self.start, self.anchor)
                self.parties.append(party)
                limit = {"dealer": (3, 30), "customer": (1, 8), "employer": (20, 200)}[kind]
                counterparty = Counterparty(
                    code=party.code,
                    name=name,
                    kind=kind,
                    credit_code=self.credit_code(region),
                    credit_limit=Decimal(self.rng.randint(*limit) * 100000),
                    financial_status="poor" if profile in ("never", "slow") else "good",
                    business_status="poor" if profile == "never" else "normal",
                    department_id=self.departments[department],
                    responsible_id=responsible,
                )
                counterparty.contacts.append(
                    Contact(
                        name=self.person(),
                        title=self.rng.choice(("财务经理", "总经理", "出纳", "采购经理")),
                        phone=f"1{self.rng.choice('3589')}{self.rng.randrange(10**9):09d}",
                        is_primary=True,
                    )
                )
                objects.append(counterparty)
        return objects

    def build_projects(self, employers: list[Party]) -> list[tuple[Project, Contract, dict]]:
        out = []
        for n in range(1, self.scale.projects + 1):
            employer = employers[(n - 1) % len(employers)]
            department = self.rng.choice(("工程公司", "工程公司", "华东子公司"))
            started = self.day_between(self.start, self.anchor - timedelta(days=60))
            months = self.rng.randint(10, 30)
            value = self.fen(8_000_000, 150_000_000, whole=True)
            city = self.rng.choice(CITIES)[1]
            project = Project(
                code=f"P{started.year}-{n:03d}",
                name=f"{city}{self.rng.choice(WORDS)}{self.rng.choice(PROJECT_KINDS)}",
                employer_id=employer.id,
                department_id=self.departments[department],
                prospects="poor" if employer.profile in ("never", "slow") else "good",
            )
            reviewed = self.rng.random() > 0.15
            rate = self._contract_rate()
            contract = Contract(
                number=f"HT-GC-{started.year}-{n:04d}",
                counterparty_id=employer.id,
                signed_on=started - timedelta(days=self.rng.randint(10, 60)),
                amount=from_fen(value),
                overdue_rate=rate[0],
                rate_basis=rate[1],
                reviewed=reviewed,
                signer_id=self.rng.choice(self.users[department]),
            )
            plan = {
                "employer": employer,
                "department": department,
                "started": started,
                "months": months,
                "value": value,
            }
            out.append((project, contract, plan))
        return out

    def _contract_rate(self) -> tuple[Decimal | None, str]:
        roll = self.rng.random()
        if roll < 0.45:
            return None, "annual"  # none agreed: the default setting applies
        if roll < 0.6:
            return Decimal("0.0500"), "daily"  # 0.05 % a day (late payment to SMEs)
        return self.rng.choice((Decimal("4.6500"), Decimal("5.2000"), Decimal("6.0000"))), "annual"

    def build_trade_contracts(self) -> list[tuple[Contract, Party]]:
        out = []
        for party in self.parties:
            if party.kind == "employer" or self.rng.random() < 0.3:
                continue
            signed = self.day_between(self.start - timedelta(days=200), self.start)
            rate = self._contract_rate()
            prefix = "HT-JX" if party.kind == "dealer" else "HT-XS"
            contract = Contract(
                number=f"{prefix}-{signed.year}-{party.code}",
                counterparty_id=party.id,
                signed_on=signed,
                overdue_rate=rate[0],
                rate_basis=rate[1],
                reviewed=self.rng.random() > 0.1,
                signer_id=party.responsible,
            )
            out.append((contract, party))
        return out

    # --- items -----------------------------------------------------------------------------

    def add_item(self, party, item_type, amount, recognized, due, department=None, **extra):
        if recognized > self.anchor or amount <= 0:
            return
        prefix = "GC" if item_type in CONSTRUCTION_TYPES else "XS"
        self.items.append(
            PlannedItem(
                len(self.items) + 1,
                self.number(prefix, recognized),
                party,
                item_type,
                amount,
                recognized,
                max(due, recognized),
                department or party.department,
                extra.pop("responsible", party.responsible),
                **extra,
            )
        )

    def trade_items(self, party: Party, contract: tuple[int, bool, int] | None) -> None:
        """Deliveries to a dealer or customer over the years: goods, parts, freight, ..."""
        contract_id = contract[0] if contract else None
        responsible = party.responsible
        if contract and not contract[1]:
            responsible = contract[2]  # unreviewed contract: its signer answers for life
        extra = {"contract_id": contract_id, "responsible": responsible}
        dealer = party.kind == "dealer"
        first = self.day_between(self.start, self.anchor - timedelta(days=200))
        terms = self.rng.choice((30, 60, 90))
        if dealer:
            self.add_item(
                party, "guarantee_deposit", self.fen(200_000, 800_000, True), first,
                first + timedelta(days=365 * 3), **extra,
            )  # fmt: skip
        gap = self.rng.randint(14, 30) if dealer else self.rng.randint(20, 60)
        day = first
        while day <= self.anchor:
            units = self.rng.choice((1, 1, 1, 2, 2, 3, 4)) if dealer else self.rng.choice((1, 1, 2))
            model = self.rng.choice(MACHINES)
            price = self.fen(180_000, 1_200_000, True)
            self.add_item(
                party, "goods", price * units, day, day + timedelta(days=terms),
                description=f"{units}台 {model}", **extra,
            )  # fmt: skip
            if self.rng.random() < 0.5:
                self.add_item(
                    party, "parts", self.fen(800, 60_000), day, day + timedelta(days=30), **extra
                )
            if self.rng.random() < 0.35:
                self.add_item(
                    party, "freight", self.fen(1_200, 18_000), day, day + timedelta(days=30),
                    **extra,
                )  # fmt: skip
            if dealer and self.rng.random() < 0.05:
                self.add_item(
                    party, "warehouse_financing", self.fen(500_000, 3_000_000, True), day,
                    day + timedelta(days=180), **extra,
                )  # fmt: skip
            if dealer and self.rng.random() < 0.01:
                self.add_item(
                    party, "repurchase", self.fen(200_000, 900_000, True), day,
                    day + timedelta(days=90), **extra,
                )  # fmt: skip
            if not dealer and self.rng.random() < 0.03:
                self.add_item(
                    party, self.rng.choice(("deposit", "other_receivable")),
                    self.fen(5_000, 50_000, True), day, day + timedelta(days=365), **extra,
                )  # fmt: skip
            day += timedelta(days=max(1, round(self.rng.gauss(gap, gap / 3))))

    def construction_items(self, project_id, contract_id, reviewed, signer, plan) -> None:
        """A project's life: advance, monthly progress, settlement, retention, bonuses."""
        party, value, started = plan["employer"], plan["value"], plan["started"]
        responsible = party.responsible if reviewed else signer
        common = {
            "project_id": project_id,
            "contract_id": contract_id,
            "department": plan["department"],
            "responsible": responsible,
        }
        self.add_item(
            party, "advance", value * self.rng.randint(10, 20) // 100, started,
            started + timedelta(days=14), **common,
        )  # fmt: skip
        day = started
        progress = 0
        for _month in range(plan["months"]):
            day += timedelta(days=30)
            share = value * self.rng.randint(25, 55) // 1000
            progress += share
            self.add_item(party, "progress", share, day, day + timedelta(days=28), **common)
        completed = day + timedelta(days=30)
        if completed > self.anchor:
            return
        if self.rng.random() < 0.3:
            self.add_item(
                party, "completed_unsettled", value * self.rng.randint(5, 10) // 100, completed,
                completed + timedelta(days=180), **common,
            )  # fmt: skip
            return
        settled = completed + timedelta(days=self.rng.randint(60, 240))
        self.add_item(
            party, "settlement", value * self.rng.randint(8, 15) // 100, settled,
            settled + timedelta(days=90), **common,
        )  # fmt: skip
        self.add_item(
            party, "retention", value * self.rng.choice((3, 5)) // 100, settled,
            settled + timedelta(days=365 * self.rng.choice((1, 2))), **common,
        )  # fmt: skip
        for kind, chance, pct in (
            ("schedule_bonus", 0.3, 1),
            ("quality_bonus", 0.25, 1),
            ("variation_claim", 0.7, 4),
        ):
            if self.rng.random() < chance:
                self.add_item(
                    party, kind, value * self.rng.randint(1, pct * 5) // 500, settled,
                    settled + timedelta(days=self.rng.choice((60, 120))), **common,
                )  # fmt: skip
        if self.rng.random() < 0.4:
            self.add_item(
                party, "guarantee_deposit", value * 2 // 100, started - timedelta(days=30),
                settled + timedelta(days=30), **common,
            )  # fmt: skip

    # --- receipts --------------------------------------------------------------------------

    def receipts(self) -> list[dict]:
        """Payments as each counterparty's behaviour makes them: on time, late, in part,
        in advance naming the item, or never. Unnamed payments of a week are one transfer."""
        rows = []
        lumps: dict[tuple, int] = defaultdict(int)
        by_party = defaultdict(list)
        for item in self.items:
            by_party[item.party.code].append(item)
        for party in self.parties:
            _weight, median, share, naming = PROFILES[party.profile]
            owed = paid = 0
            for item in by_party[party.code]:
                owed += item.amount
                for day, fen, named in self.payments(party, item, median, share, naming):
                    if day > self.anchor:
                        continue
                    paid += fen
                    if named:
                        rows.append(self._receipt(party, fen, day, item.pid))
                    else:
                        friday = day + timedelta(days=4 - day.weekday())
                        lumps[(party.code, min(friday, self.anchor))] += fen
            if party.profile in ("late", "prompt") and self.rng.random() < 0.08:
                day = self.day_between(self.start, self.anchor)  # money on account
                lumps[(party.code, day)] += self.fen(1_000, 30_000)
            if party.profile in ("prompt", "prepay") and self.rng.random() < 0.3:
                # Paid up and more: an advance for the next order, left as unapplied credit.
                day = self.anchor - timedelta(days=self.rng.randint(0, 20))
                lumps[(party.code, day)] += max(owed - paid, 0) + self.fen(50_000, 500_000, True)
        parties = {p.code: p for p in self.parties}
        for (code, day), fen in sorted(lumps.items()):
            if day <= self.anchor:
                rows.append(self._receipt(parties[code], fen, day, None))
        rows.sort(key=lambda r: (r["received_on"], r["counterparty_id"], r["amount"]))
        for row in rows:
            row["receipt_no"] = self.number("HK", row["received_on"])
        return rows

    def payments(self, party, item, median, share, naming):
        rng = self.rng
        if party.profile == "never":
            day = item.due_on + timedelta(days=rng.randint(30, 300))
            if day < party.stopped_on:  # paid, late and in part, until it stopped paying
                yield day, item.amount * rng.randint(30, 100) // 100, False
            return
        if party.profile == "prepay" and item.item_type == "goods" and rng.random() < 0.6:
            day = item.recognized_on - timedelta(days=rng.randint(3, 30))
            extra = self.fen(1_000, 20_000, True) if rng.random() < 0.05 else 0
            yield day, item.amount + extra, True  # earmarked before delivery
            return
        lateness = max(round(rng.lognormvariate(0, 0.8) * abs(median)), 0)
        if median < 0:
            lateness = -lateness
        if item.item_type in ("retention", "guarantee_deposit") and rng.random() < 0.5:
            lateness += rng.randint(60, 400)  # the last money is the slowest to come
        named = rng.random() < naming
        paid = item.amount if share >= 1 else item.amount * rng.randint(30, 95) // 100
        if rng.random() < 0.1 and share >= 1:
            paid = item.amount * rng.randint(40, 90) // 100  # even good payers leave some open
        parts = 1 if paid < 5_000_000 else rng.choice((1, 1, 2, 3))
        day = max(item.due_on + timedelta(days=lateness), item.recognized_on)
        left = paid
        for n in range(parts):
            fen = left if n == parts - 1 else paid // parts
            left -= fen
            if fen > 0:
                yield day, fen, named
            day += timedelta(days=rng.randint(20, 90))

    def _receipt(self, party: Party, fen: int, day: date, item_pid: int | None) -> dict:
        roll = self.rng.random()
        if party.profile == "never" and roll < 0.3:
            method = "enforcement"
        elif party.profile == "never" and roll < 0.45:
            method = "in_kind"
        elif roll < 0.04:
            method = "offset"
        elif roll < 0.3 and fen >= 10_000_000:
            method = "acceptance_bill"
        else:
            method = "transfer"
        reference = {
            "transfer": f"银行流水 {self.rng.randrange(10**12):012d}",
            "acceptance_bill": f"银承 {self.rng.randrange(10**10):010d}",
            "offset": "三方抵账协议",
            "in_kind": "以物抵债协议",
            "enforcement": f"({day.year})执{self.rng.randint(100, 9999)}号",
        }[method]
        return {
            "receipt_no": None,
            "counterparty_id": party.id,
            "amount": from_fen(fen),
            "received_on": day,
            "method": method,
            "reference": reference,
            "item_id": item_pid,  # provisional until the items have their ids
            "fen": fen,
        }


CONSTRUCTION_TYPES = {
    "advance",
    "progress",
    "settlement",
    "retention",
    "schedule_bonus",
    "quality_bonus",
    "variation_claim",
    "completed_unsettled",
}


# ---------------------------------------------------------------------------------------------
# Allocation, computed here for the whole ledger at once


@dataclass
class PlannedAdjustment:
    item: PlannedItem
    kind: str
    fen: int
    dated_on: date
    reason: str
    status: str  # approved, rejected or proposed


def allocate_ledger(items, receipts, credits: dict[int, int]):
    """rules.allocate per counterparty over the planned documents (provisional ids):
    {counterparty code: [Applied, ...]}."""
    by_party_items: dict[str, list] = defaultdict(list)
    by_party_receipts: dict[int, list] = defaultdict(list)
    for item in items:
        by_party_items[item.party.code].append(
            rules.ItemDoc(
                item.pid,
                item.document_no,
                item.amount,
                item.recognized_on,
                item.due_on,
                credits.get(item.pid, 0),
            )
        )
    for rpid, row in enumerate(receipts, start=1):
        by_party_receipts[row["counterparty_id"]].append(
            rules.ReceiptDoc(
                rpid, row["receipt_no"], row["fen"], row["received_on"], row["item_id"]
            )
        )
    parties = {item.party.code: item.party for item in items}
    return {
        code: rules.allocate(docs, by_party_receipts.get(parties[code].id, []))
        for code, docs in by_party_items.items()
    }


def open_amounts(items, applied: dict[str, list], credits: dict[int, int]) -> dict[int, int]:
    paid: dict[int, int] = defaultdict(int)
    for applications in applied.values():
        for a in applications:
            paid[a.item_id] += a.amount
    return {i.pid: i.amount - credits.get(i.pid, 0) - paid[i.pid] for i in items}


def plan_adjustments(demo: DemoLedger, open_fen: dict[int, int]) -> list[PlannedAdjustment]:
    """Credit notes (quality and price allowances) and write-offs of hopeless old debts; most
    approved by finance, a few refused or still waiting."""
    rng = demo.rng
    cutoff = demo.anchor - timedelta(days=3 * 365)
    planned = []
    for item in demo.items:
        room = open_fen[item.pid]
        if room <= 0:
            continue
        if item.party.profile == "never" and item.recognized_on < cutoff and rng.random() < 0.1:
            kind, fen, reason = "write_off", room, "债务人已停业，经清欠小组确认无法收回"
        elif rng.random() < 0.004:
            kind, fen = "credit_note", room * rng.randint(2, 10) // 100
            reason = rng.choice(("质量折让", "价格调整", "运费减免"))
        else:
            continue
        roll = rng.random()
        status = "approved" if roll < 0.85 else "rejected" if roll < 0.93 else "proposed"
        day = min(demo.anchor, item.recognized_on + timedelta(days=rng.randint(30, 400)))
        if fen > 0:
            planned.append(PlannedAdjustment(item, kind, fen, day, reason, status))
    return planned


# ---------------------------------------------------------------------------------------------
# Loading


def ensure_sales_users(password_for) -> tuple[dict[str, list[int]], list[str]]:
    """The demo sales users per sales department (creating the extra ones that are missing)."""
    created = []
    for username, name, department in EXTRA_SALES_USERS:
        if auth.find_user(username) is None:
            auth.create_user(
                username,
                password_for(username),
                ("sales",),
                display_name=name,
                department=auth.find_department(department),
            )
            created.append(username)
    users: dict[str, list[int]] = {}
    for department in SALES_DEPARTMENTS:
        members = [u for u, _n, d in EXTRA_SALES_USERS if d == department]
        if department == "营销一部":
            members = ["sales", *members]
        users[department] = [auth.find_user(u).id for u in members]
    return users, created


def refresh_planner_statistics() -> None:
    """ANALYZE after a bulk load on PostgreSQL: without statistics the planner takes the fresh
    tables for empty and picks nested loops that make later per-counterparty queries take
    minutes instead of milliseconds (autovacuum would analyze them only later)."""
    if db.session.get_bind().dialect.name == "postgresql":
        for table in ("counterparties", "items", "receipts", "applications", "adjustments"):
            db.session.execute(sa.text(f"ANALYZE {table}"))


def load_ledger(
    anchor: date | None = None,
    scale: float = 1.0,  # float-ok: a count multiplier, not money
    finance_username: str = "finance",
) -> Summary:
    """Fill an empty ledger with the demo data (nothing when the ledger holds anything).

    The faster path, and why it is safe: rather than inserting the documents and replaying
    ``services.reallocate`` per counterparty (about 50 s on PostgreSQL), the applications are
    computed here by the same ``rules.allocate`` over the same documents, and the items are
    written with the open amount and last movement date ``reallocate`` would give them
    (tests/test_demo_ledger.py replays every counterparty and checks that nothing changes).
    """
    from recovery.demo.services import demo_password

    summary = Summary()
    if not ledger_is_empty():
        summary.skipped = "the ledger already holds counterparties or items"
        return summary
    anchor = anchor or date.today()
    users, summary.users = ensure_sales_users(demo_password)
    departments = {name: auth.find_department(name).id for name in SALES_DEPARTMENTS}
    demo = DemoLedger(anchor, Scale().scaled(scale), users, departments)

    # Counterparties, projects and contracts: a few hundred rows, through the ORM (audited).
    counterparties = demo.build_parties()
    db.session.add_all(counterparties)
    db.session.flush()
    for party, counterparty in zip(demo.parties, counterparties, strict=True):
        party.id = counterparty.id
    employers = [p for p in demo.parties if p.kind == "employer"]
    projects = demo.build_projects(employers)
    db.session.add_all([project for project, _c, _p in projects])
    db.session.flush()
    for project, contract, _plan in projects:
        contract.project_id = project.id
    trade = demo.build_trade_contracts()
    db.session.add_all([c for _p, c, _plan in projects] + [c for c, _party in trade])
    db.session.flush()

    # The documents, planned in memory.
    trade_by_party = {party.code: (c.id, c.reviewed, c.signer_id) for c, party in trade}
    for party in demo.parties:
        if party.kind != "employer":
            demo.trade_items(party, trade_by_party.get(party.code))
    for project, contract, plan in projects:
        demo.construction_items(
            project.id, contract.id, contract.reviewed, contract.signer_id, plan
        )
    for party in employers:  # the odd guarantee or deposit outside a project
        if demo.rng.random() < 0.3:
            day = demo.day_between(demo.start, anchor)
            demo.add_item(
                party, "guarantee_deposit", demo.fen(50_000, 500_000, True), day,
                day + timedelta(days=365),
            )  # fmt: skip
    receipt_rows = demo.receipts()

    # Allocation without credits shows what is open; the adjustments are planned on that,
    # then allocation runs again with the approved ones (as approving them would replay it).
    first = allocate_ledger(demo.items, receipt_rows, {})
    adjustments = plan_adjustments(demo, open_amounts(demo.items, first, {}))
    credits: dict[int, int] = defaultdict(int)
    for adj in adjustments:
        if adj.status == "approved":
            credits[adj.item.pid] += adj.fen
    applied = allocate_ledger(demo.items, receipt_rows, credits)
    open_fen = open_amounts(demo.items, applied, credits)
    last: dict[int, date] = {}
    for applications in applied.values():
        for a in applications:
            last[a.item_id] = max(last.get(a.item_id, a.applied_on), a.applied_on)
    for adj in adjustments:
        if adj.status == "approved":
            pid = adj.item.pid
            last[pid] = max(last.get(pid, adj.dated_on), adj.dated_on)

    item_rows = [
        {
            "document_no": i.document_no,
            "counterparty_id": i.party.id,
            "project_id": i.project_id,
            "contract_id": i.contract_id,
            "item_type": i.item_type,
            "category": category_of(i.item_type),
            "amount": from_fen(i.amount),
            "recognized_on": i.recognized_on,
            "due_on": i.due_on,
            "department_id": departments[i.department],
            "responsible_id": i.responsible,
            "description": i.description,
            "open_amount": from_fen(open_fen[i.pid]),
            "last_movement_on": last.get(i.pid),
        }
        for i in demo.items
    ]
    item_id = dict(
        zip(
            (i.pid for i in demo.items),
            insert_with_audit(Item.__table__, item_rows, "document_no"),
            strict=True,
        )
    )
    for row in receipt_rows:
        if row["item_id"] is not None:
            row["item_id"] = item_id[row["item_id"]]
    for row in receipt_rows:
        del row["fen"]
    receipt_id = insert_with_audit(Receipt.__table__, receipt_rows, "receipt_no")
    parties = {p.code: p.id for p in demo.parties}
    application_rows = [
        {
            "counterparty_id": parties[code],
            "receipt_id": receipt_id[a.receipt_id - 1],
            "item_id": item_id[a.item_id],
            "amount": from_fen(a.amount),
            "applied_on": a.applied_on,
        }
        for code, applications in applied.items()
        for a in applications
    ]
    insert_rows(Application.__table__, application_rows)  # derived rows: not audited
    ledger_services.refresh_unapplied_sql(parties.values())  # each receipt's unapplied amount

    # Adjustments: documents of their own, through the ORM (audited), decided by finance.
    finance = auth.find_user(finance_username)
    decided_at = datetime.combine(anchor, time(9, 30))
    for n, adj in enumerate(adjustments, start=1):
        fen = min(adj.fen, open_fen[adj.item.pid]) if adj.status != "approved" else adj.fen
        if fen <= 0:
            continue
        decided = adj.status != "proposed"
        db.session.add(
            Adjustment(
                number=f"TZ{adj.dated_on.year}{n:05d}",
                item_id=item_id[adj.item.pid],
                kind=adj.kind,
                amount=from_fen(fen),
                dated_on=adj.dated_on,
                reason=adj.reason,
                status=adj.status,
                proposed_by_id=adj.item.responsible,
                decided_by_id=finance.id if decided else None,
                decided_at=decided_at if decided else None,
                decision_note={"approved": "同意", "rejected": "证据不足"}.get(adj.status),
            )
        )
        summary.adjustments += 1
    db.session.flush()
    refresh_planner_statistics()

    summary.counterparties = len(counterparties)
    summary.projects = len(projects)
    summary.contracts = len(projects) + len(trade)
    summary.items = len(item_rows)
    summary.receipts = len(receipt_rows)
    summary.applications = len(application_rows)
    return summary
