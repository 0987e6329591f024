"""What can be wrong with an import file: one code per reason, one English sentence per code.

An ``Issue`` carries the code and its parameters, not the sentence: it is stored in a job's
result as JSON and rendered in the reader's language when shown (the command line shows
English). Sentences with parameters use %(name)s; a literal percent sign is written %%.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from flask_babel import lazy_gettext as _l

MESSAGES = {
    # The file as a whole
    "bad_extension": _l("Only .csv and .xlsx files can be imported."),
    "not_utf8": _l(
        "The file is not UTF-8 text (the first bad byte is near this row). In Excel, save it "
        'as "CSV UTF-8 (comma delimited)" and import it again.'
    ),
    "not_csv": _l("The file cannot be read as CSV: %(detail)s."),
    "not_xlsx": _l("The file is not a readable XLSX workbook (Excel 2007 or later)."),
    "empty_file": _l("The file is empty."),
    "no_rows": _l("The file has a header row but no data rows."),
    # The header row
    "unknown_column": _l("Unknown column. The columns of this file are: %(expected)s."),
    "missing_column": _l("A required column is missing."),
    "duplicate_column": _l("This column appears twice (also column %(other)s)."),
    "blank_header": _l("A column without a header, before other columns."),
    "cell_without_header": _l("This cell is in a column without a header."),
    # One cell
    "required": _l("A value is required."),
    "nul_character": _l("The value holds a NUL character: the file is probably not text."),
    "too_long": _l("At most %(n)s characters."),
    "bad_date": _l("Not a date: write it as YYYY-MM-DD or YYYY/M/D."),
    "impossible_date": _l("There is no such date."),
    "date_range": _l("The year must be between 1900 and 2100."),
    "date_with_time": _l("A date without a time of day is expected."),
    "amount_not_number": _l("Not an amount: write a number such as 1234.50."),
    "amount_negative": _l("The amount cannot be negative."),
    "amount_zero": _l("The amount cannot be zero."),
    "amount_precision": _l("An amount has at most two decimals (fen)."),
    "amount_too_large": _l("The amount is too large."),
    "rate_not_number": _l("Not a rate: write an annual percentage such as 6 or 6.5."),
    "rate_range": _l("The rate must be between 0 and 100 %%."),
    "rate_precision": _l("A rate has at most four decimals."),
    "unknown_item_type": _l("Unknown item type. Use a code (%(examples)s, …) or its Chinese name."),
    "unknown_kind": _l("Unknown counterparty kind. Use %(examples)s or their Chinese names."),
    "unknown_method": _l("Unknown receipt method. Use %(examples)s or their Chinese names."),
    "due_before_recognized": _l("The due date is before the recognition date."),
    "unknown_adjustment_kind": _l(
        "Unknown kind. Use credit_note or write_off, or their Chinese names (%(examples)s)."
    ),
    # Rows that disagree with each other
    "duplicate_number": _l(
        "This number appears more than once in the file (first on row %(row)s)."
    ),
    "counterparty_name_conflict": _l("Row %(row)s gives this counterparty another name."),
    "counterparty_kind_conflict": _l("Row %(row)s gives this counterparty another kind."),
    "project_name_conflict": _l("Row %(row)s gives this project another name."),
    "contract_counterparty_conflict": _l(
        "Row %(row)s puts this contract under another counterparty."
    ),
    "contract_project_conflict": _l("Row %(row)s puts this contract under another project."),
    # Rows that disagree with the database
    "new_counterparty_needs_name": _l("A new counterparty needs a name (counterparty_name)."),
    "unknown_department": _l("No department has this name."),
    "unknown_user": _l("No user has this username."),
    "contract_of_other_counterparty": _l("This contract belongs to counterparty %(code)s."),
    "document_of_other_counterparty": _l(
        "This document belongs to counterparty %(code)s; a document cannot move to another "
        "counterparty (correct it on its page)."
    ),
    "below_credits": _l(
        "The amount cannot be less than the approved credit notes and write-offs (%(amount)s)."
    ),
    "unknown_counterparty": _l("No counterparty has this code; import its items first."),
    "unknown_item": _l("No item has this document number."),
    "item_of_other_counterparty": _l(
        "This item belongs to counterparty %(code)s, not to the receipt's."
    ),
    "dated_before_recognition": _l("The date is before the item was recognised (%(date)s)."),
    "adjustment_exceeds_open": _l(
        "Only %(amount)s of this item is open; the adjustment cannot exceed it (import credit "
        "notes and write-offs before the receipts that would pay the rest)."
    ),
    "adjustment_of_other_item": _l(
        "This credit note or write-off is on item %(document_no)s; it cannot move to another item."
    ),
    "adjustment_decided": _l(
        "This credit note or write-off was already approved or rejected: it cannot change any more."
    ),
}


@dataclass
class Issue:
    """One thing wrong with the file: where (row as in the spreadsheet, the header being row 1;
    the column as written in the file), the value found, and why (a code of MESSAGES)."""

    row: int | None
    column: str | None
    value: str
    code: str
    params: dict = field(default_factory=dict)

    @property
    def reason(self) -> str:
        """The sentence, in the current language."""
        return str(MESSAGES[self.code]) % self.params

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Issue:
        return cls(**data)

    def line(self) -> str:
        """The command line's form: row N, column C, value 'V': reason"""
        if self.row is None:
            return f"file: {self.reason}"
        return f"row {self.row}, column {self.column or '-'}, value '{self.value}': {self.reason}"


class FileRefused(Exception):
    """The file cannot be read at all (encoding, format, empty): nothing else can be checked."""

    def __init__(self, issue: Issue):
        super().__init__(issue.code)
        self.issue = issue
