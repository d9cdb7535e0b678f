"""When, where, what and who of an incident. (Placeholder interface; being implemented.)"""

from __future__ import annotations

from datetime import datetime

from casualties.model import Figure, Incident


def describe_incident(
    text: str, incident: Incident, figures: list[Figure], published: datetime | None
) -> dict:
    """Attributes of `incident`: date, date_precision, date_text, place, place_text, country,
    admin1, latitude, longitude, geo_precision, event_type, weapon, target, perpetrator,
    perpetrator_hedged. Missing ones are absent or None."""
    return {}
