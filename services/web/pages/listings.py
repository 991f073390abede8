"""A business's own listings: the form (price, weekly hours, booking rules, photo), review
status and the moves between drafts, review and live."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from services.booking.domain import POLICIES as REFUND_POLICIES
from services.booking.domain import policy_rule
from services.directory.domain import KIND_CATEGORIES
from services.directory.schemas import (
    CAPACITY_MAX,
    LEAD_DAYS_MAX,
    LONG_TEXT_MAX,
    MAX_PHOTO_BYTES,
    MONEY_MAX,
    PERIOD_CAPACITY_MAX,
    RULE_MINUTES_MAX,
    RULE_MINUTES_MIN,
    SHORT_TEXT_MAX,
    TITLE_MAX,
)
from services.web.api import ApiError
from services.web.formatting import hours, major, minutes
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


def _policy_label(policy: str) -> str:
    """Booking's own rule ("Moderate: full refund if cancelled at least 5 days before…"), from
    the table it refunds by, so the form names every tier that applies."""
    rule = policy_rule(policy)
    return f"{policy.capitalize()}: {rule[0].lower()}{rule[1:]}"


POLICIES = [(name, _policy_label(name)) for name in REFUND_POLICIES]
CONFLICT = (
    "This listing was changed in another window or by a colleague since you opened it: your"
    " changes are not saved yet. Check the saved values noted beside the fields below, and"
    " save again."
)
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


LIMITS = {
    "title": TITLE_MAX,
    "long_text": LONG_TEXT_MAX,
    "short_text": SHORT_TEXT_MAX,
    "capacity": CAPACITY_MAX,
    "lead_days": LEAD_DAYS_MAX,
    "period_capacity": PERIOD_CAPACITY_MAX,
    "min_hours": hours(RULE_MINUTES_MIN),
    "max_hours": hours(RULE_MINUTES_MAX),
    "photo_mb": MAX_PHOTO_BYTES // 1_048_576,
}
"""The directory's limits, for the form's `maxlength`, `min` and `max` and its hints."""


def _list(form: Form, name: str) -> list[str]:
    """A comma-separated field's items, each as long as the directory takes."""
    items = [part.strip() for part in str(form.value(name)).split(",") if part.strip()]
    if any(len(item) > SHORT_TEXT_MAX for item in items):
        form.errors[name] = f"Keep each item under {SHORT_TEXT_MAX} characters."
    return items


def _minutes(form: Form, name: str, least: int) -> int | None:
    try:
        return minutes(str(form.value(name)), least, RULE_MINUTES_MAX)
    except ValueError as exc:
        form.errors[name] = str(exc)
        return None


def _details(kind: str, form: Form, currency: str) -> dict[str, Any]:
    if kind == "space":
        return {
            "address": form.value("address").strip(),
            "equipment_included": _list(form, "equipment_included"),
            "certifications": _list(form, "certifications"),
        }
    if kind == "equipment":
        return {
            "condition": form.value("condition", "good"),
            "deposit_amount": form.money("deposit", currency, most=MONEY_MAX) or 0,
            "pickup_location": form.value("pickup_location").strip(),
        }
    return {
        "work_unit": form.value("work_unit", "hour"),
        "lead_time_days": form.integer("lead_time_days", 0, (0, LEAD_DAYS_MAX)),
        "capacity_per_period": form.integer("capacity_per_period", 1, (1, PERIOD_CAPACITY_MAX)),
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
        "price_amount": form.money("price", currency, most=MONEY_MAX) or 0,
        "member_price_amount": (
            form.money("member_price", currency, most=MONEY_MAX) if member else None
        ),
        "price_unit": form.value("price_unit", "day"),
        "capacity": form.integer("capacity", 1, (1, CAPACITY_MAX)),
        "availability": {"timezone": form.value("timezone") or viewer.timezone, "weekly": weekly},
        "rules": {
            "min_minutes": _minutes(form, "min_hours", RULE_MINUTES_MIN) or 60,
            "max_minutes": _minutes(form, "max_hours", RULE_MINUTES_MIN) or 60,
            "lead_minutes": _minutes(form, "lead_hours", 0) or 0,
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
    pending = resource["pending_review"] or {}  # a live listing's text edits awaiting review
    values: dict[str, Any] = {
        "version": resource["version"],
        "title": pending.get("title", resource["title"]),
        "category": pending.get("category", resource["category_slug"]),
        "description": pending.get("description", resource["description"]),
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
    conflict: bool = False,
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
        limits=LIMITS,
        conflict=conflict,
        status=status,
    )


async def _photo_error(form: Form) -> str | None:
    """Why the form's photo cannot be stored, said before anything is saved or sent."""
    photo = form.value("photo", None)
    if not isinstance(photo, UploadFile) or not photo.filename:
        return None
    size = len(await photo.read())
    await photo.seek(0)
    if size <= MAX_PHOTO_BYTES:
        return None
    most = LIMITS["photo_mb"]
    return f"This photo is {size / 1_048_576:.1f} MB; photos can be at most {most} MB."


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
                "cancellation_policy": "moderate", "visibility": "public",
                "category": KIND_CATEGORIES[kind]}  # fmt: skip
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
    if photo_error := await _photo_error(form):
        form.errors["photo"] = photo_error
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
    *,
    conflict: bool = False,
) -> Template:
    """The form as submitted, with its errors, ticked days and chosen alliances kept."""
    days = {int(d) for d in lists.get("open", [])}
    chosen = lists.get("alliances", [])
    status = 409 if conflict else 422
    return await _form_page(
        ctx, kind, form, days, resource=resource, chosen=chosen, status=status, conflict=conflict
    )


async def _save(
    ctx: Ctx, form: Form, method: str, path: str, body: dict[str, Any]
) -> dict[str, Any] | None:
    """The stored listing, or None with the form's errors set (ours or the directory's); an
    edit conflict propagates, for the edit page to show what was saved meanwhile."""
    if form.errors:
        form.message = "Please correct the fields below."
        return None
    try:
        saved: dict[str, Any] = await ctx.call(method, "directory", path, json=body)
    except ApiError as exc:
        if exc.slug == "edit-conflict":
            raise
        form.fail(exc, FIELD_NAMES)
        return None
    return saved


def _version(form: Form) -> int:
    """The version the edit form was filled from; a form without one counts as stale, so the
    person sees what is saved before overwriting it."""
    try:
        return int(str(form.value("version")))
    except ValueError:
        return -1


def _same(typed: Any, saved: Any) -> bool:
    """Whether a typed value says what the saved one does ("30" and "30.00" do)."""
    left, right = str(typed).strip(), str("" if saved is None else saved).strip()
    try:
        return Decimal(left.replace(",", ".")) == Decimal(right)
    except InvalidOperation:
        return left == right


def _week(days: set[int], values: Mapping[str, Any]) -> str:
    """Opening hours as a line, to compare and show them."""
    spans = [
        f"{DAYS[d]} {values.get(f'start_{d}')} to {values.get(f'end_{d}')}" for d in sorted(days)
    ]
    return ", ".join(spans) or "closed every day"


async def _conflict(
    ctx: Ctx, form: Form, lists: dict[str, list[Any]], resource_id: UUID
) -> dict[str, Any]:
    """Someone saved the listing since this form was filled: keep what the person typed, note
    beside each field what is saved now, and let the next save go over the current version."""
    current = await _own(ctx, resource_id)
    saved, saved_days = form_of(current)
    names = {c["slug"]: c["name"] for c in await ctx.get("directory", "/categories")}
    labels = {**names, **dict(UNITS), **dict(POLICIES)}
    typed_values = {"instant_book": "", **form.values}  # an unticked box is not sent
    form.values = {**form.values, "version": current["version"]}
    form.message = CONFLICT
    for name, value in saved.values.items():
        typed = typed_values.get(name)
        if typed is None or name == "version" or name.startswith(("start_", "end_")):
            continue
        if _same(typed, value):
            continue
        text = str(value) if value not in (None, "") else "empty"
        if name == "instant_book":
            text = "on" if value else "off"
        form.errors[name] = f"Saved now: {labels.get(text, text)}"
    typed_days = {int(d) for d in lists.get("open", [])}
    if _week(typed_days, form.values) != _week(saved_days, saved.values):
        form.errors["hours"] = f"Saved now: {_week(saved_days, saved.values)}"
    return current


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
    body["version"] = _version(form)
    if photo_error := await _photo_error(form):
        form.errors["photo"] = photo_error
    try:
        saved = await _save(ctx, form, "PATCH", f"/resources/{resource_id}", body)
    except ApiError as exc:
        if exc.slug != "edit-conflict":
            raise
        current = await _conflict(ctx, form, lists, resource_id)
        return await _again(ctx, resource["kind"], form, lists, current, conflict=True)
    if saved is None:
        return await _again(ctx, resource["kind"], form, lists, resource)
    return await _after_save(ctx, str(resource_id), form)


@post("/listings/{resource_id:uuid}/photos")
async def add_photo(ctx: CtxDep, resource_id: FromPath[UUID]) -> Redirect:
    form = await ctx.form()
    if photo_error := await _photo_error(form):
        await ctx.flash(photo_error, "error")
    else:
        await _add_photo(ctx, str(resource_id), form)
    return see_other(f"/listings/{resource_id}")


@post("/listings/{resource_id:uuid}/photos/{photo_id:uuid}/delete")
async def delete_photo(
    ctx: CtxDep, resource_id: FromPath[UUID], photo_id: FromPath[UUID]
) -> Redirect:
    """From the edit page's photo list (a browser form cannot send DELETE)."""
    ctx.require()
    await ctx.call("DELETE", "directory", f"/resources/{resource_id}/photos/{photo_id}")
    await ctx.flash("Photo deleted.")
    return see_other(f"/listings/{resource_id}/edit")


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
