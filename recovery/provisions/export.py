"""The export finance posts from: the lines (one per counterparty and department), the
disclosure by bucket and the journal summary. Column names are fixed (docs/provisions.md):
English codes, or the Chinese names with ``language="zh"``.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l

from recovery.core.money import ZERO, format_amount
from recovery.monthly.workbook import Sheet, write_workbook
from recovery.provisions.services import BUCKETS, Movement

BUCKET_ZH = {
    "y0_1": "1年以内",
    "y1_2": "1至2年",
    "y2_3": "2至3年",
    "y3_4": "3至4年",
    "y4_5": "4至5年",
    "y5_plus": "5年以上",
}

# (code, Chinese name) of each column of the lines export, in order.
LINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("counterparty_code", "客户编码"),
    ("counterparty_name", "客户名称"),
    ("department", "部门"),
    ("outstanding", "应收余额"),
    *((b, f"账龄{BUCKET_ZH[b]}") for b in BUCKETS),
    *((f"rate_{b}", f"{BUCKET_ZH[b]}计提比例%") for b in BUCKETS),
    ("matrix_provision", "账龄组合计提金额"),
    ("specific_basis", "单项计提依据"),
    ("specific_provision", "单项计提金额"),
    ("total_provision", "坏账准备期末余额"),
    ("previous_provision", "坏账准备期初余额"),
    ("written_off", "本期核销"),
    ("movement", "本期变动"),
    ("charge", "本期计提(转回)"),
)
JOURNAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("entry", "分录"),
    ("account", "科目"),
    ("debit", "借方"),
    ("credit", "贷方"),
    ("note", "说明"),
)
BUCKET_SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("group", "类别"),
    ("bucket", "账龄"),
    ("balance", "账面余额"),
    ("rate", "计提比例%"),
    ("provision", "坏账准备"),
)

# The accounts of the Chinese chart (企业会计准则应用指南): names as posted.
LOSS_ACCOUNT = "信用减值损失"
PROVISION_ACCOUNT = "坏账准备"
RECEIVABLE_ACCOUNT = "应收账款"


def columns(spec, language: str) -> list[str]:
    return [zh if language == "zh" else code for code, zh in spec]


def specific_basis(line) -> str:
    """How a line's specific provision is assessed: "80%" or "fixed 50000.00"; "" for none."""
    terms = line.specific if line is not None else None
    if terms is None:
        return ""
    if terms.method == "rate":
        return f"{format(terms.rate.normalize(), 'f')}%"
    return f"fixed {format_amount(terms.amount)}"


def line_rows(result: Movement) -> list[list]:
    rates = result.matrix.rates
    rows = []
    for row in result.lines:
        line = row.line
        buckets = [line.buckets[b] if line else ZERO for b in BUCKETS]
        rows.append(
            [
                row.counterparty_code,
                row.counterparty_name,
                row.department_name,
                line.outstanding if line else ZERO,
                *buckets,
                *(rates[b] for b in BUCKETS),
                line.matrix_provision if line else ZERO,
                specific_basis(line),
                line.specific_provision if line and line.specific_provision is not None else None,
                row.closing,
                row.previous,
                row.written_off,
                row.movement,
                row.charge,
            ]
        )
    return rows


def journal_rows(result: Movement, language: str) -> list[list]:
    """The entries to post for the period (nothing when there is no charge or release)."""
    english = language != "zh"

    def account(name: str, english_name: str) -> str:
        return f"{name} {english_name}" if english else name

    loss = account(LOSS_ACCOUNT, "Credit impairment loss")
    provision = account(PROVISION_ACCOUNT, "Bad-debt provision")
    receivable = account(RECEIVABLE_ACCOUNT, "Accounts receivable")
    rows = []
    charge = result.charge
    if charge > 0:
        note = "Charge for the period" if english else "本期计提"
        rows += [[1, loss, charge, None, note], [1, provision, None, charge, note]]
    elif charge < 0:
        note = "Release for the period" if english else "本期转回"
        rows += [[1, provision, -charge, None, note], [1, loss, None, -charge, note]]
    if result.written_off:
        note = (
            "Write-offs of the period: posted with each write-off, shown to reconcile"
            if english
            else "本期核销：已随各核销单过账，仅供核对"
        )
        amount = result.written_off
        rows += [[2, provision, amount, None, note], [2, receivable, None, amount, note]]
    return rows


def reconciliation_rows(result: Movement, language: str) -> list[list]:
    english = language != "zh"
    labels = (
        ("Opening provision", "期初余额"),
        ("Used by write-offs", "本期核销"),
        ("Charge (release) for the period", "本期计提(转回)"),
        ("Closing provision", "期末余额"),
    )
    values = (result.opening, -result.written_off, result.charge, result.closing)
    return [
        [label if english else zh, value] for (label, zh), value in zip(labels, values, strict=True)
    ]


def bucket_rows(result: Movement, language: str) -> list[list]:
    """The disclosure: individually assessed, then the matrix bucket by bucket, then total."""
    english = language != "zh"
    current = result.matrix
    individual = "Individually assessed" if english else "单项计提"
    collective = "Collectively, by account age" if english else "按账龄组合计提"
    rows: list[list] = [
        [individual, "", current.specific_outstanding, None, current.specific_provision]
    ]
    for summary in current.collective_buckets():
        rows.append(
            [collective, summary.bucket if english else BUCKET_ZH[summary.bucket], summary.balance,
             summary.rate, summary.provision]
        )  # fmt: skip
    rows.append(
        ["Total" if english else "合计", "", current.outstanding, None, current.total_provision]
    )
    return rows


def workbook(result: Movement, language: str) -> bytes:
    """XLSX: lines, the disclosure by bucket, the journal summary with its reconciliation."""
    as_of = result.matrix.as_of.isoformat()
    opening = result.opening_run.as_of.isoformat() if result.opening_run else "—"
    header = (
        f"Provision as of {as_of}; opening: closed period {opening}"
        if language != "zh"
        else f"坏账准备 截至 {as_of}；期初：已结账期间 {opening}"
    )
    journal = Sheet(
        "journal",
        columns(JOURNAL_COLUMNS, language),
        journal_rows(result, language),
        notes=[header],
    )
    journal_reconciliation = Sheet(
        "reconciliation",
        ["item", "amount"] if language != "zh" else ["项目", "金额"],
        reconciliation_rows(result, language),
        notes=[header],
    )
    return write_workbook(
        [
            Sheet("lines", columns(LINE_COLUMNS, language), line_rows(result), notes=[header]),
            Sheet(
                "buckets",
                columns(BUCKET_SUMMARY_COLUMNS, language),
                bucket_rows(result, language),
                notes=[header],
            ),
            journal,
            journal_reconciliation,
        ]
    )


def percent(value: Decimal | None) -> str:
    return "" if value is None else f"{format(value.normalize(), 'f')}%"


EXPORT_PARTS = {"lines": _l("Lines"), "journal": _l("Journal summary")}
