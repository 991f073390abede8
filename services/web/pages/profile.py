"""The active business's public profile: what customers read on its partner page."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.response import Redirect, Template

from services.web.api import ApiError
from services.web.pages.common import Ctx, CtxDep, Form, see_other
from services.web.places import PLACES, locate, nearest

CONTACT = [("message", "Messages on Alliance"), ("email", "Email"), ("phone", "Phone")]


async def _page(ctx: Ctx, form: Form, status: int = 200) -> Template:
    viewer = ctx.require()
    return await ctx.page(
        "profile.html",
        form=form,
        contact=CONTACT,
        places=sorted(PLACES),
        slug=viewer.tenant_slug,
        status=status,
    )


@get("/profile")
async def profile(ctx: CtxDep) -> Template:
    viewer = ctx.require()
    partner = await ctx.get("directory", f"/partners/{viewer.tenant_slug}")
    values: dict[str, Any] = {
        k: partner[k] for k in ("tagline", "description", "city", "website", "contact_preference")
    }
    if partner["location"]:
        values["place"] = nearest(partner["location"]["latitude"], partner["location"]["longitude"])
    return await _page(ctx, Form(values=values))


@post("/profile")
async def save_profile(ctx: CtxDep) -> Template | Redirect:
    viewer = ctx.require()
    form = await ctx.form()
    body: dict[str, Any] = {
        k: form.value(k).strip() for k in ("tagline", "description", "city", "website")
    }
    body["contact_preference"] = form.value("contact_preference", "message")
    if place := form.value("place").strip():
        at = locate(place)
        if at is None:
            form.errors["place"] = "Choose a city from the list (or leave it empty)."
            form.message = "Please correct the fields below."
            return await _page(ctx, form, 422)
        body["location"] = {"latitude": at[0], "longitude": at[1]}
    try:
        await ctx.call("PATCH", "directory", "/partner", json=body)
    except ApiError as exc:
        form.fail(exc)
        return await _page(ctx, form, exc.status)
    await ctx.flash("Your profile is saved.")
    return see_other(f"/partners/{viewer.tenant_slug}")
