"""What every page handler uses: the caller's context (session, API with their token), page
rendering, form re-display with errors next to fields, and turning API errors into pages."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from litestar import Request, Response
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.response import Redirect, Template

from services.web.api import Api, ApiError
from services.web.formatting import minor_units
from services.web.session import COOKIE, AccessChanged, Sessions, SignedOut, Viewer
from shared.errors import EXCEPTION_HANDLERS, _from_http_exception

log = logging.getLogger("alliance.web")
Req = Request[Any, Any, Any]


class SignInRequired(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class Form:
    """Submitted values and the errors to show beside each field (and above the form)."""

    values: Mapping[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None

    def value(self, name: str, default: Any = "") -> Any:
        return self.values.get(name, default)

    def fail(
        self,
        error: ApiError,
        aliases: Mapping[str, str] | None = None,
        *,
        also: tuple[int, ...] = (),
    ) -> Form:
        """Put an API problem's field messages on the form's fields; errors the person cannot
        fix here (a missing page, an expired session, an outage) propagate to their pages.

        `aliases` maps API field paths (or their prefixes) to form field names; a path with
        no matching field leaves its message in the banner above the form.
        """
        if not error.correctable(*also):
            raise error
        # A body the API could not read names the request, not the person's mistake.
        self.message = None if error.slug == "validation-error" else error.detail
        for path, text in error.fields().items():
            name = _form_name(path, aliases or {})
            self.errors[name] = _human(text)
        return self

    def integer(self, name: str, default: int, bounds: tuple[int, int] | None = None) -> int:
        """A whole number typed in the field, within the API's (least, most) when given."""
        text = str(self.values.get(name, "")).strip()
        try:
            number = int(text) if text else default
        except ValueError:
            self.errors[name] = "Enter a whole number"
            return default
        if bounds and not bounds[0] <= number <= bounds[1]:
            self.errors[name] = f"Enter a whole number from {bounds[0]} to {bounds[1]}"
            return default
        return number

    def money(self, name: str, currency: str, *, most: int) -> int | None:
        try:
            return minor_units(str(self.values.get(name, "")), currency, most)
        except ValueError as exc:
            self.errors[name] = str(exc)
            return None


_VALIDATION = (
    (re.compile(r"Expected `str` of length >= 1$"), "Fill this in."),
    (re.compile(r"Expected `str` of length >= (\d+)$"), "Use at least {0} characters."),
    (re.compile(r"Expected `str` of length <= (\d+)$"), "Use at most {0} characters."),
    (re.compile(r"Expected `array` of length <= (\d+)$"), "Choose at most {0}."),
    (re.compile(r"Expected `(?:int|float)` >= (\S+)$"), "Enter {0} or more."),
    (re.compile(r"Expected `(?:int|float)` <= (\S+)$"), "Enter {0} or less."),
    (re.compile(r"^Invalid enum value"), "Choose one of the options."),
    (re.compile(r"^Object missing required field"), "Fill this in."),
    (re.compile(r"^Expected `str` matching regex"), "This is not in the expected format."),
    (re.compile(r"^Expected `[^`]+`, got `[^`]+`$"), "This value is not valid here."),
)
"""The services' body validation messages (msgspec's words) as people read them; pages check
their own fields first, in the units people type, so these are the last resort."""


def _human(message: str) -> str:
    for pattern, text in _VALIDATION:
        if found := pattern.search(message):
            return text.format(*found.groups())
    return message


def _form_name(path: str, aliases: Mapping[str, str]) -> str:
    for prefix in sorted(aliases, key=len, reverse=True):
        if path == prefix or path.startswith((prefix + ".", prefix + "[")):
            return aliases[prefix]
    return path.rsplit(".", 1)[-1]


@dataclass
class Ctx:
    """One request's caller: their session (if any) and the APIs as they may use them."""

    request: Req
    api: Api
    sessions: Sessions
    sid: str | None
    data: dict[str, Any] | None

    @property
    def viewer(self) -> Viewer | None:
        return Viewer.of(self.data) if self.data else None

    def require(self) -> Viewer:
        if self.viewer is None:
            raise SignInRequired
        return self.viewer

    def require_staff(self) -> Viewer:
        viewer = self.require()
        if not viewer.staff:
            raise Forbidden("This page is for platform moderators.")
        return viewer

    async def send(self, method: str, service: str, path: str, **kwargs: Any) -> httpx.Response:
        """The API as this caller: with their access token (renewed if due or revoked) when
        signed in."""
        if self.sid and self.data:
            return await self.sessions.send(
                self.sid, self.data, self.api, method, service, path, **kwargs
            )
        return await self.api.send(method, service, path, **kwargs)

    async def call(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        answer = await self.send(method, service, path, **kwargs)
        return answer.json() if answer.content else None

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return await self.call("GET", service, path, params=params)

    async def post(self, service: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        return await self.call("POST", service, path, json=body, **kwargs)

    async def act(self, service: str, path: str, done: str, **kwargs: Any) -> bool:
        """Post an action and tell the next page how it went. Refusals people can do something
        about (a conflict, a rule, a missing reason) become an error notice; others propagate."""
        try:
            await self.call("POST", service, path, **kwargs)
        except ApiError as exc:
            if not exc.correctable():
                raise
            await self.flash(exc.detail, "error")
            return False
        await self.flash(done)
        return True

    async def flash(self, text: str, kind: str = "ok") -> None:
        if self.sid and self.data:
            await self.sessions.flash(self.sid, kind, text)

    async def page(self, template: str, *, status: int = 200, **context: Any) -> Template:
        flashes = await self.sessions.flashes(self.sid) if self.sid and self.data else []
        return Template(
            template,
            context={"viewer": self.viewer, "flashes": flashes, **context},
            status_code=status,
        )

    async def form(self) -> Form:
        data = await self.request.form()
        return Form(values={k: v for k, v in data.items() if k != "_csrf_token"})

    async def form_lists(self) -> dict[str, list[Any]]:
        """Every value of repeated fields (checkbox groups, weekly hours rows)."""
        data = await self.request.form()
        return {k: data.getall(k) for k in data if k != "_csrf_token"}


async def provide_ctx(request: Req, state: State) -> Ctx:
    sessions: Sessions = state.sessions
    sid = request.cookies.get(COOKIE)
    data = request.state.session_data = await sessions.load(sid)
    return Ctx(request=request, api=state.api, sessions=sessions, sid=sid, data=data)


CtxDep = NamedDependency[Ctx]
"""How page handlers ask for their caller's context: `ctx: CtxDep`."""


def see_other(url: str) -> Redirect:
    """After a form post: the browser GETs the next page (HTMX follows it too)."""
    return Redirect(url, status_code=303)


def next_url(value: Any, default: str = "/") -> str:
    """Only same-site paths: a `next` parameter must not send people elsewhere."""
    text = str(value or "")
    return text if text.startswith("/") and not text.startswith("//") else default


def _page_error(request: Req, status: int, title: str, detail: str) -> Response[Any]:
    template = "errors/not_found.html" if status == 404 else "errors/error.html"
    # People whose session was already loaded keep their header on error pages.
    data = getattr(request.state, "session_data", None)
    viewer = Viewer.of(data) if data else None
    return Template(
        template,
        context={"viewer": viewer, "status": status, "title": title, "detail": detail},
        status_code=status,
    )


def _is_api(request: Req) -> bool:
    return request.url.path.startswith(("/api/", "/health/"))


def _sign_in(request: Req) -> Response[Any]:
    target = f"/signin?next={quote(request.url.path)}"
    sessions: Sessions = request.app.state.sessions
    if request.headers.get("hx-request"):
        response: Response[Any] = Response(None, status_code=204, headers={"HX-Redirect": target})
    else:
        response = Redirect(target, status_code=303)
    response.set_cookie(sessions.expired_cookie())
    return response


def on_signed_out(request: Req, exc: Exception) -> Response[Any]:
    return _sign_in(request)


def on_access_changed(request: Req, exc: AccessChanged) -> Response[Any]:
    """The business was taken away mid-visit: the home page, with the notice saying why."""
    if request.headers.get("hx-request"):
        return Response(None, status_code=204, headers={"HX-Redirect": "/"})
    return Redirect("/", status_code=303)


def on_forbidden(request: Req, exc: Forbidden) -> Response[Any]:
    return _page_error(request, 403, "Not allowed", exc.detail)


def on_api_error(request: Req, exc: ApiError) -> Response[Any]:
    """An API refusal no handler dealt with: 404s are a not-found page, expired sessions send
    people to sign in, the rest an error page with the service's own words."""
    if exc.status == 401:
        return _sign_in(request)
    if exc.status == 404:
        return _page_error(request, 404, "Not found", "We could not find that page.")
    if exc.status == 403:
        return _page_error(request, 403, "Not allowed", exc.detail)
    status = exc.status if exc.status < 500 else 502
    return _page_error(request, status, "Something went wrong", exc.detail)


def on_http_error(request: Req, exc: HTTPException) -> Response[Any]:
    """Problem details for the APIs' paths (as every service answers), pages elsewhere.

    The web app handles this itself rather than through the problem-details plugin, whose
    handler would also answer JSON to browsers (a refused CSRF token, a wrong URL)."""
    if _is_api(request):
        problem = exc if isinstance(exc, ProblemDetailsException) else _from_http_exception(exc)
        return problem.to_response(request)
    if isinstance(exc, NotFoundException):
        return _page_error(request, 404, "Not found", "We could not find that page.")
    if exc.status_code == 403 and "CSRF" in exc.detail:
        detail = "This form has expired. Reload the page and try again."
        return _page_error(request, 403, "Form expired", detail)
    return _page_error(request, exc.status_code, "Something went wrong", exc.detail)


def on_crash(request: Req, exc: Exception) -> Response[Any]:
    if _is_api(request):
        answer: Response[Any] = EXCEPTION_HANDLERS[Exception](request, exc)
        return answer
    log.exception("page failed", exc_info=exc)
    return _page_error(request, 500, "Something went wrong", "The error has been logged.")


PAGE_EXCEPTION_HANDLERS = {
    SignInRequired: on_signed_out,
    SignedOut: on_signed_out,
    AccessChanged: on_access_changed,
    Forbidden: on_forbidden,
    ApiError: on_api_error,
    HTTPException: on_http_error,
    Exception: on_crash,
}
