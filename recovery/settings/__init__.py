"""settings domain."""
