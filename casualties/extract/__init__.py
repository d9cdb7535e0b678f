"""Extraction: article text in, figures, incidents and article totals out (pure functions)."""
