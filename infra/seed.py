"""`alliance seed --demo`: a small, believable marketplace, created through the public API.

Only the demo moderator is made directly (staff are never created over HTTP); everything else —
sign-ups, listings, review, the alliance — goes through the front like any client.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.accounts.staff import add_staff
from shared.config import Settings
from shared.db import Database

log = logging.getLogger("alliance.seed")
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - published demo credential
MODERATOR = "moderator@alliance.example"
WEEKDAYS = range(5)
EVERY_DAY = range(7)


def hours(days: range, start: str, end: str) -> list[dict[str, Any]]:
    return [{"weekday": d, "start": start, "end": end} for d in days]


@dataclass(frozen=True)
class Listing:
    kind: str
    title: str
    category: str
    description: str
    price_amount: int
    price_unit: str
    weekly: list[dict[str, Any]]
    capacity: int = 1
    member_price_amount: int | None = None
    instant_book: bool = False
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoBusiness:
    slug: str
    name: str
    person: str
    email: str
    city: str
    latitude: float
    longitude: float
    listings: tuple[Listing, ...]


LYON = (45.764, 4.8357)
BUSINESSES = (
    DemoBusiness(
        "maison-lune",
        "Maison Lune Bistro",
        "Lucie Martin",
        "lucie@maison-lune.example",
        "Lyon",
        45.7597,
        4.8422,
        (
            Listing(
                "space",
                "Commercial kitchen, weekday afternoons",
                "kitchens",
                "Six-burner range, two convection ovens and a blast chiller, free between "
                "lunch and dinner service. Food-safety certified.",
                2500,
                "hour",
                hours(WEEKDAYS, "14:00", "18:00"),
                member_price_amount=1800,
                details={
                    "address": "12 rue Mercière, Lyon",
                    "equipment_included": ["range", "ovens", "blast chiller"],
                    "certifications": ["food safety"],
                },
            ),
            Listing(
                "equipment",
                "Stand mixer 20 L",
                "kitchen-equipment",
                "Planetary mixer with dough hook, whisk and paddle. Pick up at the back door.",
                1500,
                "day",
                hours(EVERY_DAY, "08:00", "20:00"),
                instant_book=True,
                details={
                    "condition": "good",
                    "deposit_amount": 20000,
                    "pickup_location": "Back door, rue Mercière",
                },
            ),
        ),
    ),
    DemoBusiness(
        "soupe-and-co",
        "Soupe & Co",
        "Samir Haddad",
        "samir@soupe-and-co.example",
        "Villeurbanne",
        45.7719,
        4.8902,
        (
            Listing(
                "subcontract",
                "Batch soup production",
                "food-production",
                "We cook, chill and label soups to your recipe, 40 L batches.",
                9000,
                "unit",
                hours(WEEKDAYS, "06:00", "14:00"),
                details={
                    "work_unit": "piece",
                    "lead_time_days": 3,
                    "capacity_per_period": 10,
                    "period": "week",
                },
            ),
        ),
    ),
    DemoBusiness(
        "bois-vif",
        "Atelier Bois Vif",
        "Jonas Weber",
        "jonas@bois-vif.example",
        "Vénissieux",
        45.6975,
        4.8867,
        (
            Listing(
                "equipment",
                "Panel saw (sliding table, 3.2 m)",
                "woodworking-machines",
                "Lend for a week at a time; induction on first use.",
                6000,
                "day",
                hours(WEEKDAYS, "08:00", "18:00"),
                details={"condition": "good", "deposit_amount": 50000},
            ),
            Listing(
                "subcontract",
                "CNC machining hours",
                "machining",
                "3-axis router, 2500 x 1250 mm bed; send DXF files.",
                4500,
                "hour",
                hours(WEEKDAYS, "08:00", "17:00"),
                details={"work_unit": "hour", "lead_time_days": 2, "capacity_per_period": 30},
            ),
            Listing(
                "equipment",
                "Cordless tool kit",
                "hand-tools",
                "Drill, impact driver and circular saw with four batteries. Free for allies.",
                0,
                "day",
                hours(EVERY_DAY, "07:00", "21:00"),
                capacity=2,
                instant_book=True,
            ),
        ),
    ),
    DemoBusiness(
        "imprimerie-rapide",
        "Imprimerie Rapide",
        "Claire Dubois",
        "claire@imprimerie.example",
        "Lyon",
        45.7485,
        4.8467,
        (
            Listing(
                "subcontract",
                "Folding and saddle-stitch binding",
                "print-finishing",
                "Brochures up to A4, folded and stapled.",
                40,
                "unit",
                hours(WEEKDAYS, "09:00", "17:00"),
                details={"work_unit": "piece"},
            ),
            Listing(
                "space",
                "Dry storage, 10 m2",
                "storage",
                "Ground-floor storage room with pallet access, by the day.",
                800,
                "day",
                hours(EVERY_DAY, "00:00", "24:00"),
                instant_book=True,
                details={"address": "4 quai Perrache, Lyon"},
            ),
        ),
    ),
)
ALLIANCE = ("Lyon Food Makers", "maison-lune", ("soupe-and-co",))


class Client:
    """The public API as one person sees it."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http, self.headers = http, {"authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = await self.http.request(method, path, headers=self.headers, **kwargs)
        answer.raise_for_status()
        return answer.json() if answer.content else None


async def sign_in(http: httpx.AsyncClient, email: str) -> Client:
    answer = await http.post(
        "/api/accounts/sessions", json={"email": email, "password": DEMO_PASSWORD}
    )
    answer.raise_for_status()
    return Client(http, answer.json()["access_token"])


async def business_client(http: httpx.AsyncClient, business: DemoBusiness) -> Client:
    answer = await http.post(
        "/api/accounts/signup",
        json={
            "email": business.email,
            "password": DEMO_PASSWORD,
            "name": business.person,
            "business": {
                "name": business.name,
                "slug": business.slug,
                "country": "FR",
                "currency": "EUR",
                "timezone": "Europe/Paris",
            },
        },
    )
    if answer.status_code != 409:
        answer.raise_for_status()
    return await sign_in(http, business.email)


async def wait_for_partner(http: httpx.AsyncClient, slug: str, within: float = 30.0) -> None:
    """Partners reach the directory through accounts' events; wait like any client would."""
    deadline = asyncio.get_running_loop().time() + within
    while (await http.get(f"/api/directory/partners/{slug}")).status_code != 200:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{slug} never reached the directory; is the worker running?")
        await asyncio.sleep(0.2)


async def connect_payouts(http: httpx.AsyncClient, client: Client, simulated: bool) -> bool:
    """Demo providers finish Stripe Express onboarding so their paid listings can go live and
    paid bookings can be paid; True once the directory knows they can take payments.

    Only on the simulator, whose hosted onboarding page the seed can complete itself.
    """
    account = await client.call("GET", "/api/billing/payout-account")
    if not account.get("charges_enabled"):
        if not simulated:
            return False
        started = await client.call("POST", "/api/billing/payout-account/onboarding")
        answer = await http.post(
            started["onboarding_url"], data={"action": "complete"}, follow_redirects=False
        )
        if not answer.is_redirect:
            answer.raise_for_status()
    deadline = asyncio.get_running_loop().time() + 30
    while not (await client.call("GET", "/api/directory/partner"))["payments_enabled"]:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(
                "the directory never heard of the payout account; is the worker running?"
            )
        await asyncio.sleep(0.2)
    return True


def listing_body(item: Listing) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "title": item.title,
        "category": item.category,
        "description": item.description,
        "price_amount": item.price_amount,
        "member_price_amount": item.member_price_amount,
        "currency": "EUR",
        "price_unit": item.price_unit,
        "capacity": item.capacity,
        "availability": {"timezone": "Europe/Paris", "weekly": item.weekly},
        "rules": {"instant_book": item.instant_book, "cancellation_policy": "moderate"},
        "details": item.details,
    }


async def seed_demo(settings: Settings) -> None:
    accounts = Database(settings.app_database_url, pool_size=1)
    try:
        await add_staff(accounts, MODERATOR, "admin", name="Demo Moderator", password=DEMO_PASSWORD)
    finally:
        await accounts.close()
    async with httpx.AsyncClient(base_url=settings.service_url("web"), timeout=30) as http:
        clients = {b.slug: await business_client(http, b) for b in BUSINESSES}
        moderator = await sign_in(http, MODERATOR)
        for business in BUSINESSES:
            client = clients[business.slug]
            await wait_for_partner(http, business.slug)
            payable = await connect_payouts(http, client, settings.stripe_simulated)
            await client.call(
                "PATCH",
                "/api/directory/partner",
                json={
                    "city": business.city,
                    "location": {"latitude": business.latitude, "longitude": business.longitude},
                    "tagline": f"{business.name}, {business.city}",
                },
            )
            if await client.call("GET", "/api/directory/resources/mine"):
                continue
            for item in business.listings:
                body = listing_body(item)
                body["location"] = {"latitude": business.latitude, "longitude": business.longitude}
                created = await client.call("POST", "/api/directory/resources", json=body)
                if item.price_amount and not payable:
                    log.info(
                        "%s stays a draft until %s connects payouts", item.title, business.slug
                    )
                    continue
                await client.call("POST", f"/api/directory/resources/{created['id']}/submit")
        for pending in await moderator.call("GET", "/api/directory/moderation/queue"):
            review = f"/api/directory/moderation/resources/{pending['id']}"
            await moderator.call("POST", f"{review}/approve")
        name, owner, members = ALLIANCE
        if not await clients[owner].call("GET", "/api/directory/alliances"):
            alliance = await clients[owner].call(
                "POST",
                "/api/directory/alliances",
                json={"name": name, "description": "Food businesses in Lyon sharing kitchens."},
            )
            for slug in members:
                await clients[owner].call(
                    "POST",
                    f"/api/directory/alliances/{alliance['id']}/invitations",
                    json={"partner": slug},
                )
                invite = f"/api/directory/alliances/{alliance['id']}"
                await clients[slug].call("POST", f"{invite}/accept")
    log.info("demo marketplace ready; every demo user's password is %s", DEMO_PASSWORD)
