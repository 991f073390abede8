"""Finding things: search with filters, a resource's page (availability, partner, booking form,
report) and a partner's page."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from litestar import Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from services.web.api import ApiError
from services.web.pages.common import Ctx, CtxDep, Form, see_other
from services.web.pages.listings import DAYS, KINDS
from services.web.places import PLACES, locate

DEFAULT_ZONE = "Europe/Paris"
"""Where visitors' searches are read when we do not know their business's zone."""
AHEAD = timedelta(days=7)
NOTE_LIMIT = 2000
"""The booking API's bound on a booking's message and a change's note (its schemas' `Note`),
which the textareas keep to so that people never type past it."""
BOOKING_FIELDS = {"start": "start", "end": "end", "units": "units", "quantity": "quantity"}
"""The booking API's window fields as the booking form names them."""
REQUEST_KEY = "request_key"
"""The booking form's hidden one-time key, which the front sends as booking's Idempotency-Key:
the same form sent twice (a double click, back and send again, a retried post) books once."""
SEARCH_FIELDS = ("q", "kind", "category", "near", "lat", "lon", "radius_km", "day", "from", "to",
                 "sort", "free", "instant", "alliance_only")  # fmt: skip


def local_window(
    day: str, start: str, end: str, zone: str, last_day: str = ""
) -> tuple[str, str] | None:
    """A day and times in `zone` as ISO times with offsets; None when a part is missing,
    ValueError when one is malformed. The end falls on `last_day` when given (a rental over
    several days), else on `day`, or past midnight when it comes before the start."""
    if not (day and start and end):
        return None
    tz = ZoneInfo(zone)
    on = date.fromisoformat(day)
    first = datetime.combine(on, time.fromisoformat(start), tzinfo=tz)
    last = datetime.combine(date.fromisoformat(last_day or day), time.fromisoformat(end), tzinfo=tz)
    if not last_day and last <= first:
        last += timedelta(days=1)
    return first.isoformat(), last.isoformat()


def booking_window(form: Form, resource: dict[str, Any]) -> dict[str, Any] | None:
    """The booking form's window, units and quantity as the booking API takes them; None, with
    the reason on the form, when a day or time is missing or malformed. Something priced per
    day has a return day too (blank: the pick-up day)."""
    by_day = resource["price_unit"] == "day"
    try:
        window = local_window(
            form.value("day"),
            form.value("start"),
            form.value("end"),
            resource["availability"]["timezone"],
            form.value("end_day") if by_day else "",
        )
    except ValueError:
        window = None
    if window is None:
        form.errors["day"] = (
            "Choose the pick-up day and time and the return time."
            if by_day
            else "Choose a day and the start and end times."
        )
        return None
    return {
        "start": window[0],
        "end": window[1],
        "units": form.integer("units", 1),
        "quantity": form.integer("quantity", 1),
    }


def request_key(form: Form | None) -> str:
    """The key a booking form carries: the one it was sent with when it is shown again (a quote,
    or a refused booking, which made nothing), else a new one."""
    kept = str(form.value(REQUEST_KEY)) if form else ""
    return kept or str(uuid4())


def search_params(values: dict[str, str], zone: str, today: date, form: Form) -> dict[str, Any]:
    """The page's query as the directory search API's parameters; a day before `today` (in
    `zone`) is refused on the form, as nothing can be booked on it."""
    params: dict[str, Any] = {
        k: values.get(k) for k in ("q", "kind", "category", "sort", "cursor") if values.get(k)
    }
    for flag in ("free", "instant", "alliance_only"):
        if values.get(flag):
            params[flag] = "true"
    at: tuple[float | str, float | str] | None = None
    if near := values.get("near", "").strip():
        at = locate(near)
        if at is None:
            form.errors["near"] = "Choose a place from the list."
    elif values.get("lat") and values.get("lon"):
        at = (values["lat"], values["lon"])  # "Use my location"; the API checks the range
    if at is not None:
        params |= {"lat": at[0], "lon": at[1], "radius_km": values.get("radius_km") or 25}
    try:
        window = local_window(
            values.get("day", ""), values.get("from", ""), values.get("to", ""), zone
        )
    except ValueError:
        form.errors["day"] = "Enter a day and times."
        window = None
    if window and date.fromisoformat(values["day"]) < today:
        form.errors["day"] = "That day is in the past: choose today or a later day."
    elif window:
        params["open_from"], params["open_to"] = window
    return params


@get("/search")
async def search(ctx: CtxDep) -> Template:
    viewer = ctx.viewer
    zone = viewer.timezone if viewer else DEFAULT_ZONE
    values = {k: v for k, v in ctx.request.query_params.items() if k in (*SEARCH_FIELDS, "cursor")}
    form = Form(values=values)
    today = datetime.now(ZoneInfo(zone)).date()
    params = search_params(values, zone, today, form)
    found: dict[str, Any] = {"results": [], "facets": {}, "next_cursor": None}
    lost_page = False
    if not form.errors:
        try:
            found = await ctx.get("directory", "/search/", **params)
        except ApiError as exc:
            # A "More results" link that was mangled or outlived its search: say so and
            # offer the first page, not an empty result that looks like "nothing matches".
            lost_page = exc.slug == "invalid-cursor"
            if not lost_page:
                form.fail(exc, {"lat": "near", "lon": "near", "open_from": "day", "open_to": "day"})
    categories = await ctx.get("directory", "/categories")
    return await ctx.page(
        "browse/search.html",
        form=form,
        found=found,
        lost_page=lost_page,
        zone=zone,
        today=today,
        kinds=KINDS,
        categories=[(c["slug"], c["name"]) for c in categories],
        places=sorted(PLACES),
        query={k: v for k, v in values.items() if k != "cursor"},
    )


async def _availability(ctx: Ctx, resource: dict[str, Any]) -> dict[str, Any] | None:
    """The next week's free slots, for a signed-in business; None while booking has not heard
    of the listing yet (events are on their way) or for visitors."""
    viewer = ctx.viewer
    if viewer is None or viewer.tenant_id is None or viewer.tenant_id == resource["tenant_id"]:
        return None
    now = datetime.now(UTC).replace(microsecond=0)
    params = {"from": now.isoformat(), "to": (now + AHEAD).isoformat()}
    try:
        found: dict[str, Any] = await ctx.get(
            "booking", f"/resources/{resource['id']}/availability", **params
        )
    except ApiError:
        return None
    return found


async def resource_page(
    ctx: Ctx,
    resource_id: UUID,
    form: Form | None = None,
    status: int = 200,
    quote: dict[str, Any] | None = None,
    reported: Form | None = None,
) -> Template:
    """The listing with its booking form (blank: one unit); `quote` is the price of the window
    the form holds, `reported` the report form sent back (each form shows its own errors)."""
    resource = await ctx.get("directory", f"/resources/{resource_id}")
    partner = await ctx.get("directory", f"/partners/{resource['partner_slug']}")
    viewer = ctx.viewer
    return await ctx.page(
        "browse/resource.html",
        r=resource,
        partner=partner,
        availability=await _availability(ctx, resource),
        form=form or Form(values={"units": 1}),
        reported=reported or Form(),
        days=DAYS,
        kinds=KINDS,
        note_limit=NOTE_LIMIT,
        viewer_zone=viewer.timezone if viewer else None,
        quote=quote,
        request_key=request_key(form),
        today=datetime.now(ZoneInfo(resource["availability"]["timezone"])).date(),
        status=status,
    )


@get("/resources/{resource_id:uuid}")
async def resource(ctx: CtxDep, resource_id: FromPath[UUID]) -> Template:
    return await resource_page(ctx, resource_id)


@post("/resources/{resource_id:uuid}/quote")
async def quote(ctx: CtxDep, resource_id: FromPath[UUID]) -> Template:
    """The booking form's "See the price": the page again, the form kept, with what the window
    costs (the price times the days or hours it is charged for) or why it cannot be booked."""
    ctx.require()
    form = await ctx.form()
    window = booking_window(form, await ctx.get("directory", f"/resources/{resource_id}"))
    if window is None:
        return await resource_page(ctx, resource_id, form, 422)
    try:
        price = await ctx.post("booking", f"/resources/{resource_id}/quote", window)
    except ApiError as exc:
        form.fail(exc, BOOKING_FIELDS)
        return await resource_page(ctx, resource_id, form, exc.status)
    return await resource_page(ctx, resource_id, form, quote=price)


@post("/resources/{resource_id:uuid}/report")
async def report(ctx: CtxDep, resource_id: FromPath[UUID]) -> Template | Redirect:
    ctx.require()
    reported = await ctx.form()
    body = {
        "target_type": "resource",
        "target_id": str(resource_id),
        "reason": reported.value("reason"),
    }
    try:
        await ctx.post("directory", "/reports", body)
    except ApiError as exc:
        reported.fail(exc)
        reported.errors.setdefault("reason", exc.detail)
        return await resource_page(ctx, resource_id, status=exc.status, reported=reported)
    await ctx.flash("Thank you. A moderator will look at your report.")
    return see_other(f"/resources/{resource_id}")


@get("/partners/{slug:str}")
async def partner(ctx: CtxDep, slug: FromPath[str]) -> Template:
    found = await ctx.get("directory", f"/partners/{slug}")
    return await ctx.page("browse/partner.html", partner=found)


@get("/photos/{photo_id:uuid}")
async def photo(ctx: CtxDep, photo_id: FromPath[UUID]) -> Response[bytes]:
    """A listing photo fetched as the viewer, so owners and moderators see unapproved ones
    (the browser itself holds no token to send to the API)."""
    answer = await ctx.send("GET", "directory", f"/photos/{photo_id}")
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", "application/octet-stream"),
        headers={"cache-control": "private, max-age=3600"},
    )
