"""Start at login: one interface, one small module per platform (placeholder until issue 5)."""
