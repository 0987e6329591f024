"""backup domain."""
