"""Routes of the worklist domain (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("worklist", __name__)
