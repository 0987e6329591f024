"""The form of the monthly report page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length


class MonthlyForm(FlaskForm):
    month = StringField(
        _l("Month"), validators=[DataRequired(), Length(max=7)], render_kw={"type": "month"}
    )
    pdf = SubmitField(_l("Generate the PDF"))
    xlsx = SubmitField(_l("Generate the workbook (Excel)"))
