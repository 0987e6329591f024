"""Words with two meanings carry a translation context (pgettext), so each meaning gets its own
Chinese: one msgid has only one translation.

The tests check that the source marks each meaning, that the catalogs' extraction finds the
contexts, and that the Chinese of each meaning differs from the plain word's.
"""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from flask_babel import force_locale

from recovery import PROJECT_ROOT
from recovery.core.translations import KEYWORDS, METHODS, extract

# (context, msgid) -> the files that use that meaning. The plain msgid keeps the meaning the
# catalog already translated: "Open" 待处理 (a case or dispute to work on), "Submitted" 提交 (a
# step of an approval's history), "Proposed" 已提出 (a reward list's status), "Closed" 已结案 (a
# case or lawsuit), "Approved" 已批准, "Active" 启用 (a checkbox), "Done" 完成 (a checklist line),
# "Refused" 未生成 (letters of a batch not generated), "Closed on" 结案日期 (a lawsuit).
CONTEXTS = {
    ("promise", "Open"): {"recovery/activities/rules.py"},
    ("action", "Open"): {"templates/cases/show.html"},
    ("review", "Approved"): {"recovery/activities/rules.py"},
    ("status", "Active"): {"recovery/api/web.py", "templates/admin/users.html"},
    ("time", "Submitted"): {"templates/cases/approvals.html"},
    ("time", "Proposed"): {"templates/targets/lists.html"},
    ("time", "Closed"): {"templates/legal/index.html"},
    ("time", "Done"): {"templates/worklist/team.html"},
    ("provision run", "Closed"): {
        "templates/provisions/run.html",
        "templates/provisions/runs.html",
    },
    ("decision", "Refused"): {"recovery/credit/labels.py"},
    ("counterparty", "Closed on"): {"recovery/parties/forms.py"},
}
PGETTEXT = {"pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}


def _found(messages) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = {}
    for filename, _lineno, message, _comments, context in messages:
        if context and not filename.startswith((".venv", "tests")):
            found.setdefault((context, message), set()).add(filename)
    return found


def test_the_source_marks_each_meaning_with_its_context():
    messages = extract_from_dir(
        str(PROJECT_ROOT),
        method_map=METHODS,
        keywords={**KEYWORDS, **PGETTEXT},
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    )
    found = _found(messages)
    for pair, files in CONTEXTS.items():
        assert found.get(pair) == files, pair


def test_the_catalog_extraction_finds_the_contexts():
    """What `translations update` merges into the catalogs: without the pgettext keywords in
    recovery/core/translations.py the contexts never reach the catalogs, and a zh_CN page shows
    the English word."""
    found = {}
    for message in extract():
        if message.context:
            files = {filename for filename, _lineno in message.locations}
            found[(message.context, message.id)] = files
    missing = [pair for pair in CONTEXTS if pair not in found]
    assert missing == [], "add pgettext and lazy_pgettext to KEYWORDS: ((1, 'c'), 2)"
    for pair, files in CONTEXTS.items():
        assert found[pair] == files, pair


def test_the_labels_read_as_the_english_source(app):
    from recovery.activities.rules import PROMISE_STATUS_LABELS, REVIEW_STATUS_LABELS
    from recovery.api.web import STATE_LABELS
    from recovery.credit.labels import EXCEPTION_STATE_LABELS

    with app.test_request_context(), force_locale("en"):
        assert str(EXCEPTION_STATE_LABELS["refused"]) == "Refused"
        assert str(PROMISE_STATUS_LABELS["open"]) == "Open"
        assert str(REVIEW_STATUS_LABELS["approved"]) == "Approved"
        assert str(STATE_LABELS["active"]) == "Active"


def test_each_meaning_has_its_own_chinese(app):
    from flask_babel import gettext, pgettext

    with app.test_request_context(), force_locale("zh_CN"):
        assert pgettext("promise", "Open") == "待兑现"
        assert pgettext("action", "Open") == "打开"
        assert gettext("Open") == "待处理"
        assert pgettext("provision run", "Closed") == "已结账"
        assert gettext("Closed") == "已结案"
        assert pgettext("decision", "Refused") == "已拒绝"
        assert gettext("Refused") == "未生成"
        for context, msgid in CONTEXTS:  # none falls back to the English word
            assert pgettext(context, msgid) != msgid, (context, msgid)
