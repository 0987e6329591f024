"""The shape of a view that changes something through a form, written once.

    try the service; on a refusal roll back and show it on the form (the page is answered
    again with 422); else commit once, flash and redirect.

Usage::

    page_errors: list = []
    if form.validate_on_submit():
        done = save(
            lambda: services.revoke_exception(item, actor=current_user, reason=form.reason.data),
            refused=services.CreditError,
            show=on_form(form, page_errors),
            message=_("Revoked."),
            then=url_for("credit.exception", exception_id=item.id),
        )
        if done:
            return done
    return render_template(..., page_errors=page_errors), form_status()

``message`` and ``then`` may be functions of what the service returned (the new record).
Anything else the service raises propagates (after a rollback by the app's error handling).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request
from werkzeug.wrappers import Response

from recovery.extensions import db

REFUSED = 422  # the status of a form answered again after a refused POST


def on_form(form, page_errors: list) -> Callable[[Exception], None]:
    """Show a refusal beside the form field its ``field`` names, else in ``page_errors``
    (shown above the form). The refusal carries ``message`` and ``field`` (CreditError,
    ActivityError, LimitationError, …)."""

    def show(error) -> None:
        name = getattr(error, "field", None)
        field = getattr(form, name, None) if name else None
        message = getattr(error, "message", None) or str(error)
        if field is None:
            page_errors.append(message)
        else:
            field.errors = [*field.errors, message]

    return show


def save(
    work: Callable[[], Any],
    *,
    refused: type[Exception] | tuple[type[Exception], ...],
    show: Callable[[Exception], None],
    message: object | Callable[[Any], object],
    then: str | Callable[[Any], str],
    category: str | Callable[[Any], str] = "success",
) -> Response | None:
    """Run ``work`` (the service call). A refusal (``refused``): roll back, ``show`` it, and
    return None — answer the form again with ``form_status()``. Otherwise: commit, flash
    ``message`` (in ``category``) and return the redirect to ``then`` — each a value or a
    function of what ``work`` returned."""
    try:
        result = work()
    except refused as error:
        db.session.rollback()
        show(error)
        return None
    db.session.commit()
    flash(
        message(result) if callable(message) else message,
        category(result) if callable(category) else category,
    )
    return redirect(then(result) if callable(then) else then)


def form_status() -> int:
    """200 for a form shown, 422 for a form answered again after a POST (refused or not
    valid)."""
    return REFUSED if request.method == "POST" else 200
