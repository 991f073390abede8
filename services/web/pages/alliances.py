"""Alliances: trusted partner groups whose members see alliance-only listings and prices."""

from __future__ import annotations

from uuid import UUID

from litestar import get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from services.web.api import ApiError
from services.web.pages.common import Ctx, CtxDep, Form, see_other

ANSWERS = {
    "accept": "Welcome to the alliance: its members' shared listings are now visible to you.",
    "decline": "Invitation declined.",
    "leave": "Your business left the alliance.",
}


async def _list_page(ctx: Ctx, form: Form, status: int = 200) -> Template:
    ctx.require()
    alliances = await ctx.get("directory", "/alliances/")
    return await ctx.page("alliances/list.html", alliances=alliances, form=form, status=status)


async def _detail_page(ctx: Ctx, alliance_id: UUID, form: Form, status: int = 200) -> Template:
    ctx.require()
    alliance = await ctx.get("directory", f"/alliances/{alliance_id}")
    return await ctx.page("alliances/show.html", a=alliance, form=form, status=status)


@get("/alliances")
async def alliances(ctx: CtxDep) -> Template:
    return await _list_page(ctx, Form())


@post("/alliances")
async def create(ctx: CtxDep) -> Template | Redirect:
    ctx.require()
    form = await ctx.form()
    body = {"name": form.value("name").strip(), "description": form.value("description").strip()}
    try:
        created = await ctx.post("directory", "/alliances/", body)
    except ApiError as exc:
        return await _list_page(ctx, form.fail(exc), exc.status)
    await ctx.flash(f"{body['name']} is created. Invite partner businesses next.")
    return see_other(f"/alliances/{created['id']}")


@get("/alliances/{alliance_id:uuid}")
async def alliance(ctx: CtxDep, alliance_id: FromPath[UUID]) -> Template:
    return await _detail_page(ctx, alliance_id, Form())


@post("/alliances/{alliance_id:uuid}/invite")
async def invite(ctx: CtxDep, alliance_id: FromPath[UUID]) -> Template | Redirect:
    ctx.require()
    form = await ctx.form()
    partner = form.value("partner").strip().lower()
    try:
        await ctx.post("directory", f"/alliances/{alliance_id}/invitations", {"partner": partner})
    except ApiError as exc:
        if exc.status == 404 and exc.problem.get("detail") == "partner not found":
            form.errors["partner"] = f"No active business has the address “{partner}”."
            return await _detail_page(ctx, alliance_id, form, 422)
        form.fail(exc)
        form.errors.setdefault("partner", exc.detail)
        return await _detail_page(ctx, alliance_id, form, exc.status)
    await ctx.flash(f"{partner} is invited; they see the invitation on their Alliances page.")
    return see_other(f"/alliances/{alliance_id}")


@post("/alliances/{alliance_id:uuid}/{answer:str}")
async def answer(ctx: CtxDep, alliance_id: FromPath[UUID], answer: FromPath[str]) -> Redirect:
    if answer not in ANSWERS:
        raise NotFoundException()
    done = await ctx.act("directory", f"/alliances/{alliance_id}/{answer}", ANSWERS[answer])
    return see_other("/alliances" if done and answer != "accept" else f"/alliances/{alliance_id}")


@post("/alliances/{alliance_id:uuid}/members/{member_id:uuid}/remove")
async def remove(ctx: CtxDep, alliance_id: FromPath[UUID], member_id: FromPath[UUID]) -> Redirect:
    path = f"/alliances/{alliance_id}/members/{member_id}/remove"
    await ctx.act("directory", path, "Done: that business is no longer in the alliance.")
    return see_other(f"/alliances/{alliance_id}")


@post("/alliances/{alliance_id:uuid}/transfer/{partner:str}")
async def transfer(ctx: CtxDep, alliance_id: FromPath[UUID], partner: FromPath[str]) -> Redirect:
    done = f"{partner} now owns the alliance; your business stays a member."
    path = f"/alliances/{alliance_id}/transfer"
    await ctx.act("directory", path, done, json={"partner": partner})
    return see_other(f"/alliances/{alliance_id}")
