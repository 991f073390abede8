"""Checkout Sessions: the API and what paying on the hosted page does.

As in Stripe (API >= 2022-08-01) a payment-mode session creates its PaymentIntent only when the
buyer submits the page, so `payment_intent` is null until then. Manual capture completes the
session with `payment_status="unpaid"` (authorised, not yet captured); automatic capture with
`"paid"`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import billing, connect
from .cards import card_for_number
from .errors import StripeError, invalid_param, missing_param
from .forms import Params
from .money import validate_amount
from .payments import (
    CAPTURE_METHODS,
    cancel_intent,
    confirm_intent,
    new_payment_intent,
    payment_method_for_card,
)
from .routing import ApiRequest, Router, page
from .sim import Simulator
from .store import JSON, list_object, new_id, now, snapshot

SESSION_TTL = 24 * 3600


@dataclass
class PayResult:
    """Outcome of submitting the hosted page: a redirect target or an error to re-render."""

    ok: bool
    redirect: str | None = None
    error: str | None = None
    status: int = 200


def _line_item(sim: Simulator, p: Params, mode: str) -> JSON:
    quantity = p.integer("quantity", minimum=1)
    if quantity is None:
        raise missing_param(p.label("quantity"))
    price_id = p.text("price")
    if price_id is not None:
        price = sim.store.get("price", price_id, param=p.label("price"), status=400)
    elif p.sub("price_data").data:
        price = billing.new_price(sim, p.sub("price_data"))
    else:
        raise StripeError(
            400,
            "You must specify either `price` or `price_data` for each line item.",
            param=p.label("price"),
            persist=False,
        )
    if mode == "payment" and price["type"] == "recurring":
        raise invalid_param(
            p.label("price"),
            "You specified `payment` mode but passed a recurring price. Either switch to "
            "`subscription` mode or use only one-time prices.",
        )
    if mode == "subscription" and price["type"] != "recurring":
        raise invalid_param(
            p.label("price"),
            "The simulator only supports recurring prices in `subscription` mode.",
        )
    product = sim.store.get("product", price["product"])
    amount = price["unit_amount"] * quantity
    return {
        "id": new_id("li_"),
        "object": "item",
        "adjustable_quantity": None,
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price["currency"],
        "description": product["name"],
        "metadata": {},
        "price": snapshot(price),
        "quantity": quantity,
    }


def create_session(sim: Simulator, p: Params, stripe_account: str | None) -> JSON:
    mode = p.req_text("mode", choices=("payment", "subscription", "setup"))
    if mode == "setup":
        raise invalid_param("mode", "The simulator does not support `setup` mode.")
    raw_items = p.sublist("line_items")
    if not raw_items:
        raise missing_param("line_items")
    customer = p.text("customer")
    customer_email = p.text("customer_email")
    if customer and customer_email:
        raise invalid_param(
            "customer_email",
            "You may only specify one of these parameters: customer, customer_email.",
        )
    if customer is not None:
        sim.store.get("customer", customer, param="customer", status=400)
    customer_creation = p.text("customer_creation", choices=("always", "if_required"))
    if customer_creation and mode != "payment":
        raise invalid_param(
            "customer_creation",
            "`customer_creation` can only be used in `payment` mode.",
        )
    items = [_line_item(sim, item, mode) for item in raw_items]
    currencies = {i["currency"] for i in items}
    if len(currencies) != 1:
        raise invalid_param("line_items", "All line items must use the same currency.")
    currency = currencies.pop()
    total = sum(i["amount_total"] for i in items)

    pid = p.sub("payment_intent_data")
    pi_data: JSON = {}
    if mode == "payment":
        validate_amount(total, currency, "line_items")
        pi_data = {
            "capture_method": pid.text("capture_method", choices=CAPTURE_METHODS)
            or "automatic_async",
            "application_fee_amount": pid.integer("application_fee_amount"),
            "description": pid.text("description"),
            "metadata": pid.metadata() or {},
            "on_behalf_of": pid.text("on_behalf_of"),
            "receipt_email": pid.text("receipt_email"),
            "setup_future_usage": pid.text("setup_future_usage"),
            "statement_descriptor": pid.text("statement_descriptor"),
            "transfer_group": pid.text("transfer_group"),
            "transfer_data": None,
        }
        destination = pid.sub("transfer_data").text("destination")
        if destination is not None:
            connect.require_destination(
                sim, destination, "payment_intent_data[transfer_data][destination]"
            )
            pi_data["transfer_data"] = {
                "amount": pid.sub("transfer_data").integer("amount"),
                "destination": destination,
            }
        fee = pi_data["application_fee_amount"]
        if fee is not None and fee > total:
            raise invalid_param(
                "payment_intent_data[application_fee_amount]",
                "The application fee amount must be less than or equal to the amount.",
            )
        if fee is not None and destination is None and stripe_account is None:
            raise invalid_param(
                "payment_intent_data[application_fee_amount]",
                "Can only apply an application_fee_amount when the PaymentIntent is attempting a "
                "direct payment or destination payment (`transfer_data[destination]`).",
            )
    elif pid.data:
        raise invalid_param(
            "payment_intent_data", "`payment_intent_data` can only be used in `payment` mode."
        )
    sd = p.sub("subscription_data")
    sub_data: JSON = {
        "metadata": sd.metadata() or {},
        "trial_period_days": sd.integer("trial_period_days", minimum=1),
        "application_fee_percent": sd.text("application_fee_percent"),
        "description": sd.text("description"),
        "transfer_destination": sd.sub("transfer_data").text("destination"),
    }
    if sd.data and mode != "subscription":
        raise invalid_param(
            "subscription_data", "`subscription_data` can only be used in `subscription` mode."
        )

    created = now()
    session_id = "cs_test_" + new_id("a1", 56)
    expires_at = p.integer("expires_at") or created + SESSION_TTL
    session = {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": p.text("cancel_url"),
        "client_reference_id": p.text("client_reference_id"),
        "client_secret": None,
        "consent": None,
        "consent_collection": None,
        "created": created,
        "currency": currency,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": customer,
        "customer_creation": (customer_creation or "if_required") if mode == "payment" else None,
        "customer_details": None,
        "customer_email": customer_email,
        "discounts": [],
        "expires_at": expires_at,
        "invoice": None,
        "invoice_creation": None,
        "livemode": False,
        "locale": p.text("locale"),
        "metadata": p.metadata() or {},
        "mode": mode,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "if_required" if mode == "payment" else "always",
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": p.text("submit_type"),
        "subscription": None,
        "success_url": p.text("success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": f"{sim.public_url}/checkout/{session_id}",
    }
    sim.store.add(session, line_items=items, pi_data=pi_data, sub_data=sub_data)
    return session


def line_items_list(sim: Simulator, session: JSON) -> JSON:
    items = [snapshot(i) for i in sim.store.side(session["id"])["line_items"]]
    return list_object(f"/v1/checkout/sessions/{session['id']}/line_items", items)


def expire_session(sim: Simulator, session: JSON) -> None:
    if session["status"] != "open":
        raise StripeError(
            400,
            'Only Checkout Sessions with a status in ["open"] can be expired.',
            param="session",
        )
    if session["payment_intent"]:
        pi = sim.store.get("payment_intent", session["payment_intent"])
        if pi["status"] in ("requires_payment_method", "requires_confirmation"):
            cancel_intent(sim, pi, "abandoned")
    session["status"] = "expired"
    session["url"] = None
    sim.emit("checkout.session.expired", session)


def refresh_expiry(sim: Simulator, session: JSON) -> None:
    """Sessions past `expires_at` expire lazily, the next time anyone looks at them."""
    if session["status"] == "open" and now() >= session["expires_at"]:
        expire_session(sim, session)


def success_redirect(session: JSON) -> str | None:
    url = session["success_url"]
    if url is None:
        return None
    return str(url).replace("{CHECKOUT_SESSION_ID}", session["id"])


def _session_intent(sim: Simulator, session: JSON) -> JSON:
    """The session's PaymentIntent, created on the first payment attempt."""
    if session["payment_intent"] is not None:
        return sim.store.get("payment_intent", session["payment_intent"])
    data: dict[str, Any] = sim.store.side(session["id"])["pi_data"]
    pi = new_payment_intent(
        sim,
        amount=session["amount_total"],
        currency=session["currency"],
        customer=session["customer"],
        **data,
    )
    sim.store.side(pi["id"])["checkout_session"] = session["id"]
    session["payment_intent"] = pi["id"]
    return pi


def pay(sim: Simulator, session: JSON, card_number: str, email: str, name: str) -> PayResult:
    """Submit the hosted page with a card: complete the session, or explain the decline."""
    refresh_expiry(sim, session)
    if session["status"] == "expired":
        return PayResult(False, error="This Checkout Session has expired.", status=410)
    if session["status"] == "complete":
        return PayResult(False, error="This Checkout Session is already complete.", status=409)
    card = card_for_number(card_number)
    if card is None:
        return PayResult(False, error="Your card number is invalid.", status=400)
    side = sim.store.side(session["id"])
    if session["mode"] == "subscription" and card.decline is not None:
        return PayResult(False, error=card.decline.message, status=402)
    customer = session["customer"]
    if customer is not None and not email:
        email = sim.store.get("customer", customer)["email"] or ""
    email = email or session["customer_email"] or ""
    pm = payment_method_for_card(sim, card, email=email or None)
    pm["billing_details"]["name"] = name or None

    if session["mode"] == "payment":
        try:
            pi = _session_intent(sim, session)
            confirm_intent(sim, pi, pm, card)
        except StripeError as exc:
            return PayResult(False, error=exc.message, status=exc.status)
        if customer is None and session["customer_creation"] == "always":
            customer = billing.customer_for_email(sim, email, name)["id"]
            pi["customer"] = customer
        session["payment_status"] = "paid" if pi["status"] == "succeeded" else "unpaid"
    else:
        if customer is None:
            customer = billing.customer_for_email(sim, email, name)["id"]
        pm["customer"] = customer
        sub_data = side["sub_data"]
        items: list[tuple[JSON, int, dict[str, str] | None]] = [
            (i["price"], i["quantity"], None) for i in side["line_items"]
        ]
        sub = billing.create_subscription(
            sim,
            customer=customer,
            items=items,
            metadata=sub_data["metadata"],
            default_payment_method=pm["id"],
            trial_period_days=sub_data["trial_period_days"],
            description=sub_data["description"],
            application_fee_percent=sub_data["application_fee_percent"],
            transfer_destination=sub_data["transfer_destination"],
        )
        session["subscription"] = sub["id"]
        session["invoice"] = sub["latest_invoice"]
        session["payment_status"] = "paid" if sub["status"] == "active" else "no_payment_required"

    session["customer"] = customer
    session["customer_details"] = {
        "address": None,
        "email": email or None,
        "name": name or None,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }
    session["status"] = "complete"
    session["url"] = None
    sim.emit("checkout.session.completed", session)
    return PayResult(True, redirect=success_redirect(session), status=303)


def register(router: Router) -> None:
    @router.route("POST", "/v1/checkout/sessions")
    def create(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(create_session(sim, req.params, req.stripe_account))

    @router.route("GET", "/v1/checkout/sessions")
    def list_sessions(sim: Simulator, req: ApiRequest) -> JSON:
        items = list(reversed(sim.store.all("checkout.session")))
        for s in items:
            refresh_expiry(sim, s)
        for key in ("payment_intent", "customer", "subscription", "status"):
            wanted = req.params.text(key)
            if wanted is not None:
                items = [s for s in items if s[key] == wanted]
        return page(sim, req, "/v1/checkout/sessions", items)

    @router.route("GET", "/v1/checkout/sessions/{session}")
    def retrieve(sim: Simulator, req: ApiRequest) -> JSON:
        session = sim.store.get("checkout.session", req.arg("session"))
        refresh_expiry(sim, session)
        return snapshot(session)

    @router.route("GET", "/v1/checkout/sessions/{session}/line_items")
    def line_items(sim: Simulator, req: ApiRequest) -> JSON:
        session = sim.store.get("checkout.session", req.arg("session"))
        return line_items_list(sim, session)

    @router.route("POST", "/v1/checkout/sessions/{session}/expire")
    def expire(sim: Simulator, req: ApiRequest) -> JSON:
        session = sim.store.get("checkout.session", req.arg("session"))
        expire_session(sim, session)
        return snapshot(session)


def install(sim: Simulator) -> None:
    """Fields that only exist when expanded (`expand[]=line_items`)."""
    sim.virtual_fields[("checkout.session", "line_items")] = lambda session: line_items_list(
        sim, session
    )
