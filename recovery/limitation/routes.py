"""Routes of the limitation domain (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("limitation", __name__)
