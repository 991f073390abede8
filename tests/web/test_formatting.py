"""Money and times as pages show them."""

from __future__ import annotations

import pytest

from services.directory.schemas import MONEY_MAX, RULE_MINUTES_MAX, RULE_MINUTES_MIN
from services.web.formatting import (
    booking_length,
    duration,
    hours,
    minor_units,
    minutes,
    money,
    price,
    requirements,
    until,
    when,
)


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
    assert minor_units("25", "EUR", MONEY_MAX) == 2500
    assert minor_units("25,5", "EUR", MONEY_MAX) == 2550
    assert minor_units("1500", "JPY", MONEY_MAX) == 1500
    assert minor_units("1000000", "EUR", MONEY_MAX) == MONEY_MAX
    for wrong in ("abc", "1.234", "-3", "NaN", "sNaN", "Infinity", "-inf"):
        with pytest.raises(ValueError, match="amount"):
            minor_units(wrong, "EUR", MONEY_MAX)


@pytest.mark.parametrize("absurd", ["1e309", "99999999999", "1000000.01", "1e999999999"])
def test_absurd_amounts_are_refused_naming_the_limit(absurd: str) -> None:
    with pytest.raises(ValueError, match=r"at most €1,000,000\.00"):
        minor_units(absurd, "EUR", MONEY_MAX)


def test_typed_hours_become_minutes_within_the_bounds() -> None:
    assert minutes("1.5", RULE_MINUTES_MIN, RULE_MINUTES_MAX) == 90
    assert minutes("0,25", RULE_MINUTES_MIN, RULE_MINUTES_MAX) == 15
    assert minutes("0", 0, RULE_MINUTES_MAX) == 0
    for wrong in ("", "abc", "NaN", "sNaN", "inf", "-Infinity"):
        with pytest.raises(ValueError, match="number of hours"):
            minutes(wrong, RULE_MINUTES_MIN, RULE_MINUTES_MAX)
    for absurd in ("1e309", "-1", "0.1", "2160.5"):
        with pytest.raises(ValueError, match=r"from 0\.25 to 2160 hours"):
            minutes(absurd, RULE_MINUTES_MIN, RULE_MINUTES_MAX)


def test_minutes_read_as_hours_people_type() -> None:
    assert hours(15) == "0.25"
    assert hours(RULE_MINUTES_MAX) == "2160"
    assert hours(90) == "1.5"


def test_times_show_the_viewers_zone_beside_the_resources_when_they_differ() -> None:
    at = "2026-11-27T17:00:00+00:00"
    assert when(at, "Europe/Paris", "Europe/Paris") == "Fri 27 Nov 2026, 18:00 (Europe/Paris)"
    both = when(at, "Europe/Paris", "Europe/London")
    assert both.startswith("Fri 27 Nov 2026, 18:00 (Europe/Paris)")
    assert "17:00 your time (Europe/London)" in both


def test_durations_read_in_days_hours_and_minutes() -> None:
    assert duration(90) == "1 h 30 min"
    assert duration(120) == "2 h"
    assert duration(15) == "15 min"
    assert duration(14 * 24 * 60) == "14 days"
    assert duration(24 * 60 + 90) == "1 day 1 h 30 min"


def test_a_booking_length_reads_in_days_for_per_day_listings_and_long_spans() -> None:
    assert booking_length(60, 14 * 24 * 60, "hour") == "1 h to 14 days"
    assert booking_length(60, 600, "hour") == "1 h to 10 h"
    assert booking_length(60, 14 * 24 * 60, "day") == "1 day to 14 days"
    assert booking_length(36 * 60, 20 * 24 * 60, "day") == "2 days to 20 days"


def test_an_end_names_its_day_only_when_it_is_not_the_starts() -> None:
    start = "2026-11-30T08:00:00Z"
    assert until("2026-11-30T17:00:00Z", start, "Europe/Paris") == "18:00"
    assert until("2026-12-07T08:00:00Z", start, "Europe/Paris") == "Mon 07 Dec 2026, 09:00"
    assert until("2026-11-30T23:30:00Z", start, "Europe/Paris") == "Tue 01 Dec 2026, 00:30"


def test_stripe_requirements_read_as_steps_once_each_with_the_code_as_a_fallback() -> None:
    codes = [
        "business_profile.mcc",
        "tos_acceptance.date",
        "tos_acceptance.ip",
        "external_account",
        "representative.dob.day",
        "representative.verification.document",
        "company.address.city",
        "settings.payments.statement_descriptor",
    ]
    assert requirements(codes) == [
        "Business category",
        "Terms of service acceptance",
        "Bank account",
        "Representative's identity",
        "Representative's identity document",
        "Company address",
        "settings.payments.statement_descriptor",
    ]
