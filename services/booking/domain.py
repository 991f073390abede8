"""Booking rules without I/O: the state machine, quotes, refund policies and free slots.

Everything here is a pure function of its arguments so it can be tested exhaustively (including
property-based tests) and reused by routes, event handlers and timers alike.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import msgspec

from shared.availability import Availability, is_open, open_at, opening_windows, started_days
from shared.events import BookingRules, ResourceSnapshot

# States ---------------------------------------------------------------------------------------

PENDING_PAYMENT = "pending_payment"
REQUESTED = "requested"
ACCEPTED = "accepted"
CONFIRMED = "confirmed"
COMPLETED = "completed"
DECLINED = "declined"
EXPIRED = "expired"
CANCELLED = "cancelled"
BLOCKED = "blocked"
"""A provider's own block of time: holds units like a booking, never involves a customer."""

STATUSES = (
    PENDING_PAYMENT,
    REQUESTED,
    ACCEPTED,
    CONFIRMED,
    COMPLETED,
    DECLINED,
    EXPIRED,
    CANCELLED,
    BLOCKED,
)
HOLDING = (PENDING_PAYMENT, REQUESTED, ACCEPTED, CONFIRMED, COMPLETED, BLOCKED)
"""States whose units the exclusion constraint keeps from overlapping."""
EXPIRING = (PENDING_PAYMENT, REQUESTED)
"""States that lapse at `expires_at`: an unpaid hold, an unanswered request."""
UNSETTLED = (PENDING_PAYMENT, REQUESTED, ACCEPTED)
"""Not confirmed yet, but may still be."""
AWAITING_BILLING = (PENDING_PAYMENT, ACCEPTED)
"""States the other side hears of only once billing moves the booking on: the provider sees a
paid request once its payment is authorised, the customer a paid acceptance once captured."""

TRANSITIONS: Mapping[tuple[str, str], str] = {
    (PENDING_PAYMENT, "authorize"): REQUESTED,
    (PENDING_PAYMENT, "fail"): CANCELLED,
    (PENDING_PAYMENT, "expire"): EXPIRED,
    (PENDING_PAYMENT, "cancel"): CANCELLED,
    (REQUESTED, "accept"): ACCEPTED,
    (REQUESTED, "decline"): DECLINED,
    (REQUESTED, "expire"): EXPIRED,
    (REQUESTED, "cancel"): CANCELLED,
    (ACCEPTED, "capture"): CONFIRMED,
    (ACCEPTED, "fail"): CANCELLED,
    (ACCEPTED, "cancel"): CANCELLED,
    (CONFIRMED, "cancel"): CANCELLED,
    (CONFIRMED, "complete"): COMPLETED,
    (BLOCKED, "cancel"): CANCELLED,
}
"""(state, action) -> next state. Anything not listed is illegal.

Paid: pending_payment -authorize-> requested -accept-> accepted -capture-> confirmed -complete->
completed. Free resources skip payment: they start at requested (or confirmed when instant) and
`accept` lands directly on confirmed.
"""


class IllegalTransition(Exception):
    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"Cannot {action} a booking that is {status}.")
        self.status, self.action = status, action


def next_status(status: str, action: str, *, free: bool) -> str:
    """The state `action` leads to from `status`, or IllegalTransition."""
    target = TRANSITIONS.get((status, action))
    if target is None:
        raise IllegalTransition(status, action)
    return CONFIRMED if free and target == ACCEPTED else target


def follow_up(status: str, at: datetime) -> datetime | None:
    """When to look at a booking for work done only once confirmed (reminder, completion): `at`
    while it is or may still become confirmed, None once it never will."""
    return at if status in (*UNSETTLED, CONFIRMED) else None


def initial_status(*, free: bool, instant: bool) -> str:
    if not free:
        return PENDING_PAYMENT
    return CONFIRMED if instant else REQUESTED


def deadline(
    status: str, now: datetime, starts_at: datetime, *, hold: timedelta, request: timedelta
) -> datetime | None:
    """When a booking entering `status` at `now` lapses: an unpaid hold after `hold`, an
    unanswered request after `request`, and either at the latest at the start, so that nobody
    pays for or accepts a booking that has already begun. None for states that do not lapse."""
    wait = {PENDING_PAYMENT: hold, REQUESTED: request}.get(status)
    return None if wait is None else min(now + wait, starts_at)


class Lapsed(Exception):
    """A hold or request past its deadline: only `expire` may move it now."""

    def __init__(self, status: str, action: str) -> None:
        what = "pay for this booking" if status == PENDING_PAYMENT else "answer this request"
        super().__init__(f"The time to {what} has run out, so it has lapsed.")
        self.status, self.action = status, action


def check_deadline(status: str, action: str, expires_at: datetime | None, now: datetime) -> None:
    """Raise Lapsed for any action but `expire` on a hold or request whose `expires_at` has
    passed: the timers (or the sweep) expire it shortly, and nothing may move it on before."""
    if action != "expire" and status in EXPIRING and expires_at is not None and expires_at <= now:
        raise Lapsed(status, action)


# Requests and quotes ----------------------------------------------------------------------------


class InvalidBooking(ValueError):
    """A request the resource's rules cannot accept; `field` names what to change."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_window(
    resource: ResourceSnapshot,
    start: datetime,
    end: datetime,
    units: int,
    quantity: int,
    now: datetime,
) -> None:
    """Raise InvalidBooking unless the window fits the hours, lead time, durations and capacity."""
    rules = resource.rules
    if end <= start:
        raise InvalidBooking("end", "The end must come after the start.")
    if start < now:
        raise InvalidBooking("start", "That time has already passed; choose a later start.")
    if start < now + timedelta(minutes=rules.lead_minutes):
        raise InvalidBooking("start", f"Book at least {rules.lead_minutes} minutes ahead.")
    length = (end - start) / timedelta(minutes=1)
    if not rules.min_minutes <= length <= rules.max_minutes:
        raise InvalidBooking(
            "end", f"Book between {rules.min_minutes} and {rules.max_minutes} minutes."
        )
    if not 1 <= units <= resource.capacity:
        raise InvalidBooking("units", f"Choose between 1 and {resource.capacity} units.")
    if quantity < 1 or (quantity > 1 and resource.kind != "subcontract"):
        raise InvalidBooking("quantity", "A quantity above 1 is for subcontract work only.")
    check_hours(resource, start, end)


def check_hours(resource: ResourceSnapshot, start: datetime, end: datetime) -> None:
    """Raise InvalidBooking unless the window keeps to the opening hours.

    Something priced per day is picked up and handed back within opening hours, and the nights
    and closed days between are the renter's (the item is with them); anything else must be
    open for the whole window."""
    hours = resource.availability
    if resource.price_unit != "day":
        if not is_open(hours, start, end):
            raise InvalidBooking("start", "The resource is not open for the whole window.")
    elif not open_at(hours, start):
        raise InvalidBooking("start", "Pick it up while the business is open.")
    elif not open_at(hours, end, returning=True):
        raise InvalidBooking("end", "Bring it back while the business is open.")


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    amount: int
    currency: str
    unit_price: int
    price_unit: str
    billed: int
    """How many price units are charged (hours, days or pieces), per booked unit."""
    units: int
    member_price: bool
    instant: bool
    cancellation_policy: str
    cancellation_rule: str


def billed_count(
    price_unit: str, start: datetime, end: datetime, quantity: int, timezone: str
) -> int:
    """Started hours and days are charged whole (days on the resource's local clock, so that
    a week across a daylight-saving change is still seven); per-unit prices charge the quantity."""
    if price_unit == "hour":
        return math.ceil((end - start) / timedelta(hours=1))
    if price_unit == "day":
        return started_days(timezone, start, end)
    return quantity


def quote(
    resource: ResourceSnapshot,
    start: datetime,
    end: datetime,
    units: int,
    quantity: int,
    *,
    member: bool,
) -> Quote:
    """The price the customer will pay: member price when they share an alliance with it."""
    use_member = member and resource.member_price_amount is not None
    unit_price = (
        resource.member_price_amount
        if use_member and resource.member_price_amount is not None
        else resource.price_amount
    )
    billed = billed_count(resource.price_unit, start, end, quantity, resource.availability.timezone)
    policy = resource.rules.cancellation_policy
    return Quote(
        amount=unit_price * billed * units,
        currency=resource.currency,
        unit_price=unit_price,
        price_unit=resource.price_unit,
        billed=billed,
        units=units,
        member_price=use_member,
        instant=resource.rules.instant_book,
        cancellation_policy=policy,
        cancellation_rule=policy_rule(policy),
    )


# Cancellation -----------------------------------------------------------------------------------

POLICIES: Mapping[str, tuple[tuple[timedelta, int], ...]] = {
    "flexible": ((timedelta(hours=24), 100),),
    "moderate": ((timedelta(days=5), 100), (timedelta(hours=24), 50)),
    "strict": ((timedelta(days=7), 50),),
}
"""Per policy, (notice before the start, percent refunded) from the longest notice down."""


def _notice(delta: timedelta) -> str:
    hours = int(delta / timedelta(hours=1))
    return f"{hours // 24} days" if hours % 24 == 0 and hours > 24 else f"{hours} hours"


def policy_rule(policy: str) -> str:
    """The policy in one sentence, shown before booking and on every refund."""
    parts = [
        f"{'Full' if percent == 100 else f'{percent}%'} refund if cancelled at least "
        f"{_notice(notice)} before the start"
        for notice, percent in POLICIES[policy]
    ]
    return "; ".join(parts) + "; no refund after that."


class Refund(msgspec.Struct, frozen=True, kw_only=True):
    amount: int
    rule: str
    percent: int
    """Of what was charged."""
    tier: str
    """Why that percent, in words: the part of the rule that applies, shown before cancelling."""


def tier(policy: str, notice: timedelta) -> tuple[int, str]:
    """The percent `policy` refunds when cancelled `notice` before the start, and that tier of
    the rule in words ("cancelled less than 5 days but at least 24 hours before the start")."""
    longer: timedelta | None = None
    for needed, percent in POLICIES[policy]:
        if notice >= needed:
            below = f"less than {_notice(longer)} but " if longer is not None else ""
            return percent, f"cancelled {below}at least {_notice(needed)} before the start"
        longer = needed
    return 0, f"cancelled less than {_notice(POLICIES[policy][-1][0])} before the start"


def charged(status: str, amount: int) -> int:
    """What has been captured of a booking in `status`: its amount once confirmed; before that
    billing holds the money at most, and cancelling releases the hold rather than refunding."""
    return amount if status == CONFIRMED else 0


def refund(
    policy: str, paid: int, starts_at: datetime, cancelled_at: datetime, *, by_provider: bool
) -> Refund:
    """What goes back to the customer of `paid` (captured) minor units."""
    if paid == 0:
        return Refund(
            amount=0,
            rule="Nothing was charged, so nothing is refunded.",
            percent=0,
            tier="nothing has been charged",
        )
    if by_provider:
        return Refund(
            amount=paid,
            rule="Cancelled by the provider: full refund.",
            percent=100,
            tier="cancelled by the provider",
        )
    percent, words = tier(policy, starts_at - cancelled_at)
    return Refund(
        amount=paid * percent // 100, rule=policy_rule(policy), percent=percent, tier=words
    )


# Messages -------------------------------------------------------------------------------------

EXCERPT_CHARS = 200


def message_body(body: str) -> str:
    """A thread message as kept, its outer blank lines and spaces dropped (its line breaks
    inside stay); one of nothing but whitespace would post an empty message, so it is refused."""
    text = body.strip()
    if not text:
        raise InvalidBooking("body", "Write a message before sending it.")
    return text


def excerpt(body: str, limit: int = EXCERPT_CHARS) -> str:
    """A message's beginning for a notification, whitespace folded, cut at a word if it can."""
    text = " ".join(body.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,.;:") + "…"


# Free slots -------------------------------------------------------------------------------------


class Slot(msgspec.Struct, frozen=True, kw_only=True):
    start: datetime
    end: datetime
    free_units: int


Busy = tuple[datetime, datetime, int]
"""(start, end, units) of something holding the resource."""


def _usage_steps(busy: Iterable[Busy]) -> tuple[list[datetime], list[int]]:
    """Step function of units in use: from times[i] on, levels[i] units are taken."""
    deltas: dict[datetime, int] = {}
    for start, end, units in busy:
        deltas[start] = deltas.get(start, 0) + units
        deltas[end] = deltas.get(end, 0) - units
    times = sorted(deltas)
    levels, level = [], 0
    for moment in times:
        level += deltas[moment]
        levels.append(level)
    return times, levels


def free_slots(
    availability: Availability,
    rules: BookingRules,
    capacity: int,
    busy: Iterable[Busy],
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[Slot]:
    """Maximal open stretches with a constant number of free units, bookable from `now`.

    Stretches start no earlier than the lead time allows; a run of free time shorter than the
    minimum booking length is left out, as nothing could be booked in it.
    """
    begin = max(start, now + timedelta(minutes=rules.lead_minutes))
    if begin >= end:
        return []
    times, levels = _usage_steps(busy)
    shortest = timedelta(minutes=rules.min_minutes)
    slots: list[Slot] = []
    for window_start, window_end in opening_windows(availability, begin, end):
        first = bisect.bisect_right(times, window_start)
        cuts = [window_start, *times[first : bisect.bisect_left(times, window_end)], window_end]
        run: list[Slot] = []
        for i in range(len(cuts) - 1):
            index = first + i - 1
            free = capacity - (levels[index] if index >= 0 else 0)
            piece = Slot(start=cuts[i], end=cuts[i + 1], free_units=free)
            if free <= 0:
                slots.extend(_keep(run, shortest))
                run = []
            elif run and run[-1].free_units == free:
                run[-1] = Slot(start=run[-1].start, end=piece.end, free_units=free)
            else:
                run.append(piece)
        slots.extend(_keep(run, shortest))
    return slots


def _keep(run: list[Slot], shortest: timedelta) -> list[Slot]:
    return run if run and run[-1].end - run[0].start >= shortest else []
