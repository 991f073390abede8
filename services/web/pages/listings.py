"""A business's own listings: the form (price, weekly hours, booking rules, photo), review
status and the moves between drafts, review and live."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from services.web.api import ApiError
from services.web.formatting import major
from services.web.pages.auth import business_choices
from services.web.pages.common import Ctx, CtxDep, Form, see_other
from services.web.places import PLACES, locate, nearest
from services.web.session import Viewer

KINDS = {
    "space": "Space or time to rent",
    "equipment": "Equipment to lend or rent",
    "subcontract": "Work you can take on",
}
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UNITS = [("hour", "per hour"), ("day", "per day"), ("unit", "per unit")]
POLICIES = [
    ("flexible", "Flexible: full refund up to 24 h before"),
    ("moderate", "Moderate: full refund up to 5 days before"),
    ("strict", "Strict: half refund up to 7 days before"),
]
MOVES = {
    "submit": "Submitted for review.",
    "withdraw": "Back to draft.",
    "unpublish": "Unpublished.",
}
FIELD_NAMES = {
    "price_amount": "price",
    "member_price_amount": "member_price",
    "availability.timezone": "timezone",
    "availability": "hours",
    "rules.min_minutes": "min_hours",
    "rules.max_minutes": "max_hours",
    "rules.lead_minutes": "lead_hours",
    "rules": "min_hours",
    "alliance_ids": "alliances",
    "details": "details",
    "location": "place",
    "file": "photo",
}


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _minutes(form: Form, name: str) -> int | None:
    try:
        return round(float(str(form.value(name)).replace(",", ".")) * 60)
    except ValueError:
        form.errors[name] = "Enter a number of hours, like 1 or 1.5"
        return None


def _details(kind: str, form: Form, currency: str) -> dict[str, Any]:
    if kind == "space":
        return {
            "address": form.value("address").strip(),
            "equipment_included": _list(form.value("equipment_included")),
            "certifications": _list(form.value("certifications")),
        }
    if kind == "equipment":
        return {
            "condition": form.value("condition", "good"),
            "deposit_amount": form.money("deposit", currency) or 0,
            "pickup_location": form.value("pickup_location").strip(),
        }
    return {
        "work_unit": form.value("work_unit", "hour"),
        "lead_time_days": form.integer("lead_time_days", 0),
        "capacity_per_period": form.integer("capacity_per_period", 1),
        "period": form.value("period", "week"),
    }


def listing_body(
    kind: str, form: Form, lists: dict[str, list[Any]], viewer: Viewer
) -> dict[str, Any]:
    """The API body a submitted listing form stands for; form-level slips go on `form`."""
    currency = viewer.currency
    open_days = {int(d) for d in lists.get("open", [])}
    weekly = [
        {"weekday": d, "start": form.value(f"start_{d}"), "end": form.value(f"end_{d}")}
        for d in sorted(open_days)
    ]
    place = form.value("place").strip()
    at = locate(place) if place else None
    if place and at is None:
        form.errors["place"] = "Choose a city from the list (or leave it empty)."
    member = form.value("member_price").strip()
    visibility = form.value("visibility", "public")
    return {
        "kind": kind,
        "title": form.value("title").strip(),
        "category": form.value("category"),
        "description": form.value("description").strip(),
        "currency": currency,
        "price_amount": form.money("price", currency) or 0,
        "member_price_amount": form.money("member_price", currency) if member else None,
        "price_unit": form.value("price_unit", "day"),
        "capacity": form.integer("capacity", 1),
        "availability": {"timezone": form.value("timezone") or viewer.timezone, "weekly": weekly},
        "rules": {
            "min_minutes": _minutes(form, "min_hours") or 60,
            "max_minutes": _minutes(form, "max_hours") or 60,
            "lead_minutes": _minutes(form, "lead_hours") or 0,
            "instant_book": form.value("instant_book") == "on",
            "cancellation_policy": form.value("cancellation_policy", "flexible"),
        },
        "details": _details(kind, form, currency),
        "location": {"latitude": at[0], "longitude": at[1]} if at else None,
        "visibility": visibility,
        "alliance_ids": lists.get("alliances", []) if visibility == "alliance" else [],
    }


def form_of(resource: dict[str, Any]) -> tuple[Form, set[int]]:
    """A stored listing as form values, to edit it."""
    currency, rules, details = resource["currency"], resource["rules"], resource["details"]
    values: dict[str, Any] = {
        "title": resource["title"],
        "category": resource["category_slug"],
        "description": resource["description"],
        "price": major(resource["price_amount"], currency),
        "member_price": major(resource["member_price_amount"], currency),
        "price_unit": resource["price_unit"],
        "capacity": resource["capacity"],
        "timezone": resource["availability"]["timezone"],
        "min_hours": rules["min_minutes"] / 60,
        "max_hours": rules["max_minutes"] / 60,
        "lead_hours": rules["lead_minutes"] / 60,
        "instant_book": "on" if rules["instant_book"] else "",
        "cancellation_policy": rules["cancellation_policy"],
        "visibility": resource["visibility"],
        **{k: ", ".join(v) if isinstance(v, list) else v for k, v in details.items()},
    }
    if "deposit_amount" in details:
        values["deposit"] = major(details["deposit_amount"], currency)
    if resource["location"]:
        values["place"] = nearest(
            resource["location"]["latitude"], resource["location"]["longitude"]
        )
    for rule in resource["availability"]["weekly"]:
        values.setdefault(f"start_{rule['weekday']}", rule["start"])
        values.setdefault(f"end_{rule['weekday']}", rule["end"])
    return Form(values=values), {r["weekday"] for r in resource["availability"]["weekly"]}


async def _form_page(
    ctx: Ctx,
    kind: str,
    form: Form,
    open_days: set[int],
    *,
    resource: dict[str, Any] | None = None,
    chosen: list[str] | None = None,
    status: int = 200,
) -> Template:
    ctx.require()
    categories = await ctx.get("directory", "/categories")
    alliances = await ctx.get("directory", "/alliances/")
    return await ctx.page(
        "listings/form.html",
        kind=kind,
        kind_label=KINDS[kind],
        form=form,
        open_days=open_days,
        resource=resource,
        categories=[(c["slug"], c["name"]) for c in categories],
        alliances=[a for a in alliances if a["my_status"] == "member"],
        chosen=set(chosen or (resource or {}).get("alliance_ids", [])),
        days=DAYS,
        units=UNITS,
        policies=POLICIES,
        places=sorted(PLACES),
        timezones=business_choices()["timezones"],
        status=status,
    )


async def _add_photo(ctx: Ctx, resource_id: str, form: Form) -> bool:
    """Upload the form's photo, if one was chosen; False when the directory refused it."""
    photo = form.value("photo", None)
    if not isinstance(photo, UploadFile) or not photo.filename:
        return True
    files = {"file": (photo.filename, await photo.read(), photo.content_type)}
    done = "Photo added; others see it once a moderator approves it."
    return await ctx.act("directory", f"/resources/{resource_id}/photos", done, files=files)


@get("/listings")
async def my_listings(ctx: CtxDep) -> Template:
    ctx.require()
    listings = await ctx.get("directory", "/resources/mine")
    return await ctx.page("listings/mine.html", listings=listings, kinds=KINDS)


@get("/listings/new")
async def new_listing(ctx: CtxDep, kind: FromQuery[str] = "space") -> Template:
    if kind not in KINDS:
        raise NotFoundException()
    viewer = ctx.require()
    defaults = {"price_unit": "hour" if kind != "equipment" else "day", "capacity": 1,
                "min_hours": 1, "max_hours": 8, "lead_hours": 0, "timezone": viewer.timezone,
                "cancellation_policy": "moderate", "visibility": "public"}  # fmt: skip
    for day in range(5):
        defaults |= {f"start_{day}": "09:00", f"end_{day}": "17:00"}
    return await _form_page(ctx, kind, Form(values=defaults), set(range(5)))


@post("/listings/new")
async def create_listing(ctx: CtxDep) -> Template | Redirect:
    viewer = ctx.require()
    form, lists = await ctx.form(), await ctx.form_lists()
    kind = form.value("kind")
    if kind not in KINDS:
        raise NotFoundException()
    body = listing_body(kind, form, lists, viewer)
    saved = await _save(ctx, form, "POST", "/resources", body)
    if saved is None:
        return await _again(ctx, kind, form, lists)
    return await _after_save(ctx, saved["id"], form)


async def _again(
    ctx: Ctx,
    kind: str,
    form: Form,
    lists: dict[str, list[Any]],
    resource: dict[str, Any] | None = None,
) -> Template:
    """The form as submitted, with its errors, ticked days and chosen alliances kept."""
    days = {int(d) for d in lists.get("open", [])}
    chosen = lists.get("alliances", [])
    return await _form_page(ctx, kind, form, days, resource=resource, chosen=chosen, status=422)


async def _save(
    ctx: Ctx, form: Form, method: str, path: str, body: dict[str, Any]
) -> dict[str, Any] | None:
    """The stored listing, or None with the form's errors set (ours or the directory's)."""
    if form.errors:
        form.message = "Please correct the fields below."
        return None
    try:
        saved: dict[str, Any] = await ctx.call(method, "directory", path, json=body)
    except ApiError as exc:
        form.fail(exc, FIELD_NAMES)
        return None
    return saved


async def _after_save(ctx: Ctx, resource_id: str, form: Form) -> Redirect:
    """Add the photo, then submit for review when that was the button pressed."""
    if not await _add_photo(ctx, resource_id, form):
        return see_other(f"/listings/{resource_id}")
    if form.value("action") == "submit":
        done = "Saved and submitted for review. A moderator will look at it shortly."
        await ctx.act("directory", f"/resources/{resource_id}/submit", done)
    else:
        await ctx.flash(
            "Saved as a draft." if form.value("action") == "draft" else "Changes saved."
        )
    return see_other(f"/listings/{resource_id}")


async def _own(ctx: Ctx, resource_id: UUID) -> dict[str, Any]:
    """One of the active business's listings; others' (even public ones) are not found here."""
    viewer = ctx.require()
    resource: dict[str, Any] = await ctx.get("directory", f"/resources/{resource_id}")
    if resource["tenant_id"] != viewer.tenant_id:
        raise NotFoundException()
    return resource


@get("/listings/{resource_id:uuid}")
async def listing(ctx: CtxDep, resource_id: FromPath[UUID]) -> Template:
    resource = await _own(ctx, resource_id)
    return await ctx.page("listings/show.html", r=resource, kinds=KINDS, days=DAYS)


@get("/listings/{resource_id:uuid}/edit")
async def edit_listing(ctx: CtxDep, resource_id: FromPath[UUID]) -> Template:
    resource = await _own(ctx, resource_id)
    form, open_days = form_of(resource)
    return await _form_page(ctx, resource["kind"], form, open_days, resource=resource)


@post("/listings/{resource_id:uuid}/edit")
async def save_listing(ctx: CtxDep, resource_id: FromPath[UUID]) -> Template | Redirect:
    viewer, resource = ctx.require(), await _own(ctx, resource_id)
    form, lists = await ctx.form(), await ctx.form_lists()
    body = listing_body(resource["kind"], form, lists, viewer)
    for fixed in ("kind", "currency"):
        body.pop(fixed)
    if await _save(ctx, form, "PATCH", f"/resources/{resource_id}", body) is None:
        return await _again(ctx, resource["kind"], form, lists, resource)
    return await _after_save(ctx, str(resource_id), form)


@post("/listings/{resource_id:uuid}/photos")
async def add_photo(ctx: CtxDep, resource_id: FromPath[UUID]) -> Redirect:
    await _add_photo(ctx, str(resource_id), await ctx.form())
    return see_other(f"/listings/{resource_id}")


@post("/listings/{resource_id:uuid}/{move:str}")
async def move_listing(ctx: CtxDep, resource_id: FromPath[UUID], move: FromPath[str]) -> Redirect:
    if move == "delete":
        await ctx.call("DELETE", "directory", f"/resources/{resource_id}")
        await ctx.flash("Listing deleted.")
        return see_other("/listings")
    if move not in MOVES:
        raise NotFoundException()
    await ctx.act("directory", f"/resources/{resource_id}/{move}", MOVES[move])
    return see_other(f"/listings/{resource_id}")
