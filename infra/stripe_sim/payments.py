"""PaymentMethods, PaymentIntents, Charges and Refunds, following Stripe's state machine.

requires_payment_method -> (confirm) -> requires_capture (manual) | succeeded (automatic);
requires_capture -> capture -> succeeded, or -> cancel -> canceled. The Charge is created when
the card is authorised; the destination transfer and application fee when money is captured.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import connect
from .cards import CARDS, PM_TOKENS, CardSpec, Decline
from .errors import StripeError, invalid_param, missing_param, no_such, unexpected_state
from .forms import Params, merge_metadata
from .money import format_amount, validate_amount, validate_currency
from .routing import ApiRequest, Router, page
from .sim import Simulator
from .store import JSON, new_id, now, snapshot

CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CANCEL_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


# -- payment methods ----------------------------------------------------------------------


def payment_method_for_card(sim: Simulator, card: CardSpec, *, email: str | None = None) -> JSON:
    """A fresh `pm_...` for a test card, as Stripe mints one per use of a `pm_card_*` token."""
    year = dt.date.today().year + 3
    pm = {
        "id": new_id("pm_"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": email,
            "name": None,
            "phone": None,
        },
        "card": {
            "brand": card.brand,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass",
            },
            "country": "US",
            "display_brand": card.brand,
            "exp_month": 12,
            "exp_year": year,
            "fingerprint": "sim" + card.number[-8:],
            "funding": card.funding,
            "generated_from": None,
            "last4": card.last4,
            "networks": {"available": [card.brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": now(),
        "customer": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }
    return sim.store.add(pm, card=card)


def resolve_payment_method(sim: Simulator, ref: str, param: str) -> tuple[JSON, CardSpec]:
    """`pm_card_visa`-style test tokens or an existing `pm_...` id."""
    number = PM_TOKENS.get(ref)
    if number is not None:
        card = CARDS[number]
        return payment_method_for_card(sim, card), card
    pm = sim.store.find(ref)
    if pm is None or pm.get("object") != "payment_method":
        raise no_such("PaymentMethod", ref, param=param, status=400)
    card = sim.store.side(pm["id"])["card"]
    assert isinstance(card, CardSpec)
    return pm, card


# -- payment intents ----------------------------------------------------------------------


def new_payment_intent(
    sim: Simulator,
    *,
    amount: int,
    currency: str,
    capture_method: str = "automatic_async",
    customer: str | None = None,
    metadata: dict[str, str] | None = None,
    application_fee_amount: int | None = None,
    transfer_data: JSON | None = None,
    description: str | None = None,
    receipt_email: str | None = None,
    on_behalf_of: str | None = None,
    transfer_group: str | None = None,
    statement_descriptor: str | None = None,
    setup_future_usage: str | None = None,
    stripe_account: str | None = None,
    param_prefix: str = "",
) -> JSON:
    """Validate and store a PaymentIntent in `requires_payment_method` (emits `.created`)."""
    validate_amount(amount, currency, f"{param_prefix}amount" if param_prefix else "amount")
    if application_fee_amount is not None:
        if transfer_data is None and stripe_account is None and on_behalf_of is None:
            raise StripeError(
                400,
                "Can only apply an application_fee_amount when the PaymentIntent is attempting a "
                "direct payment (using an OAuth key or Stripe-Account header) or destination "
                "payment (using `transfer_data[destination]`).",
                param=f"{param_prefix}application_fee_amount",
                persist=False,
            )
        if application_fee_amount > amount:
            raise invalid_param(
                f"{param_prefix}application_fee_amount",
                "The application fee amount must be less than or equal to the amount.",
            )
    if transfer_data is not None:
        connect.require_destination(
            sim, transfer_data["destination"], f"{param_prefix}transfer_data[destination]"
        )
    if customer is not None:
        sim.store.get("customer", customer, param=f"{param_prefix}customer", status=400)
    pi_id = new_id("pi_")
    pi = {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": application_fee_amount,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": capture_method,
        "client_secret": f"{pi_id}_secret_{new_id('', 25)}",
        "confirmation_method": "automatic",
        "created": now(),
        "currency": currency,
        "customer": customer,
        "description": description,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": metadata or {},
        "next_action": None,
        "on_behalf_of": on_behalf_of,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            },
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": receipt_email,
        "review": None,
        "setup_future_usage": setup_future_usage,
        "shipping": None,
        "source": None,
        "statement_descriptor": statement_descriptor,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": transfer_data,
        "transfer_group": transfer_group,
    }
    sim.store.add(pi)
    sim.emit("payment_intent.created", pi)
    return pi


def _new_charge(
    sim: Simulator, pi: JSON, pm: JSON, card: CardSpec, decline: Decline | None
) -> JSON:
    captured = decline is None and pi["capture_method"] != "manual"
    charge_id = new_id("ch_")
    charge = {
        "id": charge_id,
        "object": "charge",
        "amount": pi["amount"],
        "amount_captured": pi["amount"] if captured else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": pi["application_fee_amount"],
        "balance_transaction": new_id("txn_") if captured else None,
        "billing_details": snapshot(pm["billing_details"]),
        "calculated_statement_descriptor": "ALLIANCE",
        "captured": captured,
        "created": now(),
        "currency": pi["currency"],
        "customer": pi["customer"],
        "description": pi["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": decline.code if decline else None,
        "failure_message": decline.message if decline else None,
        "fraud_details": {},
        "livemode": False,
        "metadata": snapshot(pi["metadata"]),
        "on_behalf_of": pi["on_behalf_of"],
        "outcome": _outcome(decline),
        "paid": decline is None,
        "payment_intent": pi["id"],
        "payment_method": pm["id"],
        "payment_method_details": {
            "card": {
                "amount_authorized": pi["amount"] if decline is None else None,
                "brand": card.brand,
                "capture_before": now() + 7 * 86400 if decline is None else None,
                "checks": snapshot(pm["card"]["checks"]),
                "country": "US",
                "exp_month": pm["card"]["exp_month"],
                "exp_year": pm["card"]["exp_year"],
                "fingerprint": pm["card"]["fingerprint"],
                "funding": card.funding,
                "last4": card.last4,
                "network": card.brand,
            },
            "type": "card",
        },
        "receipt_email": pi["receipt_email"],
        "receipt_url": f"{sim.public_url}/receipts/{charge_id}",
        "refunded": False,
        "review": None,
        "shipping": None,
        "source_transfer": None,
        "statement_descriptor": pi["statement_descriptor"],
        "status": "failed" if decline else "succeeded",
        "transfer": None,
        "transfer_data": snapshot(pi["transfer_data"]) if pi["transfer_data"] else None,
        "transfer_group": pi["transfer_group"],
    }
    return sim.store.add(charge, released=0, refunded_total=0)


def _outcome(decline: Decline | None) -> JSON:
    if decline is None:
        return {
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
    return {
        "network_status": "declined_by_network",
        "reason": decline.decline_code,
        "risk_level": "normal",
        "risk_score": 32,
        "seller_message": "The bank did not return any further details with this decline.",
        "type": "issuer_declined",
    }


def _settle(sim: Simulator, pi: JSON, charge: JSON, amount: int, fee_amount: int | None) -> None:
    """Money captured: move the provider's share to the destination and book the platform fee."""
    destination = (pi["transfer_data"] or {}).get("destination")
    if not destination:
        return
    fee_value = min(fee_amount or 0, amount)
    explicit = (pi["transfer_data"] or {}).get("amount")
    transfer_amount = min(int(explicit), amount) if explicit is not None else amount - fee_value
    transfer = connect.create_transfer(
        sim,
        amount=transfer_amount,
        currency=pi["currency"],
        destination=destination,
        source_transaction=charge["id"],
        transfer_group=pi["transfer_group"] or f"group_{pi['id']}",
    )
    charge["transfer"] = transfer["id"]
    if fee_value:
        fee = connect.create_application_fee(
            sim, charge=charge, amount=fee_value, account=destination
        )
        charge["application_fee"] = fee["id"]
        charge["application_fee_amount"] = fee_value


def confirm_intent(sim: Simulator, pi: JSON, pm: JSON, card: CardSpec) -> None:
    """Authorise `pi` with a card. A decline is recorded on the PI, then raised as a 402."""
    decline = card.decline
    charge = _new_charge(sim, pi, pm, card, decline)
    pi["latest_charge"] = charge["id"]
    if decline is not None:
        pi["status"] = "requires_payment_method"
        pi["payment_method"] = None
        pi["last_payment_error"] = {
            "charge": charge["id"],
            "code": decline.code,
            "decline_code": decline.decline_code,
            "doc_url": f"https://docs.stripe.com/error-codes/{decline.code.replace('_', '-')}",
            "message": decline.message,
            "param": decline.param,
            "payment_method": snapshot(pm),
            "type": "card_error",
        }
        sim.emit("charge.failed", charge)
        sim.emit("payment_intent.payment_failed", pi)
        raise StripeError(
            402,
            decline.message,
            type="card_error",
            code=decline.code,
            param=decline.param,
            decline_code=decline.decline_code,
            charge=charge["id"],
            payment_intent=snapshot(pi),
            payment_method=snapshot(pm),
            request_log_url=f"{sim.public_url}/_sim/requests/{sim.request.id}",
        )
    pi["payment_method"] = pm["id"]
    pi["last_payment_error"] = None
    if pi["customer"] and pm["customer"] is None and pi["setup_future_usage"]:
        pm["customer"] = pi["customer"]
    sim.emit("charge.succeeded", charge)
    if pi["capture_method"] == "manual":
        pi["status"] = "requires_capture"
        pi["amount_capturable"] = pi["amount"]
        sim.emit("payment_intent.amount_capturable_updated", pi)
    else:
        pi["status"] = "succeeded"
        pi["amount_received"] = pi["amount"]
        _settle(sim, pi, charge, pi["amount"], pi["application_fee_amount"])
        sim.emit("payment_intent.succeeded", pi)


def capture_intent(sim: Simulator, pi: JSON, p: Params) -> None:
    if pi["status"] != "requires_capture":
        raise unexpected_state(
            f"This PaymentIntent could not be captured because it has a status of {pi['status']}."
            " Only a PaymentIntent with one of the following statuses may be captured: "
            "requires_capture."
        )
    amount = p.integer("amount_to_capture")
    capturable = pi["amount_capturable"]
    if amount is None:
        amount = capturable
    if amount > capturable:
        raise StripeError(
            400,
            "The amount to capture must be less than or equal to the amount capturable "
            f"({capturable}).",
            code="amount_too_large",
            param="amount_to_capture",
        )
    fee = p.integer("application_fee_amount")
    if fee is not None:
        if fee > amount:
            raise invalid_param(
                "application_fee_amount",
                "The application fee amount must be less than or equal to the captured amount.",
            )
        pi["application_fee_amount"] = fee
    metadata = p.metadata()
    if metadata is not None:
        pi["metadata"] = merge_metadata(pi["metadata"], metadata)
    charge = sim.store.get("charge", pi["latest_charge"])
    charge["captured"] = True
    charge["amount_captured"] = amount
    charge["balance_transaction"] = new_id("txn_")
    released = charge["amount"] - amount
    sim.store.side(charge["id"])["released"] = released
    charge["amount_refunded"] = released
    pi["status"] = "succeeded"
    pi["amount_received"] = amount
    pi["amount_capturable"] = 0
    _settle(sim, pi, charge, amount, pi["application_fee_amount"])
    sim.emit("charge.captured", charge)
    sim.emit("payment_intent.succeeded", pi)


def cancel_intent(sim: Simulator, pi: JSON, reason: str | None) -> None:
    if pi["status"] not in CANCELABLE:
        raise unexpected_state(
            f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. "
            "Only a PaymentIntent with one of the following statuses may be canceled: "
            + ", ".join(CANCELABLE)
            + "."
        )
    if pi["status"] == "requires_capture" and pi["latest_charge"]:
        charge = sim.store.get("charge", pi["latest_charge"])
        sim.store.side(charge["id"])["released"] = charge["amount"]
        charge["amount_refunded"] = charge["amount"]
        charge["refunded"] = True
        sim.emit("charge.refunded", charge)
    pi["status"] = "canceled"
    pi["canceled_at"] = now()
    pi["cancellation_reason"] = reason
    pi["amount_capturable"] = 0
    sim.emit("payment_intent.canceled", pi)


def _transfer_data(p: Params) -> JSON | None:
    td = p.sub("transfer_data")
    destination = td.text("destination")
    if destination is None:
        if td.data:
            raise missing_param(td.label("destination"))
        return None
    return {"amount": td.integer("amount"), "destination": destination}


def payment_intent_from_params(sim: Simulator, p: Params, stripe_account: str | None) -> JSON:
    currency = validate_currency(p.req_text("currency"))
    return new_payment_intent(
        sim,
        amount=p.req_integer("amount"),
        currency=currency,
        capture_method=p.text("capture_method", choices=CAPTURE_METHODS) or "automatic_async",
        customer=p.text("customer"),
        metadata=p.metadata(),
        application_fee_amount=p.integer("application_fee_amount"),
        transfer_data=_transfer_data(p),
        description=p.text("description"),
        receipt_email=p.text("receipt_email"),
        on_behalf_of=p.text("on_behalf_of"),
        transfer_group=p.text("transfer_group"),
        statement_descriptor=p.text("statement_descriptor"),
        setup_future_usage=p.text("setup_future_usage", choices=("on_session", "off_session")),
        stripe_account=stripe_account,
    )


# -- refunds ------------------------------------------------------------------------------


def create_refund(sim: Simulator, p: Params) -> JSON:
    pi_id = p.text("payment_intent")
    charge_id = p.text("charge")
    if pi_id is None and charge_id is None:
        raise StripeError(
            400,
            "One of the following params should be provided for this request: payment_intent "
            "or charge.",
            code="parameter_missing",
            persist=False,
        )
    if pi_id is not None:
        pi = sim.store.get("payment_intent", pi_id, param="payment_intent", status=400)
        if pi["status"] != "succeeded" or not pi["latest_charge"]:
            raise StripeError(
                400,
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                code="charge_not_refundable" if pi["status"] == "requires_capture" else None,
                param="payment_intent",
            )
        charge = sim.store.get("charge", pi["latest_charge"])
    else:
        assert charge_id is not None
        charge = sim.store.get("charge", charge_id, param="charge", status=400)
        if charge["status"] != "succeeded" or not charge["captured"]:
            raise StripeError(
                400,
                f"Charge {charge_id} has not been captured and cannot be refunded.",
                code="charge_not_refundable",
                param="charge",
            )
    side = sim.store.side(charge["id"])
    refundable = charge["amount_captured"] - side["refunded_total"]
    if refundable <= 0:
        raise StripeError(
            400,
            f"Charge {charge['id']} has already been refunded.",
            code="charge_already_refunded",
        )
    amount = p.integer("amount")
    if amount is None:
        amount = refundable
    if amount <= 0:
        raise invalid_param("amount", "Refund amount must be greater than zero.")
    if amount > refundable:
        cur = charge["currency"]
        raise StripeError(
            400,
            f"Refund amount ({format_amount(amount, cur)}) is greater than unrefunded amount on "
            f"charge ({format_amount(refundable, cur)})",
            code="amount_too_large",
            param="amount",
        )
    reason = p.text("reason", choices=REFUND_REASONS)
    reverse = p.flag("reverse_transfer")
    if reverse and not charge["transfer"]:
        raise invalid_param(
            "reverse_transfer",
            "You can only reverse transfers on charges that created a transfer "
            "(destination charges).",
        )
    refund_fee = p.flag("refund_application_fee")
    metadata = p.metadata() or {}
    refund = {
        "id": new_id("re_"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn_"),
        "charge": charge["id"],
        "created": now(),
        "currency": charge["currency"],
        "destination_details": {
            "card": {
                "reference": None,
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": metadata,
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    sim.store.add(refund)
    previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    side["refunded_total"] += amount
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    fully = side["refunded_total"] >= charge["amount_captured"]

    if reverse:
        transfer = sim.store.get("transfer", charge["transfer"])
        remaining = transfer["amount"] - transfer["amount_reversed"]
        share = (
            remaining if fully else round(transfer["amount"] * amount / charge["amount_captured"])
        )
        if min(share, remaining) > 0:
            reversal = connect.reverse_transfer(
                sim,
                transfer,
                min(share, remaining),
                source_refund=refund["id"],
            )
            refund["transfer_reversal"] = reversal["id"]
    if refund_fee and charge["application_fee"]:
        fee = sim.store.get("application_fee", charge["application_fee"])
        remaining_fee = fee["amount"] - fee["amount_refunded"]
        share = (
            remaining_fee if fully else round(fee["amount"] * amount / charge["amount_captured"])
        )
        connect.refund_application_fee(sim, fee, share)

    sim.emit("refund.created", refund)
    sim.emit("charge.refunded", charge, previous_attributes=previous)
    return refund


def register(router: Router) -> None:
    @router.route("POST", "/v1/payment_methods")
    def create_payment_method(sim: Simulator, req: ApiRequest) -> JSON:
        p = req.params
        p.req_text("type", choices=("card",))
        token = p.sub("card").text("token") or p.sub("card").text("number")
        if token is None:
            raise missing_param("card[token]")
        tok_map = {
            "tok_visa": "4242424242424242",
            "tok_mastercard": "5555555555554444",
            "tok_chargeDeclined": "4000000000000002",
            "tok_chargeDeclinedInsufficientFunds": "4000000000009995",
        }
        card = CARDS.get(tok_map.get(token, token.replace(" ", "")))
        if card is None:
            raise invalid_param("card[token]", f"Unknown test card token: {token}")
        pm = payment_method_for_card(sim, card)
        pm["metadata"] = p.metadata() or {}
        return snapshot(pm)

    @router.route("GET", "/v1/payment_methods/{pm}")
    def retrieve_payment_method(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(sim.store.get("payment_method", req.arg("pm")))

    @router.route("POST", "/v1/payment_methods/{pm}/attach")
    def attach_payment_method(sim: Simulator, req: ApiRequest) -> JSON:
        pm, _ = resolve_payment_method(sim, req.arg("pm"), "payment_method")
        customer = req.params.req_text("customer")
        sim.store.get("customer", customer, param="customer", status=400)
        pm["customer"] = customer
        sim.emit("payment_method.attached", pm)
        return snapshot(pm)

    @router.route("POST", "/v1/payment_intents")
    def create_intent(sim: Simulator, req: ApiRequest) -> JSON:
        p = req.params
        pm_ref = p.text("payment_method")
        resolved = resolve_payment_method(sim, pm_ref, "payment_method") if pm_ref else None
        pi = payment_intent_from_params(sim, p, req.stripe_account)
        if resolved is not None:
            pm, card = resolved
            pi["payment_method"] = pm["id"]
            pi["status"] = "requires_confirmation"
            if p.flag("confirm"):
                confirm_intent(sim, pi, pm, card)
        elif p.flag("confirm"):
            raise StripeError(  # Stripe validates this before creating anything
                400,
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "Update the PaymentIntent with a payment method and then confirm it again.",
                code="payment_intent_unexpected_state",
            )
        return snapshot(pi)

    @router.route("GET", "/v1/payment_intents")
    def list_intents(sim: Simulator, req: ApiRequest) -> JSON:
        items = list(reversed(sim.store.all("payment_intent")))
        customer = req.params.text("customer")
        if customer is not None:
            items = [i for i in items if i["customer"] == customer]
        return page(sim, req, "/v1/payment_intents", items)

    @router.route("GET", "/v1/payment_intents/{intent}")
    def retrieve_intent(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(sim.store.get("payment_intent", req.arg("intent")))

    @router.route("POST", "/v1/payment_intents/{intent}")
    def update_intent(sim: Simulator, req: ApiRequest) -> JSON:
        pi = sim.store.get("payment_intent", req.arg("intent"))
        p = req.params
        # Validate everything first so a rejected update changes nothing.
        changes: dict[str, Any] = {}
        for key in ("description", "receipt_email", "transfer_group", "statement_descriptor"):
            value = p.text(key)
            if value is not None:
                changes[key] = value
        payment_fields = ("amount", "application_fee_amount", "payment_method", "customer")
        if any(k in p for k in payment_fields):
            if pi["status"] not in CONFIRMABLE:
                raise unexpected_state(
                    f"You cannot update this PaymentIntent because it has a status of "
                    f"{pi['status']}."
                )
            amount = p.integer("amount")
            if amount is not None:
                validate_amount(amount, pi["currency"])
                changes["amount"] = amount
            fee = p.integer("application_fee_amount")
            if fee is not None:
                changes["application_fee_amount"] = fee
            customer = p.text("customer")
            if customer is not None:
                sim.store.get("customer", customer, param="customer", status=400)
                changes["customer"] = customer
            pm_ref = p.text("payment_method")
            if pm_ref is not None:
                changes["payment_method"] = resolve_payment_method(sim, pm_ref, "payment_method")[
                    0
                ]["id"]
                changes["status"] = "requires_confirmation"
        metadata = p.metadata()
        if metadata is not None:
            changes["metadata"] = merge_metadata(pi["metadata"], metadata)
        previous = {
            key: snapshot(pi[key]) if isinstance(pi[key], dict) else pi[key] for key in changes
        }
        pi.update(changes)
        if changes:
            sim.emit("payment_intent.updated", pi, previous_attributes=previous)
        return snapshot(pi)

    @router.route("POST", "/v1/payment_intents/{intent}/confirm")
    def confirm(sim: Simulator, req: ApiRequest) -> JSON:
        pi = sim.store.get("payment_intent", req.arg("intent"))
        if pi["status"] not in CONFIRMABLE:
            raise unexpected_state(
                f"You cannot confirm this PaymentIntent because it has a status of "
                f"{pi['status']}. Only a PaymentIntent with one of the following statuses may be "
                "confirmed: " + ", ".join(CONFIRMABLE) + "."
            )
        pm_ref = req.params.text("payment_method") or pi["payment_method"]
        if pm_ref is None:
            raise StripeError(
                400,
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "To confirm the PaymentIntent, specify a payment method.",
                code="payment_intent_unexpected_state",
                param="payment_method",
            )
        pm, card = resolve_payment_method(sim, pm_ref, "payment_method")
        confirm_intent(sim, pi, pm, card)
        return snapshot(pi)

    @router.route("POST", "/v1/payment_intents/{intent}/capture")
    def capture(sim: Simulator, req: ApiRequest) -> JSON:
        pi = sim.store.get("payment_intent", req.arg("intent"))
        capture_intent(sim, pi, req.params)
        return snapshot(pi)

    @router.route("POST", "/v1/payment_intents/{intent}/cancel")
    def cancel(sim: Simulator, req: ApiRequest) -> JSON:
        pi = sim.store.get("payment_intent", req.arg("intent"))
        reason = req.params.text("cancellation_reason", choices=CANCEL_REASONS)
        session_id = sim.store.side(pi["id"]).get("checkout_session")
        if session_id and pi["status"] != "requires_capture":
            raise unexpected_state(
                "You cannot cancel this PaymentIntent because it belongs to a Checkout Session. "
                "Expire the Checkout Session instead."
            )
        cancel_intent(sim, pi, reason)
        return snapshot(pi)

    @router.route("GET", "/v1/charges/{charge}")
    def retrieve_charge(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(sim.store.get("charge", req.arg("charge")))

    @router.route("GET", "/v1/charges")
    def list_charges(sim: Simulator, req: ApiRequest) -> JSON:
        items = list(reversed(sim.store.all("charge")))
        for key in ("payment_intent", "customer"):
            wanted = req.params.text(key)
            if wanted is not None:
                items = [c for c in items if c[key] == wanted]
        return page(sim, req, "/v1/charges", items)

    @router.route("POST", "/v1/refunds")
    def refund(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(create_refund(sim, req.params))

    @router.route("GET", "/v1/refunds/{refund}")
    def retrieve_refund(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(sim.store.get("refund", req.arg("refund")))

    @router.route("GET", "/v1/refunds")
    def list_refunds(sim: Simulator, req: ApiRequest) -> JSON:
        items = list(reversed(sim.store.all("refund")))
        for key in ("payment_intent", "charge"):
            wanted = req.params.text(key)
            if wanted is not None:
                items = [r for r in items if r[key] == wanted]
        return page(sim, req, "/v1/refunds", items)


def open_dispute(sim: Simulator, charge_id: str, reason: str | None) -> JSON:
    """A cardholder dispute on a captured charge: the amount is withdrawn pending evidence."""
    charge = sim.store.get("charge", charge_id)
    if not charge["captured"] or charge["disputed"]:
        raise invalid_param("charge", f"Charge {charge_id} cannot be disputed.")
    created = now()
    dispute = sim.store.add(
        {
            "id": new_id("dp_"),
            "object": "dispute",
            "amount": charge["amount_captured"] - charge["amount_refunded"],
            "balance_transactions": [],
            "charge": charge["id"],
            "created": created,
            "currency": charge["currency"],
            "evidence_details": {
                "due_by": created + 7 * 86400,
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "reason": reason or "fraudulent",
            "status": "needs_response",
        }
    )
    charge["disputed"] = True
    sim.emit("charge.dispute.created", dispute)
    return snapshot(dispute)
