"""Every business setting: its key, type, default and meaning. Pure, no database.

Values are stored as text and parsed here; money and rates are Decimal, never float.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l


class SettingValueError(ValueError):
    """A value that does not fit its setting; the message says why (translated)."""


@dataclass(frozen=True)
class SettingSpec:
    key: str
    group: object
    label: object
    kind: str  # int | decimal | money | time | text | choice | decimal_list | int_list
    default: str
    help: object = ""
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    choices: tuple[tuple[str, object], ...] = ()
    list_length: int | None = None


G_SERVICE = _l("Service levels")
G_CONDUCT = _l("Collection conduct")
G_LEDGER = _l("Interest and provisions")
G_LIMITATION = _l("Limitation and letters")
G_CASES = _l("Recovery cases")
G_COMPANY = _l("Company and letterhead")
G_REWARDS = _l("Rewards and penalties")

SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "service.assign_working_days",
        G_SERVICE,
        _l("Assign an imported case within (working days)"),
        "int",
        "1",
        minimum=Decimal(0),
        maximum=Decimal(30),
    ),
    SettingSpec(
        "service.first_action_hours",
        G_SERVICE,
        _l("First action after assignment within (hours)"),
        "int",
        "2",
        minimum=Decimal(1),
        maximum=Decimal(240),
    ),
    SettingSpec(
        "service.visit_working_days",
        G_SERVICE,
        _l("Field visit after hand-over within (working days)"),
        "int",
        "2",
        minimum=Decimal(1),
        maximum=Decimal(30),
    ),
    SettingSpec("conduct.contact_from", G_CONDUCT, _l("Contact allowed from"), "time", "08:00"),
    SettingSpec("conduct.contact_until", G_CONDUCT, _l("Contact allowed until"), "time", "22:00"),
    SettingSpec(
        "conduct.max_calls_per_day",
        G_CONDUCT,
        _l("Connected calls per debtor per day, at most"),
        "int",
        "3",
        minimum=Decimal(1),
        maximum=Decimal(20),
    ),
    SettingSpec(
        "interest.default_annual_rate",
        G_LEDGER,
        _l("Default overdue rate (annual %, where the contract states none)"),
        "decimal",
        "4.65",
        _l("Courts use the one-year LPR at the time of breach plus 30–50 %."),
        minimum=Decimal(0),
        maximum=Decimal(100),
    ),
    SettingSpec(
        "interest.day_count",
        G_LEDGER,
        _l("Interest day count"),
        "choice",
        "actual/365",
        choices=(("actual/365", _l("Actual/365")), ("actual/360", _l("Actual/360"))),
    ),
    SettingSpec(
        "legal.delay_rate_per_day",
        G_LEDGER,
        _l("Doubled interest for delayed performance after a judgment (% a day)"),
        "decimal",
        "0.0175",
        _l(
            "0.0175 % a day (日万分之一点七五) on the unpaid principal after the performance "
            "deadline, per the Supreme People's Court's 《关于执行程序中计算迟延履行期间的债务利息"
            "适用法律若干问题的解释》 (法释〔2014〕8号), art. 1. Change it only when that rule "
            "changes: every lawsuit's figures are computed with the rate in force, from then on."
        ),
        minimum=Decimal("0.0001"),
        maximum=Decimal("0.1"),
    ),
    SettingSpec(
        "provision.rates",
        G_LEDGER,
        _l("Expected-loss rate per account age: <1, 1–2, 2–3, 3–4, 4–5, >5 years (%)"),
        "decimal_list",
        "5,10,15,30,50,100",
        minimum=Decimal(0),
        maximum=Decimal(100),
        list_length=6,
    ),
    SettingSpec(
        "limitation.warning_days",
        G_LIMITATION,
        _l("Warn before limitation expires (days, comma-separated)"),
        "int_list",
        "180,90,30",
        minimum=Decimal(1),
        maximum=Decimal(1095),
    ),
    SettingSpec(
        "letters.formal_demand_days",
        G_LIMITATION,
        _l("Formal demand with interest from (days overdue)"),
        "int",
        "31",
        minimum=Decimal(1),
        maximum=Decimal(3650),
    ),
    SettingSpec(
        "letters.final_demand_days",
        G_LIMITATION,
        _l("Final demand before legal action from (days overdue)"),
        "int",
        "91",
        minimum=Decimal(1),
        maximum=Decimal(3650),
    ),
    SettingSpec(
        "letters.deadline_days",
        G_LIMITATION,
        _l("Demand letters: pay within (days after the letter date)"),
        "int",
        "15",
        minimum=Decimal(1),
        maximum=Decimal(365),
    ),
    SettingSpec(
        "cases.propose_overdue_amount",
        G_CASES,
        _l("Propose a recovery case when overdue exceeds (CNY)"),
        "money",
        "100000.00",
        minimum=Decimal(0),
    ),
    SettingSpec(
        "cases.propose_overdue_days",
        G_CASES,
        _l("Propose a recovery case when overdue longer than (days)"),
        "int",
        "90",
        minimum=Decimal(1),
        maximum=Decimal(3650),
    ),
    SettingSpec(
        "cases.leader_amount",
        G_CASES,
        _l("A leader is also responsible above (CNY)"),
        "money",
        "1000000.00",
        minimum=Decimal(0),
    ),
    SettingSpec(
        "cases.leader_days",
        G_CASES,
        _l("A leader is also responsible when overdue longer than (days)"),
        "int",
        "365",
        minimum=Decimal(1),
        maximum=Decimal(3650),
    ),
    # Rewards and penalties (考核奖罚): the rule of the proposed lists (docs/targets.md).
    SettingSpec(
        "rewards.bonus_unit",
        G_REWARDS,
        _l("Bonus: for every full amount recovered above target of (CNY)"),
        "money",
        "10000.00",
        minimum=Decimal("0.01"),
    ),
    SettingSpec(
        "rewards.bonus_per_unit",
        G_REWARDS,
        _l("Bonus per full amount above target (CNY; 0: no bonus)"),
        "money",
        "100.00",
        minimum=Decimal(0),
    ),
    SettingSpec(
        "rewards.threshold_percent",
        G_REWARDS,
        _l("Deduction when completion of the recovery target is below (%)"),
        "decimal",
        "80",
        minimum=Decimal(0),
        maximum=Decimal(100),
    ),
    SettingSpec(
        "rewards.below_threshold_deduction",
        G_REWARDS,
        _l("Deduction below that completion (CNY; 0: none)"),
        "money",
        "500.00",
        minimum=Decimal(0),
    ),
    SettingSpec(
        "rewards.broken_promise_deduction",
        G_REWARDS,
        _l("Deduction per broken promise to pay (CNY; 0: none)"),
        "money",
        "50.00",
        minimum=Decimal(0),
    ),
    # How long the dashboard keeps its computed figures (docs/kpis.md, Speed: cache).
    SettingSpec(
        "dashboard.cache_seconds",
        _l("Executive dashboard"),
        _l("Keep the dashboard's computed figures for (seconds; 0: compute on every visit)"),
        "int",
        "60",
        minimum=Decimal(0),
        maximum=Decimal(3600),
    ),
    # Credit control (停止供货, 第二十五、二十六条): the hold rules, each can be switched off
    # (docs/credit.md). A change submits the job that re-evaluates every counterparty's hold.
    SettingSpec(
        "credit.overdue_days_rule",
        _l("Credit control"),
        _l("Hold: an item overdue longer than the days below"),
        "choice",
        "on",
        choices=(("on", _l("On")), ("off", _l("Off"))),
    ),
    SettingSpec(
        "credit.overdue_days",
        _l("Credit control"),
        _l("Hold when an item is overdue longer than (days)"),
        "int",
        "90",
        minimum=Decimal(0),
        maximum=Decimal(3650),
    ),
    SettingSpec(
        "credit.overdue_amount_rule",
        _l("Credit control"),
        _l("Hold: overdue amount above the amount below"),
        "choice",
        "on",
        choices=(("on", _l("On")), ("off", _l("Off"))),
    ),
    SettingSpec(
        "credit.overdue_amount",
        _l("Credit control"),
        _l("Hold when the overdue amount exceeds (CNY; 0: any overdue debt)"),
        "money",
        "0.00",
        minimum=Decimal(0),
    ),
    SettingSpec(
        "credit.exposure_rule",
        _l("Credit control"),
        _l("Hold: exposure above the counterparty's or its group's credit limit"),
        "choice",
        "on",
        choices=(("on", _l("On")), ("off", _l("Off"))),
    ),
    SettingSpec(
        "credit.lawsuit_rule",
        _l("Credit control"),
        _l("Hold: a lawsuit against the counterparty is open"),
        "choice",
        "on",
        choices=(("on", _l("On")), ("off", _l("Off"))),
    ),
    SettingSpec(
        "credit.broken_promise_rule",
        _l("Credit control"),
        _l("Hold: a promise to pay broken in the last days below"),
        "choice",
        "on",
        choices=(("on", _l("On")), ("off", _l("Off"))),
    ),
    SettingSpec(
        "credit.broken_promise_days",
        _l("Credit control"),
        _l("Hold after a broken promise to pay for (days)"),
        "int",
        "90",
        minimum=Decimal(1),
        maximum=Decimal(3650),
    ),
    SettingSpec(
        "company.name", G_COMPANY, _l("Company name on letters"), "text", "示例集团有限公司"
    ),
    SettingSpec("company.address", G_COMPANY, _l("Company address"), "text", ""),
    SettingSpec(
        "retention.years",
        G_COMPANY,
        _l("Keep a closed counterparty's records for (years after the agreement ended)"),
        "int",
        "5",
        minimum=Decimal(1),
        maximum=Decimal(30),
    ),
    SettingSpec("company.phone", G_COMPANY, _l("Telephone printed on letters"), "text", ""),
    SettingSpec(
        "company.payment_account",
        G_COMPANY,
        _l("Payment account printed on demand letters"),
        "text",
        "",
    ),
    # The JSON API (docs/api.md): how long the answer to a write sent with an
    # Idempotency-Key is kept; after that a replay is a new request and the key may be purged.
    SettingSpec(
        "api.idempotency_hours",
        _l("JSON API"),
        _l("Keep the answers to API writes with an Idempotency-Key for (hours)"),
        "int",
        "24",
        minimum=Decimal(1),
        maximum=Decimal(8760),
    ),
)

SPECS_BY_KEY = {spec.key: spec for spec in SPECS}

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise SettingValueError(_l("Enter a number.")) from exc
    if not value.is_finite():
        raise SettingValueError(_l("Enter a number."))
    return value


def _bounded(spec: SettingSpec, value: Decimal) -> Decimal:
    if spec.minimum is not None and value < spec.minimum:
        raise SettingValueError(_l("Must be at least %(n)s.", n=spec.minimum))
    if spec.maximum is not None and value > spec.maximum:
        raise SettingValueError(_l("Must be at most %(n)s.", n=spec.maximum))
    return value


def parse(spec: SettingSpec, text: str):
    """Parse stored or typed text into the setting's value; raise SettingValueError."""
    text = (text or "").strip()
    if spec.kind == "text":
        if len(text) > 500:
            raise SettingValueError(_l("At most 500 characters."))
        return text
    if not text:
        raise SettingValueError(_l("A value is required."))
    if spec.kind == "int":
        if not re.fullmatch(r"-?\d+", text):
            raise SettingValueError(_l("Enter a whole number."))
        return int(_bounded(spec, Decimal(text)))
    if spec.kind == "decimal":
        value = _bounded(spec, _decimal(text))
        if value.as_tuple().exponent < -4:
            raise SettingValueError(_l("At most four decimal places."))
        return value
    if spec.kind == "money":
        value = _bounded(spec, _decimal(text))
        if value.as_tuple().exponent < -2:
            raise SettingValueError(_l("At most two decimal places (fen)."))
        return value.quantize(Decimal("0.01"))
    if spec.kind == "time":
        match = _TIME.match(text)
        if not match:
            raise SettingValueError(_l("Enter a time as HH:MM."))
        return time(int(match.group(1)), int(match.group(2)))
    if spec.kind == "choice":
        allowed = [code for code, _label in spec.choices]
        if text not in allowed:
            raise SettingValueError(_l("Choose one of: %(options)s.", options=", ".join(allowed)))
        return text
    if spec.kind in {"decimal_list", "int_list"}:
        parts = [part.strip() for part in text.replace("，", ",").split(",")]
        if any(not part for part in parts):
            raise SettingValueError(_l("Separate the values with commas."))
        if spec.list_length is not None and len(parts) != spec.list_length:
            raise SettingValueError(_l("Enter exactly %(n)s values.", n=spec.list_length))
        if spec.kind == "int_list":
            if not all(re.fullmatch(r"\d+", part) for part in parts):
                raise SettingValueError(_l("Enter whole numbers."))
            return [int(_bounded(spec, Decimal(part))) for part in parts]
        return [_bounded(spec, _decimal(part)) for part in parts]
    raise SettingValueError(f"unknown setting kind {spec.kind}")


def canonical(spec: SettingSpec, value) -> str:
    """The text stored for a parsed value."""
    if spec.kind == "time":
        return value.strftime("%H:%M")
    if spec.kind in {"decimal_list", "int_list"}:
        return ",".join(str(v) for v in value)
    return str(value)
