"""Money for providers: payout onboarding (Stripe Connect), the Pro plan, earnings and CSV."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from services.billing.domain import STATEMENT_MAX_PERIOD
from services.web.api import ApiError
from services.web.formatting import local
from services.web.pages.common import CtxDep, Form, see_other
from services.web.session import Viewer


@get("/billing/payouts")
async def payouts(ctx: CtxDep, onboarding: FromQuery[str] = "") -> Template:
    ctx.require()
    missing = None
    try:
        account = await ctx.get("billing", "/payout-account")
    except ApiError as exc:
        if exc.slug != "payout-account-missing":
            raise
        account, missing = {"connected": False, "requirements_due": []}, exc.detail
    return await ctx.page(
        "billing/payouts.html", account=account, onboarding=onboarding, missing=missing
    )


@post("/billing/payouts/onboarding")
async def onboard(ctx: CtxDep) -> Redirect:
    """Off to Stripe's onboarding; it sends people back to /billing/payouts."""
    ctx.require()
    account = await ctx.post("billing", "/payout-account/onboarding")
    return see_other(account["onboarding_url"])


@get("/billing/plan")
async def plan(ctx: CtxDep, upgrade: FromQuery[str] = "") -> Template:
    ctx.require()
    current = await ctx.get("billing", "/plan")
    return await ctx.page("billing/plan.html", plan=current, upgrade=upgrade)


@post("/billing/plan")
async def change_plan(ctx: CtxDep) -> Redirect:
    """Upgrade (through Stripe's checkout), cancel Pro at the period's end, or keep it."""
    viewer = ctx.require()
    form = await ctx.form()
    wanted = "pro" if form.value("plan") == "pro" else "free"
    changed = await ctx.post("billing", "/plan", {"plan": wanted})
    if wanted == "pro" and changed.get("checkout_url") and changed["plan"] != "pro":
        return see_other(changed["checkout_url"])
    await ctx.flash(_plan_news(changed, viewer.timezone))
    return see_other("/billing/plan")


def _plan_news(plan: dict[str, Any], zone: str) -> str:
    """What the change means for the business, with the date Pro renews or ends."""
    if plan["plan"] != "pro":
        return "Your plan change is saved."
    end = plan.get("current_period_end")
    until = local(end, zone, "%d %b %Y") if end else "the end of the period"
    if plan["cancel_at_period_end"]:
        return f"Pro is cancelled: you keep it until {until}, then move to Free."
    return f"You keep Pro; it renews on {until}." if end else "You keep Pro."


TOO_LONG = "Choose at most a year: from a day to the same day a year later."
"""Said beside the end date when billing would refuse the span (a day's offset change can
make a year of days an hour too long for it)."""


def _period(viewer: Viewer, query: Mapping[str, str], form: Form) -> tuple[str, str] | None:
    """[first day, last day] in the business's zone as an API window, this month so far by
    default; None, with the reason beside the date, for a malformed date, an end before the
    start, or more than billing's longest statement."""
    tz = ZoneInfo(viewer.timezone)
    today = datetime.now(UTC).astimezone(tz).date()
    form.values = {
        "from": query.get("from") or today.replace(day=1).isoformat(),
        "to": query.get("to") or today.isoformat(),
    }
    days: dict[str, date] = {}
    for name, text in form.values.items():
        try:
            days[name] = date.fromisoformat(text)
        except ValueError:
            form.errors[name] = "Enter a date like 2026-11-01."
    if form.errors:
        return None
    first, last = days["from"], days["to"]
    if last < first:
        form.errors["to"] = "Choose an end date on or after the start date."
    elif last - first >= STATEMENT_MAX_PERIOD:
        form.errors["to"] = TOO_LONG
    if form.errors:
        return None
    opens = datetime.combine(first, time(0), tz)
    closes = datetime.combine(last + timedelta(days=1), time(0), tz)
    return opens.isoformat(), closes.isoformat()


@get("/billing/earnings")
async def earnings(ctx: CtxDep) -> Template:
    """The statement for the dates asked; dates it cannot show stay in the form with why."""
    viewer = ctx.require()
    form = Form()
    window = _period(viewer, ctx.request.query_params, form)
    statement: dict[str, Any] = {"totals": [], "lines": []}
    if window is not None:
        try:
            statement = await ctx.get(
                "billing", "/statement", **{"from": window[0], "to": window[1]}
            )
        except ApiError as exc:
            if exc.slug != "invalid-range":
                raise
            form.errors["to"] = TOO_LONG
    return await ctx.page("billing/earnings.html", statement=statement, form=form)


@get("/billing/earnings.csv")
async def earnings_csv(ctx: CtxDep) -> Response[str] | Redirect:
    """The same statement as a CSV download, fetched with the person's own token; dates it
    cannot export lead to the earnings page, which says what to change."""
    viewer = ctx.require()
    query = ctx.request.query_params
    window = _period(viewer, query, Form())
    again = Redirect(f"/billing/earnings?{urlencode(dict(query))}", status_code=303)
    if window is None:
        return again
    try:
        answer = await ctx.send(
            "GET", "billing", "/statement/csv", params={"from": window[0], "to": window[1]}
        )
    except ApiError as exc:
        if exc.slug != "invalid-range":
            raise
        return again
    return Response(
        answer.text,
        media_type="text/csv",
        headers={"content-disposition": answer.headers.get("content-disposition", "attachment")},
    )


@get("/bookings/{booking_id:uuid}/receipt")
async def receipt(ctx: CtxDep, booking_id: FromPath[UUID]) -> Response[str]:
    """The booking's printable receipt, fetched with the person's own token: the browser has
    none for the API."""
    ctx.require()
    answer = await ctx.send("GET", "billing", f"/bookings/{booking_id}/receipt.html")
    return Response(
        answer.text,
        media_type="text/html",
        headers={"content-disposition": answer.headers.get("content-disposition", "attachment")},
    )
