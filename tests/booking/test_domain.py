"""Booking's pure rules: transitions, quotes, refunds and free slots, without I/O."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.booking import domain
from services.booking.domain import Slot
from shared.availability import Availability, DateException, WeeklyRule, is_open
from shared.events import BookingRules, ResourceSnapshot

ACTIONS = sorted({action for _, action in domain.TRANSITIONS})
PARIS = "Europe/Paris"
RULES = BookingRules(
    min_minutes=60,
    max_minutes=600,
    lead_minutes=120,
    instant_book=False,
    cancellation_policy="moderate",
)
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def resource(**changes: object) -> ResourceSnapshot:
    values: dict[str, object] = {
        "resource_id": uuid4(),
        "tenant_id": uuid4(),
        "version": 1,
        "kind": "equipment",
        "title": "Panel saw",
        "price_amount": 1500,
        "member_price_amount": 1200,
        "currency": "EUR",
        "price_unit": "hour",
        "capacity": 2,
        "availability": Availability(
            timezone=PARIS,
            weekly=tuple(WeeklyRule(d, "09:00", "17:00") for d in range(7)),
        ),
        "rules": RULES,
        "visibility": "public",
        "alliance_ids": (),
    }
    values.update(changes)
    return ResourceSnapshot(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", domain.STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_pair_is_either_listed_or_refused(status: str, action: str) -> None:
    expected = domain.TRANSITIONS.get((status, action))
    if expected is None:
        with pytest.raises(domain.IllegalTransition) as refused:
            domain.next_status(status, action, free=False)
        assert refused.value.status == status
    else:
        assert domain.next_status(status, action, free=False) == expected


def test_the_paid_path_and_the_free_shortcut() -> None:
    status = domain.initial_status(free=False, instant=False)
    for action, expected in [
        ("authorize", domain.REQUESTED),
        ("accept", domain.ACCEPTED),
        ("capture", domain.CONFIRMED),
        ("complete", domain.COMPLETED),
    ]:
        status = domain.next_status(status, action, free=False)
        assert status == expected
    assert domain.initial_status(free=True, instant=True) == domain.CONFIRMED
    assert domain.initial_status(free=True, instant=False) == domain.REQUESTED
    assert domain.next_status(domain.REQUESTED, "accept", free=True) == domain.CONFIRMED


def test_confirmed_only_work_waits_for_unsettled_bookings_and_drops_the_rest() -> None:
    at = utc(6, 1, 9)
    for status in (*domain.UNSETTLED, domain.CONFIRMED):
        assert domain.follow_up(status, at) == at
    for status in (domain.CANCELLED, domain.EXPIRED, domain.DECLINED, domain.COMPLETED):
        assert domain.follow_up(status, at) is None


def test_terminal_states_go_nowhere() -> None:
    for status in (domain.COMPLETED, domain.DECLINED, domain.EXPIRED, domain.CANCELLED):
        assert not [a for (s, a) in domain.TRANSITIONS if s == status]


def test_quote_charges_started_hours_and_member_prices() -> None:
    saw = resource()
    start = utc(3, 23, 9)
    public = domain.quote(saw, start, start + timedelta(minutes=90), 2, 1, member=False)
    assert (public.amount, public.billed, public.member_price) == (1500 * 2 * 2, 2, False)
    member = domain.quote(saw, start, start + timedelta(hours=1), 1, 1, member=True)
    assert (member.amount, member.member_price) == (1200, True)
    no_member_price = resource(member_price_amount=None)
    assert (
        domain.quote(no_member_price, start, start + timedelta(hours=1), 1, 1, member=True).amount
        == 1500
    )
    work = resource(kind="subcontract", price_unit="unit", price_amount=40)
    assert (
        domain.quote(work, start, start + timedelta(hours=1), 1, 250, member=False).amount == 10_000
    )
    days = resource(price_unit="day", price_amount=9000)
    assert domain.quote(days, start, start + timedelta(hours=25), 1, 1, member=False).billed == 2
    assert "5 days" in public.cancellation_rule


@pytest.mark.parametrize(
    ("policy", "notice", "percent"),
    [
        ("flexible", timedelta(hours=24), 100),
        ("flexible", timedelta(hours=23, minutes=59), 0),
        ("moderate", timedelta(days=5), 100),
        ("moderate", timedelta(days=2), 50),
        ("moderate", timedelta(hours=2), 0),
        ("strict", timedelta(days=8), 50),
        ("strict", timedelta(days=6), 0),
    ],
)
def test_refund_follows_the_policy(policy: str, notice: timedelta, percent: int) -> None:
    start = utc(6, 1, 9)
    refund = domain.refund(policy, 10_000, start, start - notice, by_provider=False)
    assert refund.amount == 100 * percent
    assert refund.rule == domain.policy_rule(policy)


def test_provider_cancellation_refunds_everything_and_unpaid_refunds_nothing() -> None:
    start = utc(6, 1, 9)
    assert domain.refund("strict", 7000, start, start, by_provider=True).amount == 7000
    assert (
        domain.refund("flexible", 0, start, start - timedelta(days=9), by_provider=False).amount
        == 0
    )
    assert domain.policy_rule("strict") == (
        "50% refund if cancelled at least 7 days before the start; no refund after that."
    )


@pytest.mark.parametrize(
    ("policy", "notice", "percent", "words"),
    [
        ("flexible", timedelta(hours=24), 100, "cancelled at least 24 hours before the start"),
        ("flexible", timedelta(hours=3), 0, "cancelled less than 24 hours before the start"),
        ("moderate", timedelta(days=6), 100, "cancelled at least 5 days before the start"),
        (
            "moderate",
            timedelta(days=3),
            50,
            "cancelled less than 5 days but at least 24 hours before the start",
        ),
        ("moderate", timedelta(hours=23), 0, "cancelled less than 24 hours before the start"),
        ("strict", timedelta(days=7), 50, "cancelled at least 7 days before the start"),
        ("strict", timedelta(days=2), 0, "cancelled less than 7 days before the start"),
        ("strict", -timedelta(hours=1), 0, "cancelled less than 7 days before the start"),
    ],
)
def test_the_tier_that_applies_says_why_in_words(
    policy: str, notice: timedelta, percent: int, words: str
) -> None:
    assert domain.tier(policy, notice) == (percent, words)
    start = utc(6, 1, 9)
    refund = domain.refund(policy, 4550, start, start - notice, by_provider=False)
    assert (refund.percent, refund.tier) == (percent, words)


def test_only_a_confirmed_booking_has_been_charged() -> None:
    assert [domain.charged(status, 4550) for status in domain.STATUSES] == [
        4550 if status == domain.CONFIRMED else 0 for status in domain.STATUSES
    ]
    provider = domain.refund("strict", 4550, utc(6, 1, 9), utc(6, 1, 8), by_provider=True)
    assert (provider.amount, provider.percent, provider.tier) == (
        4550,
        100,
        "cancelled by the provider",
    )


@pytest.mark.parametrize(
    ("start", "end", "units", "quantity", "field"),
    [
        (utc(3, 23, 10), utc(3, 23, 9), 1, 1, "end"),
        (utc(3, 20, 13), utc(3, 20, 15), 1, 1, "start"),  # inside the 2 h lead time
        (utc(3, 23, 9), utc(3, 23, 9, 30), 1, 1, "end"),  # shorter than an hour
        (utc(3, 23, 9), utc(3, 23, 10), 3, 1, "units"),
        (utc(3, 23, 9), utc(3, 23, 10), 1, 5, "quantity"),  # not subcontract work
        (utc(3, 23, 6), utc(3, 23, 9), 1, 1, "start"),  # before opening
    ],
)
def test_check_window_names_what_is_wrong(
    start: datetime, end: datetime, units: int, quantity: int, field: str
) -> None:
    with pytest.raises(domain.InvalidBooking) as refused:
        domain.check_window(resource(), start, end, units, quantity, NOW)
    assert refused.value.field == field


def test_check_window_accepts_a_fitting_window() -> None:
    domain.check_window(resource(), utc(3, 23, 9), utc(3, 23, 12), 2, 1, NOW)


@pytest.mark.parametrize(
    ("start", "message"),
    [
        (utc(3, 19, 9), "That time has already passed; choose a later start."),
        (NOW - timedelta(minutes=1), "That time has already passed; choose a later start."),
        (NOW, "Book at least 120 minutes ahead."),
        (NOW + timedelta(minutes=119), "Book at least 120 minutes ahead."),
    ],
)
def test_a_start_in_the_past_is_not_called_short_notice(start: datetime, message: str) -> None:
    no_hours = resource(availability=Availability(timezone=PARIS, weekly=()))
    with pytest.raises(domain.InvalidBooking) as refused:
        domain.check_window(no_hours, start, start + timedelta(hours=1), 1, 1, NOW)
    assert (refused.value.field, str(refused.value)) == ("start", message)


HOLD, REQUEST = timedelta(minutes=30), timedelta(hours=48)


@pytest.mark.parametrize(
    ("status", "starts_in", "lapses_in"),
    [
        (domain.REQUESTED, timedelta(days=10), REQUEST),
        (domain.REQUESTED, timedelta(hours=48), REQUEST),
        (domain.REQUESTED, timedelta(hours=5), timedelta(hours=5)),  # answer before it starts
        (domain.REQUESTED, timedelta(minutes=3), timedelta(minutes=3)),
        (domain.REQUESTED, -timedelta(minutes=1), -timedelta(minutes=1)),  # paid after the start
        (domain.PENDING_PAYMENT, timedelta(days=2), HOLD),
        (domain.PENDING_PAYMENT, timedelta(minutes=10), timedelta(minutes=10)),
    ],
)
def test_a_deadline_is_the_earlier_of_its_window_and_the_start(
    status: str, starts_in: timedelta, lapses_in: timedelta
) -> None:
    due = domain.deadline(status, NOW, NOW + starts_in, hold=HOLD, request=REQUEST)
    assert due == NOW + lapses_in


@pytest.mark.parametrize("status", [s for s in domain.STATUSES if s not in domain.EXPIRING])
def test_only_holds_and_requests_have_a_deadline(status: str) -> None:
    assert domain.deadline(status, NOW, NOW + REQUEST, hold=HOLD, request=REQUEST) is None


@given(
    status=st.sampled_from(domain.EXPIRING),
    starts_in=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
)
def test_no_deadline_falls_after_the_start(status: str, starts_in: timedelta) -> None:
    due = domain.deadline(status, NOW, NOW + starts_in, hold=HOLD, request=REQUEST)
    assert due is not None and NOW <= due <= NOW + starts_in


@pytest.mark.parametrize("action", ACTIONS)
def test_a_lapsed_hold_or_request_may_only_expire(action: str) -> None:
    passed, coming = NOW - timedelta(seconds=1), NOW + timedelta(seconds=1)
    for status in domain.EXPIRING:
        domain.check_deadline(status, action, coming, NOW)
        if action == "expire":
            domain.check_deadline(status, action, passed, NOW)
            continue
        with pytest.raises(domain.Lapsed) as refused:
            domain.check_deadline(status, action, NOW, NOW)
        assert (refused.value.status, refused.value.action) == (status, action)
    for status in (domain.ACCEPTED, domain.CONFIRMED):
        domain.check_deadline(status, action, passed, NOW)  # no deadline binds them


def test_a_lapse_says_what_ran_out() -> None:
    assert str(domain.Lapsed(domain.REQUESTED, "accept")) == (
        "The time to answer this request has run out, so it has lapsed."
    )
    assert str(domain.Lapsed(domain.PENDING_PAYMENT, "authorize")) == (
        "The time to pay for this booking has run out, so it has lapsed."
    )


def test_slots_keep_local_hours_across_the_spring_change() -> None:
    # Paris moves to summer time on Sunday 2026-03-29: 09:00-17:00 local is 08-16 UTC before
    # and 07-15 UTC after.
    saw = resource(capacity=1)
    slots = domain.free_slots(saw.availability, RULES, 1, [], utc(3, 28), utc(3, 31), now=utc(3, 1))
    assert [(s.start, s.end) for s in slots] == [
        (utc(3, 28, 8), utc(3, 28, 16)),
        (utc(3, 29, 7), utc(3, 29, 15)),
        (utc(3, 30, 7), utc(3, 30, 15)),
    ]


def test_slots_across_the_autumn_change_with_bookings_and_units() -> None:
    # Back to winter time on Sunday 2026-10-25: 09:00 local is 07:00 UTC on Saturday, 08:00 after.
    busy = [(utc(10, 25, 9), utc(10, 25, 10), 1), (utc(10, 25, 9, 30), utc(10, 25, 11), 1)]
    slots = domain.free_slots(
        resource().availability, RULES, 2, busy, utc(10, 25), utc(10, 26), now=utc(10, 1)
    )
    assert slots == [
        Slot(start=utc(10, 25, 8), end=utc(10, 25, 9), free_units=2),
        Slot(start=utc(10, 25, 9), end=utc(10, 25, 9, 30), free_units=1),
        Slot(start=utc(10, 25, 10), end=utc(10, 25, 11), free_units=1),
        Slot(start=utc(10, 25, 11), end=utc(10, 25, 16), free_units=2),
    ]


def test_slots_respect_lead_time_exceptions_and_minimum_length() -> None:
    hours = Availability(
        timezone=PARIS,
        weekly=tuple(WeeklyRule(d, "09:00", "17:00") for d in range(7)),
        exceptions=(DateException(day=datetime(2026, 6, 3).date()),),
    )
    busy = [(utc(6, 2, 7, 30), utc(6, 2, 14, 30), 1)]  # leaves 30 min, less than an hour
    slots = domain.free_slots(hours, RULES, 1, busy, utc(6, 1), utc(6, 4), now=utc(6, 1, 10))
    assert [(s.start, s.end) for s in slots] == [(utc(6, 1, 12), utc(6, 1, 15))]


times = st.integers(0, 14 * 48).map(lambda n: utc(3, 22) + timedelta(minutes=30 * n))
bookings = st.lists(
    st.tuples(times, st.integers(1, 16)).map(lambda t: (t[0], t[0] + timedelta(minutes=30 * t[1]))),
    max_size=12,
)


def clock(half_hours: int) -> str:
    return f"{half_hours // 2:02d}:{half_hours % 2 * 30:02d}"


weekly = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 46), st.integers(1, 47)).map(
        lambda t: WeeklyRule(t[0], clock(t[1]), clock(max(t[1] + 1, t[2])))
    ),
    max_size=5,
    unique_by=lambda rule: rule.weekday,
)


@settings(max_examples=200, deadline=None)
@given(
    weekly,
    bookings,
    st.sampled_from([PARIS, "America/New_York", "UTC"]),
    st.integers(0, 300),
)
def test_slots_never_overlap_bookings_and_stay_inside_the_rules(
    rules: list[WeeklyRule],
    held: list[tuple[datetime, datetime]],
    tz: str,
    lead: int,
) -> None:
    hours = Availability(timezone=tz, weekly=tuple(rules))
    booking_rules = BookingRules(
        min_minutes=30,
        max_minutes=600,
        lead_minutes=lead,
        instant_book=True,
        cancellation_policy="flexible",
    )
    now, start, end = utc(3, 22), utc(3, 22), utc(4, 5)
    slots = domain.free_slots(
        hours, booking_rules, 1, [(s, e, 1) for s, e in held], start, end, now
    )
    for slot in slots:
        assert slot.free_units == 1
        assert slot.start >= now + timedelta(minutes=lead)
        assert start <= slot.start < slot.end <= end
        assert is_open(hours, slot.start, slot.end)
        for busy_start, busy_end in held:
            assert slot.end <= busy_start or busy_end <= slot.start
    for earlier, later in itertools.pairwise(slots):
        assert earlier.end <= later.start


def test_message_excerpt_folds_whitespace_and_cuts_at_a_word() -> None:
    assert domain.excerpt("  Hello\n\nthere  ") == "Hello there"
    words = "pots and pans, " * 40
    cut = domain.excerpt(words)
    assert len(cut) <= domain.EXCERPT_CHARS and cut.endswith("pans…")
    assert words.startswith(cut.removesuffix("…"))
    assert len(domain.excerpt("x" * 500)) == domain.EXCERPT_CHARS, "one long word is cut too"


def test_a_message_keeps_its_line_breaks_and_is_refused_when_blank() -> None:
    assert domain.message_body("\n  Door code 1234.\n\nSee you at 7.  \n") == (
        "Door code 1234.\n\nSee you at 7."
    )
    for blank in ("", "   ", "\n\t \n"):
        with pytest.raises(domain.InvalidBooking) as refused:
            domain.message_body(blank)
        assert refused.value.field == "body"
