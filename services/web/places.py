"""Places people search near, without a geocoding service: the cities our businesses are in.

The list is deliberately small and local; "Use my location" covers everywhere else.
"""

from __future__ import annotations

PLACES: dict[str, tuple[float, float]] = {
    "Lyon": (45.7640, 4.8357),
    "Villeurbanne": (45.7719, 4.8902),
    "Vénissieux": (45.6975, 4.8867),
    "Saint-Étienne": (45.4397, 4.3872),
    "Grenoble": (45.1885, 5.7245),
    "Paris": (48.8566, 2.3522),
    "Marseille": (43.2965, 5.3698),
    "Lille": (50.6292, 3.0573),
    "Bordeaux": (44.8378, -0.5792),
    "Toulouse": (43.6047, 1.4442),
    "Nantes": (47.2184, -1.5536),
    "Strasbourg": (48.5734, 7.7521),
    "Brussels": (50.8503, 4.3517),
    "Geneva": (46.2044, 6.1432),
}


def locate(name: str) -> tuple[float, float] | None:
    wanted = name.strip().casefold()
    return next((at for place, at in PLACES.items() if place.casefold() == wanted), None)


def nearest(latitude: float, longitude: float) -> str:
    """The listed city closest to a point, to prefill forms with what the business set."""
    return min(
        PLACES,
        key=lambda p: (PLACES[p][0] - latitude) ** 2 + (PLACES[p][1] - longitude) ** 2,
    )
