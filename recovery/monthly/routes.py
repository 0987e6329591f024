"""Routes of the monthly domain (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("monthly", __name__)
