"""Money and times as pages show them."""

from __future__ import annotations

import pytest

from services.web.formatting import duration, minor_units, money, price, when


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (2500, "EUR", "€25.00"),
        (123456, "GBP", "£1,234.56"),
        (1500, "JPY", "¥1,500"),
        (999, "SEK", "SEK 9.99"),
        (1050, "NOK", "10.50 NOK"),
        (0, "EUR", "€0.00"),
    ],
)
def test_money_reads_in_the_currencys_format(amount: int, currency: str, shown: str) -> None:
    assert money(amount, currency) == shown


def test_free_listings_say_so() -> None:
    assert price(0, "EUR") == "Free"
    assert price(1500, "EUR") == "€15.00"


def test_typed_amounts_become_minor_units() -> None:
    assert minor_units("25", "EUR") == 2500
    assert minor_units("25,5", "EUR") == 2550
    assert minor_units("1500", "JPY") == 1500
    for wrong in ("abc", "1.234", "-3"):
        with pytest.raises(ValueError, match="amount"):
            minor_units(wrong, "EUR")


def test_times_show_the_viewers_zone_beside_the_resources_when_they_differ() -> None:
    at = "2026-11-27T17:00:00+00:00"
    assert when(at, "Europe/Paris", "Europe/Paris") == "Fri 27 Nov 2026, 18:00 (Europe/Paris)"
    both = when(at, "Europe/Paris", "Europe/London")
    assert both.startswith("Fri 27 Nov 2026, 18:00 (Europe/Paris)")
    assert "17:00 your time (Europe/London)" in both


def test_durations_read_in_hours_and_minutes() -> None:
    assert duration(90) == "1 h 30 min"
    assert duration(120) == "2 h"
    assert duration(15) == "15 min"
