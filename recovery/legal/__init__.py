"""The legal domain."""
