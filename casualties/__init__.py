"""casualties: news articles in, traceable casualty figures, incidents and events out."""

__version__ = "0.1.0"
