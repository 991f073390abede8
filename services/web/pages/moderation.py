"""Platform staff: the review queue, reports, and suspending businesses."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from services.web.api import ApiError
from services.web.pages.common import Ctx, CtxDep, Form, see_other

DECISIONS = {"approve": "Approved; the listing is live.", "reject": "Sent back to its business."}


async def _queue_page(ctx: Ctx, form: Form | None = None, status: int = 200) -> Template:
    ctx.require_staff()
    queue = await ctx.get("directory", "/moderation/queue", limit=100)
    reports = await ctx.get("directory", "/moderation/reports")
    log = await ctx.get("directory", "/moderation/log", limit=20)
    return await ctx.page(
        "moderation/queue.html",
        queue=queue,
        reports=reports,
        log=log,
        form=form or Form(),
        status=status,
    )


@get("/moderation")
async def queue(ctx: CtxDep) -> Template:
    return await _queue_page(ctx)


async def _decide(ctx: Ctx, path: str, body: dict[str, Any] | None, field: str) -> Template | None:
    """Post a moderation decision; a refused reason shows the queue again, error in place."""
    try:
        await ctx.post("directory", path, body)
    except ApiError as exc:
        if not exc.correctable():
            raise
        errors = {field: next(iter(exc.fields().values()), exc.detail)}
        return await _queue_page(ctx, Form(errors=errors, message=exc.detail), exc.status)
    return None


@post("/moderation/resources/{resource_id:uuid}/{decision:str}")
async def decide(
    ctx: CtxDep, resource_id: FromPath[UUID], decision: FromPath[str]
) -> Template | Redirect:
    ctx.require_staff()
    form = await ctx.form()
    body = {"reason": form.value("reason").strip()} if decision != "approve" else None
    path = f"/moderation/resources/{resource_id}/{decision}"
    if failed := await _decide(ctx, path, body, f"reason-{resource_id}"):
        return failed
    await ctx.flash(DECISIONS.get(decision, "Listing taken down."))
    return see_other("/moderation")


@post("/moderation/reports/{report_id:uuid}/resolve")
async def resolve(ctx: CtxDep, report_id: FromPath[UUID]) -> Template | Redirect:
    ctx.require_staff()
    form = await ctx.form()
    body = {
        "resolution": form.value("resolution").strip(),
        "action": "unpublish" if form.value("action") == "unpublish" else None,
    }
    path = f"/moderation/reports/{report_id}/resolve"
    if failed := await _decide(ctx, path, body, f"resolution-{report_id}"):
        return failed
    await ctx.flash("Report resolved.")
    return see_other("/moderation")


@get("/admin/businesses")
async def businesses(ctx: CtxDep, status: FromQuery[str] = "") -> Template:
    ctx.require_staff()
    tenants = await ctx.get("accounts", "/admin/tenants", status=status or None)
    return await ctx.page("moderation/businesses.html", tenants=tenants, shown=status)


@post("/admin/businesses/{tenant_id:uuid}/{move:str}")
async def suspend_or_reinstate(
    ctx: CtxDep, tenant_id: FromPath[UUID], move: FromPath[str]
) -> Redirect:
    ctx.require_staff()
    form = await ctx.form()
    body = {"reason": form.value("reason").strip()} if move == "suspend" else {}
    done = "Business suspended." if move == "suspend" else "Business reinstated."
    await ctx.act("accounts", f"/admin/tenants/{tenant_id}/{move}", done, json=body)
    return see_other("/admin/businesses")
