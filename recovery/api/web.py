"""The pages where a signed-in user creates and revokes their personal API tokens."""

from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from recovery.api import tokens
from recovery.api.models import ApiToken
from recovery.core.forms import choices
from recovery.core.permissions import signed_in
from recovery.core.timeutil import utcnow
from recovery.extensions import db

bp = Blueprint("api_tokens", __name__)

SCOPE_LABELS = {"read": _l("Read"), "write": _l("Read and write")}
STATE_LABELS = {
    "active": lazy_pgettext("status", "Active"),
    "revoked": _l("Revoked"),
    "expired": _l("Expired"),
}


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    scope = SelectField(_l("Scope"), choices=choices(SCOPE_LABELS.items()), default="read")
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Create token"))


class RevokeForm(FlaskForm):
    submit = SubmitField(_l("Revoke"))


def _page(form: TokenForm, created: str | None = None, status: int = 200):
    return (
        render_template(
            "api/tokens.html",
            form=form,
            revoke_form=RevokeForm(),
            tokens=tokens.tokens_of(current_user),
            created=created,
            scope_labels=SCOPE_LABELS,
            state_labels=STATE_LABELS,
            now=utcnow(),
        ),
        status,
    )


@bp.route("/", methods=["GET", "POST"])
@signed_in
def index():
    form = TokenForm()
    if form.validate_on_submit():
        expires_at = None
        if form.expires_on.data:
            expires_at = datetime.combine(form.expires_on.data, time(23, 59, 59))
        try:
            _token, plain = tokens.create_token(
                current_user, name=form.name.data, scope=form.scope.data, expires_at=expires_at
            )
        except tokens.TokenError as error:
            db.session.rollback()
            field = getattr(form, error.field or "name", form.name)
            field.errors = [*field.errors, error.message]
            return _page(form, status=422)
        db.session.commit()
        # Shown once, on this answer (never stored in clear, never in a redirect).
        return _page(TokenForm(formdata=None), created=plain)
    return _page(form, status=422 if form.errors else 200)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@signed_in
def revoke(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    form = RevokeForm()
    if form.validate_on_submit():
        tokens.revoke_token(token)
        db.session.commit()
        flash(_("The token %(prefix)s… was revoked.", prefix=token.prefix), "success")
    return redirect(url_for("api_tokens.index"))
