from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from recovery.auth.models import DEPARTMENT_KINDS
from recovery.core.forms import choices
from recovery.core.i18n import LANGUAGE_NAMES
from recovery.core.permissions import ROLE_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _coerce_optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=200)])
    roles = MultiCheckboxField(_l("Roles"), choices=choices(ROLE_LABELS.items()))
    department_id = SelectField(_l("Department"), coerce=_coerce_optional_int)
    language = SelectField(
        _l("Language"), choices=choices([("", _l("Default (Chinese)")), *LANGUAGE_NAMES.items()])
    )
    active = BooleanField(_l("Active (may sign in)"), default=True)
    password = PasswordField(_l("Initial password"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Set password"))


class ActionForm(FlaskForm):
    """A button that changes state: only a CSRF token and a submit."""

    submit = SubmitField(_l("Confirm"))


class DepartmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=choices(DEPARTMENT_KINDS.items()))
    parent_id = SelectField(_l("Belongs to"), coerce=_coerce_optional_int)
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))
