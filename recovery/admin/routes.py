"""Administration: users, roles, departments, login attempts."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from recovery.admin.forms import ActionForm, DepartmentForm, ResetPasswordForm, UserForm
from recovery.auth import services
from recovery.auth.models import LOGIN_OUTCOMES, Department, LoginAttempt, User
from recovery.core.forms import choices
from recovery.core.pagination import paginate
from recovery.core.permissions import ADMIN, roles_required
from recovery.extensions import db

bp = Blueprint("admin", __name__)


def _department_choices(exclude: Department | None = None):
    departments = db.session.scalars(sa.select(Department).order_by(Department.name)).all()
    pairs = [(None, "—")]
    for department in sorted(departments, key=lambda d: d.path):
        if exclude is not None and (department is exclude or exclude in department.ancestors()):
            continue
        pairs.append((department.id, department.path))
    return choices(pairs)


def _get_user(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _get_department(department_id: int) -> Department:
    return db.session.get(Department, department_id) or abort(404)


@bp.route("/users")
@roles_required(ADMIN)
def users():
    query = sa.select(User).order_by(User.username)
    search = request.args.get("q", "").strip()
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(User.username).like(pattern), User.display_name.like(f"%{search}%")
            )
        )
    page = paginate(query, request.args.get("page", 1, type=int))
    return render_template("admin/users.html", page=page, search=search)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def user_new():
    form = UserForm()
    form.department_id.choices = _department_choices()
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append(_("Set an initial password."))
        else:
            try:
                user = services.create_user(
                    form.username.data,
                    form.password.data,
                    form.roles.data,
                    display_name=form.display_name.data,
                    email=form.email.data,
                    department=db.session.get(Department, form.department_id.data)
                    if form.department_id.data
                    else None,
                    language=form.language.data or None,
                )
            except services.AuthError as error:
                db.session.rollback()
                getattr(form, error.field or "username").errors.append(error.message)
            else:
                if not form.active.data:
                    user.active = False
                db.session.commit()
                flash(_("User %(name)s was created.", name=user.username), "success")
                return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def user_edit(user_id: int):
    user = _get_user(user_id)
    form = UserForm(obj=user)
    del form.password
    form.username.render_kw = {"readonly": True}
    form.department_id.choices = _department_choices()
    if request.method == "GET":
        form.roles.data = user.role_names
        form.language.data = user.language or ""
    else:
        form.username.data = user.username  # the username never changes
    if form.validate_on_submit():
        try:
            services.update_user(
                user,
                display_name=form.display_name.data,
                email=form.email.data,
                roles=form.roles.data,
                department=db.session.get(Department, form.department_id.data)
                if form.department_id.data
                else None,
                language=form.language.data or None,
                active=form.active.data,
                acting_user=current_user,
            )
        except services.AuthError as error:
            db.session.rollback()
            getattr(form, error.field or "display_name").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Changes to %(name)s were saved.", name=user.username), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    attempts = db.session.scalars(
        sa.select(LoginAttempt)
        .where(LoginAttempt.user_id == user.id)
        .order_by(LoginAttempt.id.desc())
        .limit(10)
    ).all()
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        attempts=attempts,
        outcomes=LOGIN_OUTCOMES,
        password_form=ResetPasswordForm(),
        action_form=ActionForm(),
    )


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@roles_required(ADMIN)
def user_password(user_id: int):
    user = _get_user(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(user, form.password.data)
        except services.AuthError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            db.session.commit()
            flash(_("The password of %(name)s was set.", name=user.username), "success")
    else:
        flash(_("Enter a new password."), "danger")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@roles_required(ADMIN)
def user_unlock(user_id: int):
    user = _get_user(user_id)
    if ActionForm().validate_on_submit():
        services.unlock(user)
        db.session.commit()
        flash(_("%(name)s may sign in again.", name=user.username), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/departments")
@roles_required(ADMIN)
def departments():
    roots = db.session.scalars(
        sa.select(Department).where(Department.parent_id.is_(None)).order_by(Department.name)
    ).all()
    counts = dict(
        db.session.execute(
            sa.select(User.department_id, sa.func.count()).group_by(User.department_id)
        ).all()
    )
    return render_template("admin/departments.html", roots=roots, counts=counts)


@bp.route("/departments/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def department_new():
    form = DepartmentForm()
    form.parent_id.choices = _department_choices()
    if form.validate_on_submit():
        try:
            department = services.create_department(
                form.name.data,
                form.kind.data,
                db.session.get(Department, form.parent_id.data) if form.parent_id.data else None,
            )
        except services.AuthError as error:
            db.session.rollback()
            getattr(form, error.field or "name").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("%(name)s was created.", name=department.name), "success")
            return redirect(url_for("admin.departments"))
    return render_template("admin/department_form.html", form=form, department=None)


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@roles_required(ADMIN)
def department_edit(department_id: int):
    department = _get_department(department_id)
    form = DepartmentForm(obj=department)
    form.parent_id.choices = _department_choices(exclude=department)
    if form.validate_on_submit():
        try:
            services.update_department(
                department,
                form.name.data,
                form.kind.data,
                db.session.get(Department, form.parent_id.data) if form.parent_id.data else None,
                form.active.data,
            )
        except services.AuthError as error:
            db.session.rollback()
            getattr(form, error.field or "name").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("%(name)s was saved.", name=department.name), "success")
            return redirect(url_for("admin.departments"))
    return render_template("admin/department_form.html", form=form, department=department)


@bp.route("/login-attempts")
@roles_required(ADMIN)
def login_attempts():
    query = sa.select(LoginAttempt).order_by(LoginAttempt.id.desc())
    outcome = request.args.get("outcome", "")
    if outcome in LOGIN_OUTCOMES:
        query = query.where(LoginAttempt.outcome == outcome)
    username = request.args.get("username", "").strip().lower()
    if username:
        query = query.where(LoginAttempt.username == username)
    page = paginate(query, request.args.get("page", 1, type=int))
    locked = db.session.scalars(
        sa.select(User).where(User.locked_until.is_not(None)).order_by(User.username)
    ).all()
    return render_template(
        "admin/login_attempts.html",
        page=page,
        outcomes=LOGIN_OUTCOMES,
        outcome=outcome,
        username=username,
        locked=[u for u in locked if u.is_locked()],
    )
