"""Opening hours: weekly rules in a resource's own time zone plus dated exceptions.

Pure functions shared by directory ("open during" search) and booking (slots). Rules are
evaluated per local date and converted to UTC, so a 09:00-17:00 rule stays 09:00-17:00 local time
on both sides of a daylight-saving change.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
Interval = tuple[datetime, datetime]


class WeeklyRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Open every `weekday` (0 = Monday) from `start` to `end`, "HH:MM" local; end may be 24:00."""

    weekday: int
    start: str
    end: str


class DateException(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """On `day`: closed (all day, or `start`-`end`), or open extra from `start` to `end`."""

    day: date
    closed: bool = True
    start: str | None = None
    end: str | None = None


class Availability(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    timezone: str
    weekly: tuple[WeeklyRule, ...] = ()
    exceptions: tuple[DateException, ...] = ()


class InvalidAvailability(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def minutes(clock: str, field: str) -> int:
    match = _CLOCK.match(clock)
    if not match:
        raise InvalidAvailability(field, f"{clock!r} is not a time of day (HH:MM, up to 24:00).")
    return 1440 if clock == "24:00" else int(match[1]) * 60 + int(match[2])


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidAvailability("timezone", f"{name!r} is not an IANA time zone.") from exc


def _span(start: str | None, end: str | None, field: str) -> tuple[int, int]:
    if start is None or end is None:
        raise InvalidAvailability(field, "Give both start and end.")
    first, last = minutes(start, f"{field}.start"), minutes(end, f"{field}.end")
    if first >= last:
        raise InvalidAvailability(field, f"{start}-{end}: the end must come after the start.")
    return first, last


def validate(availability: Availability) -> None:
    """Reject what cannot be meant: unknown zones, inverted or overlapping hours."""
    zone(availability.timezone)
    by_day: dict[int, list[tuple[int, int]]] = {}
    for i, rule in enumerate(availability.weekly):
        if not 0 <= rule.weekday <= 6:
            raise InvalidAvailability(f"weekly[{i}].weekday", "Use 0 (Monday) to 6 (Sunday).")
        by_day.setdefault(rule.weekday, []).append(_span(rule.start, rule.end, f"weekly[{i}]"))
    for weekday, spans in by_day.items():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                raise InvalidAvailability("weekly", f"Opening hours overlap on weekday {weekday}.")
    for i, exception in enumerate(availability.exceptions):
        whole_day = exception.closed and exception.start is None and exception.end is None
        if not whole_day:
            _span(exception.start, exception.end, f"exceptions[{i}]")


def _at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    local = datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=minute)
    # Adding a timedelta keeps wall-clock fields, so rebuild to pick the right UTC offset.
    return datetime.combine(local.date(), local.time(), tzinfo=tz).astimezone(UTC)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract(intervals: list[Interval], holes: Iterable[Interval]) -> list[Interval]:
    result = intervals
    for hole_start, hole_end in holes:
        pieces: list[Interval] = []
        for start, end in result:
            if hole_end <= start or hole_start >= end:
                pieces.append((start, end))
                continue
            if start < hole_start:
                pieces.append((start, hole_start))
            if hole_end < end:
                pieces.append((hole_end, end))
        result = pieces
    return result


def _local_days(start: datetime, end: datetime, tz: ZoneInfo) -> Iterator[date]:
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def opening_windows(availability: Availability, start: datetime, end: datetime) -> list[Interval]:
    """Open intervals (UTC, merged, clipped to [start, end)) between two aware datetimes."""
    tz = zone(availability.timezone)
    exceptions: dict[date, list[DateException]] = {}
    for exception in availability.exceptions:
        exceptions.setdefault(exception.day, []).append(exception)
    opened: list[Interval] = []
    closed: list[Interval] = []
    for day in _local_days(start, end, tz):
        todays = exceptions.get(day, [])
        if not any(e.closed and e.start is None for e in todays):
            opened.extend(
                (_at(day, minutes(r.start, ""), tz), _at(day, minutes(r.end, ""), tz))
                for r in availability.weekly
                if r.weekday == day.weekday()
            )
        for e in todays:
            if e.start is not None and e.end is not None:
                span = (_at(day, minutes(e.start, ""), tz), _at(day, minutes(e.end, ""), tz))
                (closed if e.closed else opened).append(span)
    # A rule inside a spring-forward gap has no real duration; drop it.
    windows = subtract(merge((s, e) for s, e in opened if s < e), closed)
    return [(max(s, start), min(e, end)) for s, e in windows if e > start and s < end]


def is_open(availability: Availability, start: datetime, end: datetime) -> bool:
    """True when [start, end) lies entirely inside one opening window."""
    return any(s <= start and end <= e for s, e in opening_windows(availability, start, end))


def open_at(availability: Availability, moment: datetime, *, returning: bool = False) -> bool:
    """True when something can be picked up at `moment` (open from then on) or, `returning`,
    handed back then (open until then: a return at closing time counts)."""
    tick = timedelta(microseconds=1)
    start, end = (moment - tick, moment) if returning else (moment, moment + tick)
    return bool(opening_windows(availability, start, end))


def started_days(timezone: str, start: datetime, end: datetime) -> int:
    """Days from `start` to `end` in `timezone`, a started one counting whole, at least one.

    A day runs from the pick-up's time of day to the same time the next day on the local clock,
    so a day across a daylight-saving change (23 or 25 hours) is still one day."""
    tz = zone(timezone)
    wall = end.astimezone(tz).replace(tzinfo=None) - start.astimezone(tz).replace(tzinfo=None)
    return max(1, -(-wall // timedelta(days=1)))
