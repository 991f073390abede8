"""Signing up, in and out, switching and creating businesses, joining one by invitation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args
from urllib.parse import urlsplit

from litestar import get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from services.accounts import domain, schemas
from services.web.api import ApiError
from services.web.pages.common import Ctx, CtxDep, Form, next_url, see_other
from services.web.session import session_data
from shared.errors import Problem

COUNTRIES = [
    ("FR", "France"),
    ("BE", "Belgium"),
    ("DE", "Germany"),
    ("ES", "Spain"),
    ("IT", "Italy"),
    ("NL", "Netherlands"),
    ("CH", "Switzerland"),
    ("GB", "United Kingdom"),
    ("US", "United States"),
]
CURRENCIES = [
    ("EUR", "Euro (€)"),
    ("GBP", "Pound sterling (£)"),
    ("CHF", "Swiss franc"),
    ("USD", "US dollar ($)"),
]
TIMEZONES = [
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Zurich",
    "Europe/London",
    "America/New_York",
    "UTC",
]
NAME_MAX: int = get_args(schemas.Name)[1].max_length
LIMITS = {
    "name_max": NAME_MAX,
    "email_max": get_args(schemas.Text)[1].max_length,
    "min_password": domain.MIN_PASSWORD,
    "max_password": domain.MAX_PASSWORD,
}
"""The accounts API's limits, for the pages' password hints and fields' `maxlength`."""
BUSINESS_FIELDS = {
    "business.name": "business_name",
    "business.slug": "slug",
    "business.country": "country",
    "business.currency": "currency",
    "business.timezone": "timezone",
}


def business_body(form: Form) -> dict[str, Any]:
    return {
        "name": form.value("business_name").strip(),
        "slug": form.value("slug").strip().lower(),
        "country": form.value("country", "FR"),
        "currency": form.value("currency", "EUR"),
        "timezone": form.value("timezone", "Europe/Paris"),
    }


def business_choices() -> dict[str, Any]:
    return {
        "countries": COUNTRIES,
        "currencies": CURRENCIES,
        "timezones": [(z, z.replace("_", " ")) for z in TIMEZONES],
    }


def _name(value: str, field: str) -> None:
    domain.check_name(value, field)
    if len(value.strip()) > NAME_MAX:
        raise domain.invalid(field, f"Use at most {NAME_MAX} characters.")


def signup_errors(body: dict[str, Any]) -> dict[str, str]:
    """Every signup field the accounts rules refuse, by form field, all at once: the API stops
    at the first, and people should fix everything in one go."""
    business = body["business"]
    checks: dict[str, Callable[[], object]] = {
        "name": lambda: _name(body["name"], "name"),
        "email": lambda: domain.normalize_email(body["email"]),
        "password": lambda: domain.check_password(body["password"], body["email"]),
        "business_name": lambda: _name(business["name"], "business_name"),
        "slug": lambda: domain.check_slug(business["slug"]),
        "business": lambda: domain.check_business(
            business["country"], business["currency"], business["timezone"]
        ),
    }
    errors: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
        except Problem as exc:
            field = exc.extra.get("field") if isinstance(exc.extra, dict) else None
            errors[str(field or name)] = exc.detail
    return errors


async def _signed_in(
    ctx: Ctx, answer: dict[str, Any], target: str, notice: str | None = None
) -> Redirect:
    """Keep the new tokens server-side and give the browser only the session id; `notice`
    greets the next page."""
    me = await ctx.api.call("GET", "accounts", "/me", token=answer["access_token"])
    sid = await ctx.sessions.open(session_data(answer, me))
    if notice:
        await ctx.sessions.flash(sid, "ok", notice)
    response = see_other(target)
    response.set_cookie(ctx.sessions.cookie(sid))
    return response


def _landing(answer: dict[str, Any]) -> str:
    if answer.get("tenant"):
        return "/listings"
    return "/moderation" if answer["user"].get("platform_role") else "/businesses/new"


@get("/signin")
async def signin_form(
    ctx: CtxDep, next: FromQuery[str] = "", reset: FromQuery[str] = ""
) -> Template:
    """`next`: where to go once signed in; `reset=done` after a password reset."""
    return await ctx.page("auth/signin.html", form=Form(values={"next": next}), reset=reset)


@post("/signin")
async def signin(ctx: CtxDep) -> Template | Redirect:
    form = await ctx.form()
    body = {"email": form.value("email").strip(), "password": form.value("password")}
    try:
        answer = await ctx.api.call("POST", "accounts", "/sessions", json=body)
    except ApiError as exc:
        form.fail(exc, also=(401,))
        return await ctx.page("auth/signin.html", form=form, status=exc.status)
    return await _signed_in(ctx, answer, next_url(form.value("next"), _landing(answer)))


@get("/signup")
async def signup_form(ctx: CtxDep) -> Template:
    return await ctx.page("auth/signup.html", form=Form(), **business_choices(), **LIMITS)


@post("/signup")
async def signup(ctx: CtxDep) -> Template | Redirect:
    form = await ctx.form()
    body = {
        "email": form.value("email").strip(),
        "password": form.value("password"),
        "name": form.value("name").strip(),
        "business": business_body(form),
    }
    form.errors = signup_errors(body)
    if form.errors:
        return await ctx.page(
            "auth/signup.html", form=form, status=422, **business_choices(), **LIMITS
        )
    try:
        answer = await ctx.api.call("POST", "accounts", "/signup", json=body)
    except ApiError as exc:
        form.fail(exc, BUSINESS_FIELDS)
        return await ctx.page(
            "auth/signup.html", form=form, status=exc.status, **business_choices(), **LIMITS
        )
    return await _signed_in(ctx, answer, "/team")


@post("/signout")
async def signout(ctx: CtxDep) -> Redirect:
    if ctx.sid and (data := await ctx.sessions.close(ctx.sid)):
        body = {"refresh_token": data["refresh_token"]}
        await ctx.api.call("POST", "accounts", "/sessions/sign-out", json=body)
    response = see_other("/")
    response.set_cookie(ctx.sessions.expired_cookie())
    return response


@post("/switch")
async def switch(ctx: CtxDep) -> Redirect:
    """Act for another of one's businesses; the page one was on reloads for it."""
    ctx.require()
    assert ctx.sid is not None and ctx.data is not None
    form = await ctx.form()
    await ctx.sessions.renew(ctx.sid, ctx.data, ctx.api, tenant=form.value("tenant"))
    back = urlsplit(ctx.request.headers.get("referer", "")).path
    return see_other(next_url(back, "/listings"))


@get("/businesses/new")
async def business_form(ctx: CtxDep) -> Template:
    ctx.require()
    return await ctx.page("auth/business_new.html", form=Form(), **business_choices(), **LIMITS)


@post("/businesses/new")
async def create_business(ctx: CtxDep) -> Template | Redirect:
    ctx.require()
    assert ctx.sid is not None and ctx.data is not None
    form = await ctx.form()
    body = business_body(form)
    try:
        await ctx.post("accounts", "/tenants", body)
    except ApiError as exc:
        form.fail(exc, {"name": "business_name"})
        return await ctx.page(
            "auth/business_new.html", form=form, status=exc.status, **business_choices(), **LIMITS
        )
    await ctx.sessions.renew(ctx.sid, ctx.data, ctx.api, tenant=body["slug"])
    await ctx.flash(f"{body['name']} is ready. You are now acting for it.")
    return see_other("/team")


async def _accept_page(ctx: Ctx, form: Form, status: int = 200) -> Template:
    """The invitation as its link offers it (business, role, who invited); a link that no
    longer works says why instead of showing a form that would only fail."""
    offer, gone = None, None
    try:
        offer = await ctx.get("accounts", "/invitations/preview", token=form.value("token"))
    except ApiError as exc:
        if not exc.correctable():
            raise
        gone = "This link is not valid." if exc.slug == "validation-error" else exc.detail
        status = max(status, exc.status)
    return await ctx.page(
        "auth/accept.html", form=form, offer=offer, gone=gone, status=status, **LIMITS
    )


@get("/invitations/accept")
async def invitation(ctx: CtxDep, token: FromQuery[str] = "") -> Template:
    """The mailed link lands here: join as the signed-in person, or as a new account."""
    return await _accept_page(ctx, Form(values={"token": token}))


@post("/invitations/accept")
async def accept_invitation(ctx: CtxDep) -> Template | Redirect:
    form = await ctx.form()
    body: dict[str, Any] = {"token": form.value("token")}
    if ctx.viewer is None:
        body |= {"name": form.value("name").strip(), "password": form.value("password")}
    try:
        answer = await ctx.post("accounts", "/invitations/accept", body)
    except ApiError as exc:
        form.fail(exc, also=(401,))
        return await _accept_page(ctx, form, exc.status)
    if ctx.sid:
        await ctx.sessions.close(ctx.sid)
    return await _signed_in(ctx, answer, "/team")


@get("/account")
async def account(ctx: CtxDep) -> Template:
    """The signed-in person's own settings: for now, their password."""
    ctx.require()
    return await ctx.page("auth/account.html", form=Form(), **LIMITS)


@post("/account/password")
async def change_password(ctx: CtxDep) -> Template | Redirect:
    """Accounts ends every session of the person and gives this device new tokens: they go
    to a new browser session (new id), the old one is closed."""
    ctx.require()
    assert ctx.sid is not None
    form = await ctx.form()
    body = {
        "current_password": form.value("current_password"),
        "new_password": form.value("new_password"),
    }
    try:
        answer = await ctx.post("accounts", "/me/password", body)
    except ApiError as exc:
        form.fail(exc, {"password": "new_password"})
        return await ctx.page("auth/account.html", form=form, status=exc.status, **LIMITS)
    await ctx.sessions.close(ctx.sid)
    notice = "Your password is changed. Every other device signed in as you is now signed out."
    return await _signed_in(ctx, answer, "/account", notice)


@get("/password-reset")
async def reset_request_form(ctx: CtxDep) -> Template:
    return await ctx.page("auth/reset_request.html", form=Form(), sent=False)


@post("/password-reset")
async def reset_request(ctx: CtxDep) -> Template:
    """Accounts answers the same whether or not the address has an account."""
    form = await ctx.form()
    try:
        await ctx.post("accounts", "/password-resets", {"email": form.value("email").strip()})
    except ApiError as exc:
        form.fail(exc)
        return await ctx.page("auth/reset_request.html", form=form, sent=False, status=exc.status)
    return await ctx.page("auth/reset_request.html", form=form, sent=True)


@get("/reset-password")
async def reset_form(ctx: CtxDep, token: FromQuery[str] = "") -> Template:
    """The mailed link lands here."""
    return await ctx.page("auth/reset.html", form=Form(values={"token": token}), **LIMITS)


@post("/reset-password")
async def reset(ctx: CtxDep) -> Template | Redirect:
    form = await ctx.form()
    body = {"token": form.value("token"), "new_password": form.value("new_password")}
    try:
        await ctx.post("accounts", "/password-resets/confirm", body)
    except ApiError as exc:
        form.fail(exc, {"password": "new_password"}, also=(401,))
        return await ctx.page("auth/reset.html", form=form, status=exc.status, **LIMITS)
    return see_other("/signin?reset=done")
