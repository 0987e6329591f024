"""The limitation domain."""
