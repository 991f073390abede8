"""A tiny RFC 5545 writer: CRLF line ends, TEXT escaping, lines folded at 75 octets, UTC times."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec

PRODID = "-//Alliance//Booking//EN"
LIMIT = 75
"""Octets per content line, CRLF excluded (RFC 5545 section 3.1)."""


class CalendarEvent(msgspec.Struct, frozen=True, kw_only=True):
    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str = ""
    status: str = "CONFIRMED"
    """TENTATIVE | CONFIRMED | CANCELLED"""


def escape(value: str) -> str:
    """TEXT values: backslash, semicolon and comma escaped, newlines as \\n."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Split after at most 75 octets, never inside a UTF-8 sequence; go on after CRLF + space."""
    data = line.encode()
    parts: list[bytes] = []
    limit = LIMIT
    while len(data) > limit:
        cut = limit
        while cut > 0 and (data[cut] & 0xC0) == 0x80:  # a continuation byte: back up
            cut -= 1
        parts.append(data[:cut])
        data = data[cut:]
        limit = LIMIT - 1  # continuation lines start with one space
    parts.append(data)
    return "\r\n ".join(part.decode() for part in parts)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(name: str, events: Iterable[CalendarEvent], stamp: datetime) -> str:
    """A VCALENDAR document; `stamp` is when it was generated (DTSTAMP of every event)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{utc(stamp)}",
            f"DTSTART:{utc(event.start)}",
            f"DTEND:{utc(event.end)}",
            f"SUMMARY:{escape(event.summary)}",
            f"STATUS:{event.status}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape(event.description)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
