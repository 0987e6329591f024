"""Reading and changing business settings."""

from __future__ import annotations

from recovery.extensions import db
from recovery.settings.models import Setting
from recovery.settings.registry import SPECS, SPECS_BY_KEY, SettingValueError, canonical, parse


def stored_text(key: str) -> str:
    spec = SPECS_BY_KEY[key]
    row = db.session.get(Setting, key)
    return row.value if row is not None else spec.default


def get_setting(key: str):
    """The typed value of a setting (its default when never changed)."""
    spec = SPECS_BY_KEY[key]
    try:
        return parse(spec, stored_text(key))
    except SettingValueError:
        # A stored value that no longer parses (e.g. after a rule change) falls back safely.
        return parse(spec, spec.default)


def all_texts() -> dict[str, str]:
    stored = {row.key: row.value for row in db.session.scalars(db.select(Setting))}
    return {spec.key: stored.get(spec.key, spec.default) for spec in SPECS}


def validate(values: dict[str, str]) -> dict[str, str]:
    """Return {key: error message} for every value that does not parse."""
    errors = {}
    for key, text in values.items():
        try:
            parse(SPECS_BY_KEY[key], text)
        except SettingValueError as exc:
            errors[key] = str(exc.args[0])
    return errors


def update_settings(values: dict[str, str]) -> list[str]:
    """Store the given values (already validated); returns the keys that changed."""
    changed = []
    for key, text in values.items():
        spec = SPECS_BY_KEY[key]
        new_text = canonical(spec, parse(spec, text))
        row = db.session.get(Setting, key)
        if row is None:
            if new_text == canonical(spec, parse(spec, spec.default)):
                continue
            db.session.add(Setting(key=key, value=new_text))
            changed.append(key)
        elif row.value != new_text:
            row.value = new_text
            changed.append(key)
    db.session.flush()
    return changed
