"""ASGI app: the Stripe-compatible /v1 API, the hosted pages and a few /_sim helpers.

All /v1 traffic goes through one catch-all route into `routing.handle`, which owns Stripe's
shared semantics; Litestar only routes the HTML pages and admin endpoints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from litestar import Litestar, MediaType, Request, Response, get, post, route
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath

from . import billing, checkout, connect, events, payments
from .errors import StripeError
from .pages import checkout_page, message_page, onboarding_page
from .persist import StateFile
from .routing import Router, handle, unknown_endpoint
from .sim import Simulator
from .webhooks import encode_event

DEFAULT_WEBHOOK_SECRET = "whsec_test_alliance"  # noqa: S105 - a public test-mode default
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8010"
READ_ONLY = frozenset({"/_sim/health", "/_sim/deliveries"})


def build_router() -> Router:
    router = Router()
    for module in (connect, payments, billing, checkout, events):
        module.register(router)
    return router


def _json(body: Any, status: int = 200) -> Response[Any]:
    return Response(content=body, status_code=status, media_type=MediaType.JSON)


def _html(body: str, status: int = 200) -> Response[str]:
    return Response(content=body, status_code=status, media_type=MediaType.HTML)


def _redirect(url: str) -> Response[str]:
    return Response(content="", status_code=303, headers={"Location": url})


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    return dict(
        parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    )


def _not_found(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Unknown URLs (and wrong methods) answer like Stripe: 404 `invalid_request_error`."""
    return _json(unknown_endpoint(request.method, request.url.path), 404)


def create_app(
    *,
    webhook_url: str | None = None,
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
    public_url: str = DEFAULT_PUBLIC_URL,
    state_file: Path | None = None,
) -> Litestar:
    """A simulator with its own state: in memory, or kept in `state_file` across restarts.

    `public_url` is where browsers reach this server (used in Checkout / Account Link URLs);
    `webhook_url`, when set, receives every event signed with `webhook_secret`.
    """
    sim = Simulator(public_url=public_url, webhook_url=webhook_url, webhook_secret=webhook_secret)
    checkout.install(sim)
    saved = StateFile(sim, state_file) if state_file is not None else None
    if saved is not None:
        saved.load()
    router = build_router()

    @route("/v1/{path:path}", http_method=["GET", "POST", "DELETE"], name="stripe_api")
    async def api(request: Request[Any, Any, Any]) -> Response[bytes]:
        result = handle(
            sim,
            router,
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            body=await request.body() if request.method == "POST" else b"",
            headers={k.lower(): v for k, v in request.headers.items()},
        )
        return Response(
            content=result.body,
            status_code=result.status,
            headers=result.headers,
            media_type=MediaType.JSON,
        )

    @get("/checkout/{session_id:str}", name="checkout_page")
    async def show_checkout(session_id: FromPath[str]) -> Response[str]:
        session = sim.store.find(session_id)
        if session is None or session.get("object") != "checkout.session":
            return _html(message_page("Not found", "This Checkout Session does not exist."), 404)
        checkout.refresh_expiry(sim, session)
        if session["status"] == "complete":
            return _html(
                message_page(
                    "Payment complete",
                    "This Checkout Session is already complete.",
                    link=checkout.success_redirect(session),
                )
            )
        if session["status"] == "expired":
            return _html(
                message_page(
                    "Session expired",
                    "This Checkout Session has expired.",
                    link=session["cancel_url"],
                    link_text="Return to merchant",
                ),
                410,
            )
        return _render_checkout(session)

    @post("/checkout/{session_id:str}", name="checkout_pay")
    async def pay_checkout(
        request: Request[Any, Any, Any], session_id: FromPath[str]
    ) -> Response[str]:
        session = sim.store.find(session_id)
        if session is None or session.get("object") != "checkout.session":
            return _html(message_page("Not found", "This Checkout Session does not exist."), 404)
        form = await _form(request)
        result = checkout.pay(
            sim,
            session,
            form.get("card_number", ""),
            form.get("email", "").strip(),
            form.get("name", "").strip(),
        )
        if result.ok:
            if result.redirect is not None:
                return _redirect(result.redirect)
            return _html(message_page("Payment complete", "Thanks! You can close this page."))
        if session["status"] != "open":
            return _html(message_page("Checkout unavailable", result.error or ""), result.status)
        return _render_checkout(
            session,
            error=result.error,
            card_number=form.get("card_number", ""),
            email=form.get("email", ""),
            status=result.status,
        )

    def _render_checkout(
        session: dict[str, Any],
        *,
        error: str | None = None,
        card_number: str = "",
        email: str = "",
        status: int = 200,
    ) -> Response[str]:
        items = sim.store.side(session["id"])["line_items"]
        names = [str(i["description"]) for i in items]
        prefill = email or session["customer_email"] or ""
        if not prefill and session["customer"]:
            prefill = (sim.store.find(session["customer"]) or {}).get("email") or ""
        html = checkout_page(
            session, items, names, error=error, card_number=card_number, email=prefill
        )
        return _html(html, status)

    @get("/connect/onboard/{account_id:str}", name="onboarding_page")
    async def show_onboarding(
        request: Request[Any, Any, Any], account_id: FromPath[str]
    ) -> Response[str]:
        account = sim.store.find(account_id)
        if account is None or account.get("object") != "account":
            return _html(message_page("Not found", "This account link is invalid."), 404)
        return_url = request.query_params.get("return_url", "")
        refresh_url = request.query_params.get("refresh_url", return_url)
        return _html(onboarding_page(account, return_url, refresh_url))

    @post("/connect/onboard/{account_id:str}", name="onboarding_submit")
    async def submit_onboarding(
        request: Request[Any, Any, Any], account_id: FromPath[str]
    ) -> Response[str]:
        account = sim.store.find(account_id)
        if account is None or account.get("object") != "account":
            return _html(message_page("Not found", "This account link is invalid."), 404)
        form = await _form(request)
        return_url = form.get("return_url") or request.query_params.get("return_url", "")
        if form.get("action", "complete") == "complete":
            connect.complete_onboarding(sim, account)
        if not return_url:
            return _html(message_page("Onboarding finished", "You can close this page."))
        return _redirect(return_url)

    @get("/_sim/health", name="sim_health")
    async def health() -> Response[Any]:
        return _json({"status": "ok", "objects": len(sim.store.objects)})

    @get("/_sim/deliveries", name="sim_deliveries")
    async def deliveries() -> Response[Any]:
        return _json({"data": [d.as_json() for d in sim.webhooks.deliveries]})

    @post("/_sim/events/{event_id:str}/resend", name="sim_resend")
    async def resend(event_id: FromPath[str]) -> Response[Any]:
        """Deliver an event again right now (duplicate-delivery tests); answers the outcome."""
        event = sim.store.find(event_id)
        if event is None or event.get("object") != "event":
            return _json(
                StripeError(
                    404, f"No such event: '{event_id}'", code="resource_missing", param="id"
                ).body(),
                404,
            )
        results = []
        for endpoint in sim.webhooks.targets(event["type"]):
            attempt = 1 + sum(
                1 for d in sim.webhooks.deliveries if d.event == event_id and d.url == endpoint.url
            )
            ok = await sim.webhooks.deliver(event, endpoint, attempt=attempt)
            results.append(
                {
                    "url": endpoint.url,
                    "ok": ok,
                    "status_code": sim.webhooks.deliveries[-1].status_code,
                }
            )
        return _json({"id": event_id, "deliveries": results, "payload": encode_event(event)})

    @post("/_sim/subscriptions/{sub_id:str}/renew", name="sim_renew")
    async def renew(sub_id: FromPath[str]) -> Response[Any]:
        """Advance a subscription by one period now (renewal invoice, or end if cancelling)."""
        try:
            sub = sim.store.get("subscription", sub_id)
            billing.renew_subscription(sim, sub)
        except StripeError as exc:
            return _json(exc.body(), exc.status)
        return _json(sub)

    @post("/_sim/charges/{charge_id:str}/dispute", name="sim_dispute")
    async def dispute(request: Request[Any, Any, Any], charge_id: FromPath[str]) -> Response[Any]:
        """The cardholder disputes a captured charge (form `reason`, default `fraudulent`)."""
        try:
            found = payments.open_dispute(sim, charge_id, (await _form(request)).get("reason"))
        except StripeError as exc:
            return _json(exc.body(), exc.status)
        return _json(found)

    @post("/_sim/accounts/{account_id:str}/lapse", name="sim_lapse")
    async def lapse(account_id: FromPath[str]) -> Response[Any]:
        """A connected account's verification lapses: charges and payouts are disabled."""
        try:
            account = sim.store.get("account", account_id)
        except StripeError as exc:
            return _json(exc.body(), exc.status)
        connect.lapse_verification(sim, account)
        return _json(account)

    @post("/_sim/webhooks/withhold", name="sim_withhold")
    async def withhold(request: Request[Any, Any, Any]) -> Response[Any]:
        """Stop delivering events of the form's comma-separated `types` (`*`, `payment_intent.*`
        and exact types); an empty `types` delivers everything again."""
        types = (await _form(request)).get("types", "")
        sim.webhooks.withheld = [t.strip() for t in types.split(",") if t.strip()]
        return _json({"withheld": sim.webhooks.withheld})

    handlers: list[BaseRouteHandler] = [
        api,
        show_checkout,
        pay_checkout,
        show_onboarding,
        submit_onboarding,
        health,
        deliveries,
        resend,
        renew,
        dispute,
        lapse,
        withhold,
    ]

    async def after_response(request: Request[Any, Any, Any]) -> None:
        """Any request but the read-only helpers may have changed state (even a GET can
        expire a checkout session)."""
        if saved is not None and request.url.path not in READ_ONLY:
            saved.changed()

    app = Litestar(
        route_handlers=handlers,
        on_startup=[sim.webhooks.start, *([saved.start] if saved else [])],
        on_shutdown=[sim.webhooks.stop, *([saved.stop] if saved else [])],
        after_response=after_response,
        exception_handlers={
            NotFoundException: _not_found,
            MethodNotAllowedException: _not_found,
        },
        openapi_config=None,
        logging_config=None,  # never reconfigure the host process's logging
    )
    app.state.sim = sim
    return app


__all__ = ["DEFAULT_PUBLIC_URL", "DEFAULT_WEBHOOK_SECRET", "create_app"]
