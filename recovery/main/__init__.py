"""Home pages: one per role, and the navigation."""
