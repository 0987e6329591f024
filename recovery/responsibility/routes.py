"""Routes of the responsibility domain (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("responsibility", __name__)
