"""flask --app recovery translations update|check — keep both catalogs complete.

The source strings are English; the en catalog repeats them, the zh_CN catalog translates them.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from recovery import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "recovery" / "translations"
# pgettext: a word with two meanings gets a context ("Open" a case vs "Open" a button).
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "pgettext": ((1, "c"), 2),
    "lazy_pgettext": ((1, "c"), 2),
}
METHODS = [("recovery/**.py", "python"), ("templates/**.html", "jinja2")]
LOCALES = ("zh_CN", "en")
# Babel resolves zh_CN to zh_Hans_CN, and gettext looks for that folder (or plain zh).
FOLDERS = {"zh_CN": "zh_Hans_CN", "en": "en"}


def extract() -> Catalog:
    """Every translatable string of the code and templates."""
    catalog = Catalog(project="recovery", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PROJECT_ROOT),
        method_map=METHODS,
        keywords=KEYWORDS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        if filename.startswith((".venv", "tests")):
            continue
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def catalog_path(locale: str) -> Path:
    return TRANSLATIONS / FOLDERS[locale] / "LC_MESSAGES" / "messages.po"


def load(locale: str) -> Catalog:
    path = catalog_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="recovery", charset="utf-8")
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def save(catalog: Catalog, locale: str) -> None:
    path = catalog_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog.fuzzy = False  # a fuzzy header makes plain `pybabel compile` skip the catalog
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, omit_header=False, sort_output=True)
    path.write_bytes(buffer.getvalue())


def problems(template: Catalog, locale: str) -> list[str]:
    """Messages of the code that the catalog lacks, leaves empty or marks fuzzy."""
    catalog = load(locale)
    found = []
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id, context=message.context)
        key = message.id if isinstance(message.id, str) else message.id[0]
        if entry is None:
            found.append(f"{locale}: missing {key!r}")
        elif entry.fuzzy:
            found.append(f"{locale}: fuzzy {key!r}")
        elif not entry.string or (isinstance(entry.string, tuple) and not all(entry.string)):
            found.append(f"{locale}: untranslated {key!r}")
    return found


def _translated(string) -> bool:
    if isinstance(string, tuple | list):
        return all(string)
    return bool(string)


def compile_catalogs() -> None:
    """Write the .mo files the app reads (they are build output, not committed)."""
    for locale in LOCALES:
        path = catalog_path(locale)
        if not path.exists():
            continue
        # Write beside, then rename: a server or test run reading the file never sees half of it.
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as handle:
            write_mo(handle, load(locale))
        os.replace(handle.name, path.with_suffix(".mo"))


@click.group("translations", help="Keep the zh_CN and en catalogs complete.")
def translations_cli():
    pass


@translations_cli.command("update")
def update():
    """Merge new strings into both catalogs (en repeats the English source)."""
    template = extract()
    for locale in LOCALES:
        catalog = load(locale)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if locale == "en":
            for message in catalog:
                if message.id and not _translated(message.string):
                    message.string = message.id  # plurals: (singular, plural) as written
        save(catalog, locale)
        missing = problems(template, locale)
        click.echo(f"{locale}: {len(template)} strings, {len(missing)} to translate")


@translations_cli.command("compile")
def compile_command():
    """Compile both catalogs for the running app."""
    compile_catalogs()
    click.echo("compiled: " + ", ".join(LOCALES))


@translations_cli.command("check")
def check():
    """Exit 1 listing every string either catalog lacks."""
    template = extract()
    found = [p for locale in LOCALES for p in problems(template, locale)]
    for line in found:
        click.echo(line)
    if found:
        raise SystemExit(1)
    click.echo(f"both catalogs complete: {len(template)} strings")
