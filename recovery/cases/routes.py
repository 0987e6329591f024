"""Routes of the cases domain (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cases", __name__)
