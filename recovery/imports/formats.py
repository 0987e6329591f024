"""The three file formats (items, receipts, adjustments): their columns in English and Chinese.

The English names are the contract (commands, exports, external checks); each column also has
Chinese names, the first of which is the one exports write. Both are accepted on import, in
any order, any mix, with surrounding spaces and any letter case.
"""

from __future__ import annotations

from dataclasses import dataclass

from recovery.imports.messages import Issue


@dataclass(frozen=True)
class Column:
    name: str
    chinese: tuple[str, ...]
    required: bool = False  # the column must be in the header (its cells may still be blank)
    max_length: int | None = None

    @property
    def chinese_name(self) -> str:
        return self.chinese[0]


ITEM_COLUMNS: tuple[Column, ...] = (
    Column("counterparty_code", ("客户编码", "债务人编码", "往来单位编码"), True, 64),
    Column("counterparty_name", ("客户名称", "债务人名称", "往来单位名称"), False, 200),
    Column("counterparty_kind", ("客户类型", "债务人类型"), False),
    Column("project_code", ("项目编码",), False, 64),
    Column("project_name", ("项目名称",), False, 200),
    Column("contract_no", ("合同编号", "合同号"), False, 64),
    Column("document_no", ("单据号", "单据编号"), True, 64),
    Column("item_type", ("款项类型",), True),
    Column("amount", ("金额",), True),
    Column("recognized_on", ("入账日期", "入账日"), True),
    Column("due_on", ("约定付款日", "到期日"), True),
    Column("department", ("部门", "责任部门"), False, 100),
    Column("responsible", ("第一责任人", "责任人"), False, 64),
    Column("overdue_rate", ("逾期利率", "逾期利率(年%)", "逾期年利率"), False),
)

RECEIPT_COLUMNS: tuple[Column, ...] = (
    Column("receipt_no", ("回款单号", "回款编号"), True, 64),
    Column("counterparty_code", ("客户编码", "债务人编码", "往来单位编码"), True, 64),
    Column("amount", ("金额", "回款金额"), True),
    Column("received_on", ("回款日期",), True),
    Column("method", ("回款方式",), False),
    Column("document_no", ("单据号", "对应单据号"), False, 64),
    Column("reference", ("参考号", "备注"), False, 200),
)

# Credit notes and write-offs (核销) of items: imported as proposals awaiting a finance user's
# approval; exported when approved.
ADJUSTMENT_COLUMNS: tuple[Column, ...] = (
    Column("number", ("核销单号", "调整单号", "单号"), True, 64),
    Column("document_no", ("单据号", "对应单据号"), True, 64),
    Column("kind", ("类型", "调整类型"), True),
    Column("amount", ("金额", "核销金额"), True),
    Column("dated_on", ("日期", "核销日期"), True),
    Column("reason", ("原因", "事由"), True, 500),
)

FORMATS = {"items": ITEM_COLUMNS, "receipts": RECEIPT_COLUMNS, "adjustments": ADJUSTMENT_COLUMNS}


def headers(kind: str, language: str = "en") -> list[str]:
    """The header row exports write: the English names, or the first Chinese names."""
    columns = FORMATS[kind]
    if language == "zh":
        return [c.chinese_name for c in columns]
    return [c.name for c in columns]


def _normalise(text: str) -> str:
    text = text.replace("\ufeff", "").strip().lower()
    text = text.replace("（", "(").replace("）", ")").replace("％", "%")
    return "".join(text.split()).replace("-", "_")


def _lookup(kind: str) -> dict[str, Column]:
    table = {}
    for column in FORMATS[kind]:
        table[_normalise(column.name)] = column
        table[_normalise(column.name.replace("_", " "))] = column
        for name in column.chinese:
            table[_normalise(name)] = column
    return table


def excel_column(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (to name a header cell that has no text)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass
class Header:
    """Where each known column is, and what the file calls it (errors name it that way)."""

    positions: dict[str, int]
    labels: dict[str, str]
    width: int


def map_header(kind: str, cells: list) -> tuple[Header, list[Issue]]:
    """Match the header row's cells to the columns of ``kind``; report every problem."""
    table = _lookup(kind)
    texts = ["" if c is None else str(c).strip() for c in cells]
    while texts and not texts[-1]:
        texts.pop()
    issues: list[Issue] = []
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    expected = ", ".join(c.name for c in FORMATS[kind])
    for index, text in enumerate(texts):
        if not text:
            issues.append(Issue(1, excel_column(index), "", "blank_header"))
            continue
        column = table.get(_normalise(text))
        if column is None:
            issues.append(Issue(1, text, text, "unknown_column", {"expected": expected}))
            continue
        if column.name in positions:
            other = labels[column.name]
            issues.append(Issue(1, text, text, "duplicate_column", {"other": other}))
            continue
        positions[column.name] = index
        labels[column.name] = text
    for column in FORMATS[kind]:
        if column.required and column.name not in positions:
            wanted = f"{column.name} / {column.chinese_name}"
            issues.append(Issue(1, wanted, "", "missing_column"))
    return Header(positions, labels, len(texts)), issues
