"""The hand-written iCalendar: line ends, escaping, folding at 75 octets, UTC times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from services.booking.ical import CalendarEvent, calendar, escape, fold


def test_escaping_of_text_values() -> None:
    assert escape("a,b;c\\d\nnext") == "a\\,b\\;c\\\\d\\nnext"


def test_folding_never_splits_a_character_and_keeps_octet_limits() -> None:
    line = "SUMMARY:" + "Cuisine équipée € été " * 12
    folded = fold(line)
    pieces = folded.split("\r\n")
    assert all(len(piece.encode()) <= 75 for piece in pieces)
    assert all(piece.startswith(" ") for piece in pieces[1:])
    assert "".join([pieces[0], *(p[1:] for p in pieces[1:])]) == line
    assert fold("SHORT:line") == "SHORT:line"


def test_calendar_document_shape() -> None:
    paris = timezone(timedelta(hours=2))
    stamp = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    event = CalendarEvent(
        uid="b1@alliance",
        start=datetime(2026, 7, 1, 10, tzinfo=paris),
        end=datetime(2026, 7, 1, 12, tzinfo=paris),
        summary="Kitchen, evenings (customer)",
        description="Status: confirmed",
    )
    text = calendar("Alliance bookings", [event], stamp)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert "DTSTART:20260701T080000Z\r\n" in text
    assert "DTEND:20260701T100000Z\r\n" in text
    assert "DTSTAMP:20261124T093000Z\r\n" in text
    assert "SUMMARY:Kitchen\\, evenings (customer)\r\n" in text
    assert "UID:b1@alliance\r\n" in text
