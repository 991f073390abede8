"""Bookings from both sides: requesting a window, paying, accepting, the message thread,
reviews, and the private calendar feed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from litestar import get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from services.web.api import ApiError
from services.web.formatting import parse_time
from services.web.pages.browse import (
    BOOKING_FIELDS,
    NOTE_LIMIT,
    REQUEST_KEY,
    booking_window,
    resource_page,
)
from services.web.pages.common import Ctx, CtxDep, Form, see_other

RESENT_CHANGED = (
    "This form already made a booking, with other details: see it in your bookings. To book"
    " these details too, send the form again."
)
"""A booking form sent again with changes after it booked (back, edit, send)."""
DECISIONS = {
    "accept": "Accepted. The customer has been told.",
    "decline": "Declined. The customer has been told.",
    "cancel": "Cancelled.",
}


@post("/resources/{resource_id:uuid}/book")
async def book(ctx: CtxDep, resource_id: FromPath[UUID]) -> Template | Redirect:
    ctx.require()
    form = await ctx.form()
    window = booking_window(form, await ctx.get("directory", f"/resources/{resource_id}"))
    if window is None:
        return await resource_page(ctx, resource_id, form, 422)
    body = {
        "resource_id": str(resource_id),
        **window,
        "message": form.value("message").strip(),
    }
    key = str(form.value(REQUEST_KEY))
    try:
        booking = await ctx.post(
            "booking", "/bookings", body, headers={"Idempotency-Key": key} if key else None
        )
    except ApiError as exc:
        if exc.slug == "idempotency-key-reused":
            # Sent back (or edited) after it booked: a fresh form, so the next send books anew.
            values = {k: v for k, v in form.values.items() if k != REQUEST_KEY}
            form = Form(values=values, message=RESENT_CHANGED)
        else:
            form.fail(exc, BOOKING_FIELDS)
        return await resource_page(ctx, resource_id, form, exc.status)
    return see_other(f"/bookings/{booking['id']}")


@get("/bookings")
async def bookings(
    ctx: CtxDep,
    role: FromQuery[str] = "customer",
    status: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    """A page of my bookings by start time; its "Next page" link passes the API's cursor on with
    the same filters. A filter or cursor the API refuses (edited by hand) is not found."""
    ctx.require()
    if role not in ("customer", "provider"):
        raise NotFoundException()
    query = {"role": role} | ({"status": status} if status else {})
    try:
        page = await ctx.get(
            "booking", "/bookings", **query, **({"cursor": cursor} if cursor else {})
        )
    except ApiError as exc:
        if exc.status != 400:
            raise
        raise NotFoundException() from exc
    return await ctx.page(
        "bookings/list.html",
        items=page["items"],
        role=role,
        query=query,
        next_cursor=page["next_cursor"],
        first=cursor is None,
    )


async def _payment(ctx: Ctx, booking: dict[str, Any]) -> dict[str, Any] | None:
    """The booking's payment as billing knows it; None for free bookings or until billing
    has heard of the booking (it follows booking's events)."""
    if booking["amount"] == 0:
        return None
    try:
        found: dict[str, Any] = await ctx.get("billing", f"/bookings/{booking['id']}/payment")
    except ApiError as exc:
        if exc.status != 404:
            raise
        return None
    return found


def _lapsed(booking: dict[str, Any]) -> bool:
    """A hold or request past its deadline (`expires_at`, set only while one is open) that
    booking's timers have not expired yet, which they do within seconds: booking refuses to pay,
    accept or cancel it now, so no button offers to."""
    due = booking["expires_at"]
    return due is not None and parse_time(due) <= datetime.now(UTC)


async def _counterpart(ctx: Ctx, booking: dict[str, Any]) -> dict[str, Any] | None:
    """The other business's name and page, one directory call per page whatever the thread's
    length; None while directory does not show it (suspended, or not heard of yet)."""
    other = booking["customer_tenant_id" if booking["role"] == "provider" else "provider_tenant_id"]
    try:
        found: list[dict[str, Any]] = await ctx.get("directory", "/partners", tenant_id=other)
    except ApiError:
        return None  # the page stays readable; the thread says "the other business"
    return next(iter(found), None)


async def _booking_page(
    ctx: Ctx, booking_id: UUID, form: Form, status: int = 200, answer: Form | None = None
) -> Template:
    """`form` is the thread's or the review's; `answer` the accept, decline or cancel form's, so
    a refused change shows its reason (and keeps its note) beside its own buttons."""
    viewer = ctx.require()
    booking = await ctx.get("booking", f"/bookings/{booking_id}")
    messages = await ctx.get("booking", f"/bookings/{booking_id}/messages")
    reviews = await ctx.get("booking", f"/bookings/{booking_id}/reviews")
    listing: dict[str, Any] | None
    try:
        listing = await ctx.get("directory", f"/resources/{booking['resource_id']}")
    except ApiError:
        listing = None  # unpublished or taken down: the booking stays readable, unlinked
    return await ctx.page(
        "bookings/show.html",
        b=booking,
        listing=listing,
        other=await _counterpart(ctx, booking),
        messages=messages,
        reviews=reviews,
        mine=[r for r in reviews if r["author_tenant_id"] == viewer.tenant_id],
        payment=await _payment(ctx, booking),
        paid=ctx.request.query_params.get("payment"),
        lapsed=_lapsed(booking),
        zone=listing["availability"]["timezone"] if listing else viewer.timezone,
        form=form,
        answer=answer or Form(),
        note_limit=NOTE_LIMIT,
        status=status,
    )


@get("/bookings/{booking_id:uuid}")
async def booking(ctx: CtxDep, booking_id: FromPath[UUID]) -> Template:
    return await _booking_page(ctx, booking_id, Form())


@get("/bookings/{booking_id:uuid}/payment")
async def payment(ctx: CtxDep, booking_id: FromPath[UUID]) -> Template:
    """The pay box alone, which the booking page polls while billing prepares checkout."""
    ctx.require()
    found = await ctx.get("booking", f"/bookings/{booking_id}")
    return await ctx.page(
        "bookings/payment.html",
        b=found,
        payment=await _payment(ctx, found),
        paid=None,
        lapsed=_lapsed(found),
    )


@post("/bookings/{booking_id:uuid}/messages")
async def message(ctx: CtxDep, booking_id: FromPath[UUID]) -> Template | Redirect:
    ctx.require()
    form = await ctx.form()
    try:
        await ctx.post("booking", f"/bookings/{booking_id}/messages", {"body": form.value("body")})
    except ApiError as exc:
        form.fail(exc)
        form.errors.setdefault("body", exc.detail)
        return await _booking_page(ctx, booking_id, form, exc.status)
    return see_other(f"/bookings/{booking_id}#thread")


@post("/bookings/{booking_id:uuid}/reviews")
async def review(ctx: CtxDep, booking_id: FromPath[UUID]) -> Template | Redirect:
    ctx.require()
    form = await ctx.form()
    body = {"stars": form.integer("stars", 0), "text": form.value("text").strip()}
    try:
        await ctx.post("booking", f"/bookings/{booking_id}/reviews", body)
    except ApiError as exc:
        form.fail(exc)
        return await _booking_page(ctx, booking_id, form, exc.status)
    await ctx.flash("Thank you for your review.")
    return see_other(f"/bookings/{booking_id}")


@post("/bookings/{booking_id:uuid}/{decision:str}")
async def decide(
    ctx: CtxDep, booking_id: FromPath[UUID], decision: FromPath[str]
) -> Template | Redirect:
    """Accept, decline or cancel with an optional note, which joins the thread and is quoted in
    the mail to the other business; a blank note sends none."""
    if decision not in DECISIONS:
        raise NotFoundException()
    ctx.require()
    form = await ctx.form()
    note = str(form.value("message")).strip()
    try:
        await ctx.post(
            "booking", f"/bookings/{booking_id}/{decision}", {"message": note} if note else {}
        )
    except ApiError as exc:
        form.fail(exc)
        return await _booking_page(ctx, booking_id, Form(), exc.status, answer=form)
    await ctx.flash(DECISIONS[decision])
    return see_other(f"/bookings/{booking_id}")


@get("/calendar")
async def calendar(ctx: CtxDep) -> Template:
    ctx.require()
    feeds = await ctx.get("booking", "/calendar-feeds")
    return await ctx.page("bookings/calendar.html", feeds=feeds, created=None)


@post("/calendar")
async def new_feed(ctx: CtxDep) -> Template:
    """The feed's URL is shown this once: only its hash is stored."""
    ctx.require()
    created = await ctx.post("booking", "/calendar-feeds", {})
    feeds = await ctx.get("booking", "/calendar-feeds")
    return await ctx.page("bookings/calendar.html", feeds=feeds, created=created, status=201)


@post("/calendar/{feed_id:uuid}/revoke")
async def revoke_feed(ctx: CtxDep, feed_id: FromPath[UUID]) -> Redirect:
    await ctx.call("DELETE", "booking", f"/calendar-feeds/{feed_id}")
    await ctx.flash("Feed revoked; calendars using its URL stop updating.")
    return see_other("/calendar")
