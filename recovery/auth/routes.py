"""Sign in, sign out, own password, language."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from recovery.auth import services
from recovery.auth.forms import ChangePasswordForm, LanguageForm, LoginForm
from recovery.core.http import client_address
from recovery.core.i18n import normalise_language
from recovery.core.permissions import public, signed_in
from recovery.core.urls import safe_next
from recovery.extensions import db

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    error = result = None
    if form.validate_on_submit():
        result = services.authenticate(form.username.data, form.password.data, client_address())
        db.session.commit()
        if result.ok:
            login_user(result.user)
            session.permanent = False
            if result.user.language:
                session["lang"] = result.user.language
            return redirect(safe_next(form.next.data, url_for("main.index")))
        if result.outcome == "locked":
            error = _("Too many failed attempts. Sign-in is locked for 15 minutes.")
        else:
            # One message for unknown users, wrong passwords and disabled accounts.
            error = _("Wrong username or password.")
    # Only two kinds are told apart, as in the message: locked, or wrong (never "disabled").
    error_kind = ("locked" if result.outcome == "locked" else "wrong") if error else None
    return render_template("auth/login.html", form=form, error=error, error_kind=error_kind), (
        401 if error else 200
    )


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_own_password(
                current_user, form.current_password.data, form.password.data
            )
        except services.AuthError as error:
            db.session.rollback()
            getattr(form, error.field or "password").errors.append(error.message)
        else:
            db.session.commit()
            # The session version changed: sign this session in again so that only it survives.
            login_user(current_user._get_current_object())
            flash(_("Your password was changed. Other sessions have been signed out."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)


@bp.route("/language", methods=["POST"])
@public
def set_language():
    form = LanguageForm()
    fallback = url_for("main.index") if current_user.is_authenticated else url_for("auth.login")
    if form.validate_on_submit():
        language = normalise_language(form.language.data)
        session["lang"] = language
        if current_user.is_authenticated:
            services.set_language(current_user, language)
            db.session.commit()
        return redirect(safe_next(form.next.data, fallback))
    return redirect(fallback)
