"""The upload form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectField

from recovery.core.forms import choices
from recovery.imports.services import KIND_LABELS


class ImportForm(FlaskForm):
    kind = SelectField(_l("What the file holds"), choices=choices(KIND_LABELS.items()))
    file = FileField(
        _l("File (.csv or .xlsx)"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(["csv", "xlsx"], _l("Only .csv and .xlsx files can be imported.")),
        ],
    )
    dry_run = BooleanField(_l("Dry run: check the file and show what would change, write nothing"))
