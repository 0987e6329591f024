"""The targets domain."""
