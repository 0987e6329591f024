"""The ledger's vocabularies: item types and categories, counterparty kinds, receipt methods.

Codes are the contract (files, commands, API); the Chinese names of DOMAIN §2 are accepted
wherever a code is, and so are the English labels. Pure: no Flask app, no database.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Code:
    code: str
    label: object  # translated label for the UI
    chinese: tuple[str, ...]  # accepted Chinese names, the first is the canonical one
    category: str | None = None


AR = "accounts_receivable"
OTHER = "other_receivable"
UNSETTLED = "completed_unsettled"

CATEGORIES = {
    AR: Code(AR, _l("Accounts receivable"), ("应收账款",)),
    OTHER: Code(OTHER, _l("Other receivables"), ("其他应收款",)),
    UNSETTLED: Code(UNSETTLED, _l("Completed, not yet settled"), ("已完工未结算款",)),
}

ITEM_TYPES = {
    c.code: c
    for c in (
        Code("advance", _l("Advance payment"), ("预付款",), AR),
        Code("progress", _l("Progress payment"), ("进度款",), AR),
        Code("settlement", _l("Settlement payment"), ("结算款",), AR),
        Code("retention", _l("Retention"), ("保修金", "质保金", "保修金/质保金"), AR),
        Code("schedule_bonus", _l("Schedule bonus"), ("工期奖",), AR),
        Code("quality_bonus", _l("Quality bonus"), ("质量奖",), AR),
        Code("variation_claim", _l("Variations and claims"), ("变更签证索赔",), AR),
        Code("goods", _l("Goods (machines)"), ("主机货款",), AR),
        Code("parts", _l("Parts"), ("配件款",), AR),
        Code("freight", _l("Freight advanced"), ("代垫运输费",), AR),
        Code("warehouse_financing", _l("Warehouse-financing advance"), ("保兑仓垫款",), AR),
        Code("repurchase", _l("Repurchase advances"), ("回购及垫付款",), AR),
        Code("guarantee_deposit", _l("Guarantee deposit"), ("保证金",), OTHER),
        Code("deposit", _l("Deposit"), ("押金",), OTHER),
        Code("other_receivable", _l("Other advances"), ("其他应收款", "其他垫款"), OTHER),
        Code(
            "completed_unsettled", _l("Completed, not yet settled"), ("已完工未结算款",), UNSETTLED
        ),
    )
}

COUNTERPARTY_KINDS = {
    c.code: c
    for c in (
        Code("dealer", _l("Dealer"), ("经销商",)),
        Code("customer", _l("Customer"), ("客户",)),
        Code("employer", _l("Employer"), ("发包单位", "业主")),
        Code("other", _l("Other"), ("其他",)),
    )
}

RECEIPT_METHODS = {
    c.code: c
    for c in (
        Code("transfer", _l("Bank transfer"), ("银行转账", "转账")),
        Code("acceptance_bill", _l("Acceptance bill"), ("承兑汇票",)),
        Code("offset", _l("Offset"), ("抵账",)),
        Code("in_kind", _l("Settlement in kind"), ("实物抵债",)),
        Code("enforcement", _l("Court enforcement"), ("执行回款",)),
    )
}

FINANCIAL_STATUS = {
    c.code: c
    for c in (Code("good", _l("Good"), ("良好",)), Code("poor", _l("Poor"), ("困难", "差")))
}
BUSINESS_STATUS = {
    c.code: c
    for c in (Code("normal", _l("Normal"), ("正常",)), Code("poor", _l("Poor"), ("不善", "差")))
}
PROSPECTS = {
    c.code: c
    for c in (Code("good", _l("Good"), ("良好",)), Code("poor", _l("Poor"), ("不佳", "差")))
}


class UnknownCode(ValueError):
    pass


def resolve(vocabulary: dict[str, Code], text: str) -> str:
    """The code for ``text``: a code, one of its Chinese names, or its English label."""
    value = (text or "").strip()
    if value in vocabulary:
        return value
    lowered = value.lower().replace(" ", "_").replace("-", "_")
    if lowered in vocabulary:
        return lowered
    for code in vocabulary.values():
        if value in code.chinese:
            return code.code
        with_default_locale = str(code.label._args[0]) if hasattr(code.label, "_args") else ""
        if with_default_locale and value.lower() == with_default_locale.lower():
            return code.code
    raise UnknownCode(value)


def category_of(item_type: str) -> str:
    return ITEM_TYPES[item_type].category
