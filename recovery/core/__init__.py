"""Shared building blocks used by every domain: permissions, errors, HTTP helpers, time."""
