"""The monthly domain."""
