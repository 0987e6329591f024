"""Routes of the legal domain (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("legal", __name__)
