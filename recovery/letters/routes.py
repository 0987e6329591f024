"""Routes of the letters domain (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("letters", __name__)
