"""The active business's team: members and invitations (mailed by accounts)."""

from __future__ import annotations

from uuid import UUID

from litestar import get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from services.web.api import ApiError
from services.web.pages.common import Ctx, CtxDep, Form, see_other

ROLES = [("member", "Member"), ("admin", "Admin"), ("owner", "Owner")]


async def _team_page(ctx: Ctx, form: Form, status: int = 200) -> Template:
    """Only owners are offered the owner role, as only they may grant it (accounts' rule)."""
    viewer = ctx.require()
    members = await ctx.get("accounts", "/tenant/members")
    invitations = await ctx.get("accounts", "/tenant/invitations") if viewer.manages else []
    return await ctx.page(
        "team/team.html",
        members=members,
        invitations=invitations,
        roles=[(v, t) for v, t in ROLES if viewer.role == "owner" or v != "owner"],
        form=form,
        status=status,
    )


@get("/team")
async def team(ctx: CtxDep) -> Template:
    return await _team_page(ctx, Form(values={"role": "member"}))


@post("/team/invitations")
async def invite(ctx: CtxDep) -> Template | Redirect:
    ctx.require()
    form = await ctx.form()
    body = {"email": form.value("email").strip(), "role": form.value("role", "member")}
    try:
        sent = await ctx.post("accounts", "/tenant/invitations", body)
    except ApiError as exc:
        return await _team_page(ctx, form.fail(exc), status=exc.status)
    if sent["renewed"]:
        await ctx.flash(
            f"{sent['email']} was already invited: the invitation is renewed and a new link "
            "is on its way. The earlier link no longer works."
        )
    else:
        await ctx.flash(f"Invitation sent to {sent['email']}.")
    return see_other("/team")


@post("/team/invitations/{invitation_id:uuid}/revoke")
async def revoke(ctx: CtxDep, invitation_id: FromPath[UUID]) -> Redirect:
    await ctx.call("DELETE", "accounts", f"/tenant/invitations/{invitation_id}")
    await ctx.flash("Invitation withdrawn; its link no longer works.")
    return see_other("/team")


@post("/team/members/{user_id:uuid}/role")
async def change_role(ctx: CtxDep, user_id: FromPath[UUID]) -> Redirect:
    """Accounts ends the member's older tokens, so the new role holds from their next page."""
    ctx.require()
    form = await ctx.form()
    try:
        member = await ctx.call(
            "PATCH", "accounts", f"/tenant/members/{user_id}", json={"role": form.value("role")}
        )
    except ApiError as exc:
        if not exc.correctable():
            raise
        await ctx.flash(exc.detail, "error")
    else:
        role = dict(ROLES)[member["role"]].lower()
        article = "an" if role[0] in "aeiou" else "a"
        await ctx.flash(f"{member['name']} is now {article} {role}, from their next page on.")
    return see_other("/team")


@post("/team/members/{user_id:uuid}/remove")
async def remove(ctx: CtxDep, user_id: FromPath[UUID]) -> Redirect:
    await ctx.call("DELETE", "accounts", f"/tenant/members/{user_id}")
    await ctx.flash("Member removed.")
    return see_other("/team")
