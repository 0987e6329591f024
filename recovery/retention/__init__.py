"""Retention (篇三): purging what is past its five years."""
