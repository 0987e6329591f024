"""The letters domain."""
