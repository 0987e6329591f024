"""Routes of the activities domain (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("activities", __name__)
