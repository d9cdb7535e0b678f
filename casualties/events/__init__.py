"""Events: incidents reported by many articles merged into one row per real-world event."""
