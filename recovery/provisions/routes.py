"""Routes of the provisions domain (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("provisions", __name__)
