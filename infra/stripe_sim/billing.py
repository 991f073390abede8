"""Customers, Products, Prices, Subscriptions and their Invoices.

Subscriptions bill immediately: the first invoice is paid on creation (unless the default
payment method declines or `payment_behavior=default_incomplete`), and `/_sim/.../renew`
advances a billing period on demand instead of waiting a month.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from .cards import CardSpec
from .errors import StripeError, invalid_param, missing_param
from .forms import Params, merge_metadata
from .money import format_amount, validate_currency
from .payments import resolve_payment_method
from .routing import ApiRequest, Router, page
from .sim import Simulator
from .store import JSON, list_object, new_id, now, snapshot

INTERVALS = ("day", "week", "month", "year")
PAYMENT_BEHAVIORS = (
    "allow_incomplete",
    "default_incomplete",
    "error_if_incomplete",
    "pending_if_incomplete",
)


# -- customers ----------------------------------------------------------------------------


def new_customer(sim: Simulator, p: Params) -> JSON:
    customer_id = new_id("cus_", 14)
    customer: JSON = {
        "id": customer_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": p.text("description"),
        "discount": None,
        "email": p.text("email"),
        "invoice_prefix": customer_id[4:12].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": p.metadata() or {},
        "name": p.text("name"),
        "next_invoice_sequence": 1,
        "phone": p.text("phone"),
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
    pm_ref = p.text("payment_method")
    attached = resolve_payment_method(sim, pm_ref, "payment_method")[0] if pm_ref else None
    default_ref = p.sub("invoice_settings").text("default_payment_method")
    if default_ref is not None:
        if attached is not None and default_ref == pm_ref:
            default_pm = attached  # a `pm_card_*` token was just minted into a real pm_ id
        else:
            label = "invoice_settings[default_payment_method]"
            default_pm = resolve_payment_method(sim, default_ref, label)[0]
        default_pm["customer"] = customer_id
        customer["invoice_settings"]["default_payment_method"] = default_pm["id"]
    if attached is not None:
        attached["customer"] = customer_id
    sim.store.add(customer)
    sim.emit("customer.created", customer)
    return customer


def customer_for_email(sim: Simulator, email: str | None, name: str | None = None) -> JSON:
    """Checkout's `customer_creation=always`: a fresh Customer from what the buyer typed."""
    data: JSON = {}
    if email:
        data["email"] = email
    if name:
        data["name"] = name
    return new_customer(sim, Params(data))


# -- products & prices --------------------------------------------------------------------


def new_product(sim: Simulator, p: Params) -> JSON:
    product: JSON = {
        "id": p.text("id") or new_id("prod_", 14),
        "object": "product",
        "active": p.flag("active", True),
        "attributes": [],
        "created": now(),
        "default_price": None,
        "description": p.text("description"),
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": p.metadata() or {},
        "name": p.req_text("name"),
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": p.text("statement_descriptor"),
        "tax_code": None,
        "type": "service",
        "unit_label": p.text("unit_label"),
        "updated": now(),
        "url": p.text("url"),
    }
    if sim.store.find(product["id"]) is not None:
        raise StripeError(
            400,
            "Product already exists.",
            code="resource_already_exists",
            param="id",
            persist=False,
        )
    sim.store.add(product)
    sim.emit("product.created", product)
    return product


def new_price(sim: Simulator, p: Params, *, product_param: str = "product") -> JSON:
    """A Price from `unit_amount`, `currency`, `product` | `product_data`, `recurring`."""
    currency = validate_currency(p.req_text("currency"), p.label("currency"))
    unit_amount = p.integer("unit_amount")
    if unit_amount is None:
        raise missing_param(p.label("unit_amount"))
    product_id = p.text(product_param)
    if product_id is not None:
        sim.store.get("product", product_id, param=p.label(product_param), status=400)
    elif p.sub("product_data").data:
        product_id = new_product(sim, p.sub("product_data"))["id"]
    else:
        raise missing_param(p.label(product_param))
    recurring: JSON | None = None
    rec = p.sub("recurring")
    if rec.data:
        recurring = {
            "interval": rec.req_text("interval", choices=INTERVALS),
            "interval_count": rec.integer("interval_count", minimum=1) or 1,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
    lookup_key = p.text("lookup_key")
    if lookup_key is not None:
        clash = [x for x in sim.store.all("price") if x["lookup_key"] == lookup_key]
        if clash and not p.flag("transfer_lookup_key"):
            raise invalid_param(
                p.label("lookup_key"),
                f"A price (`{clash[0]['id']}`) already uses that lookup key.",
            )
        for other in clash:
            other["lookup_key"] = None
    price = {
        "id": new_id("price_"),
        "object": "price",
        "active": p.flag("active", True),
        "billing_scheme": "per_unit",
        "created": now(),
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": p.metadata() or {},
        "nickname": p.text("nickname"),
        "product": product_id,
        "recurring": recurring,
        "tax_behavior": p.text("tax_behavior") or "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }
    sim.store.add(price)
    sim.emit("price.created", price)
    return price


# -- subscriptions ------------------------------------------------------------------------


def add_interval(start: int, interval: str, count: int) -> int:
    """Period arithmetic like Stripe's: months clamp to the month's last day."""
    base = dt.datetime.fromtimestamp(start, dt.UTC)
    if interval == "day":
        return int((base + dt.timedelta(days=count)).timestamp())
    if interval == "week":
        return int((base + dt.timedelta(weeks=count)).timestamp())
    months = count if interval == "month" else 12 * count
    month_index = base.month - 1 + months
    year, month = base.year + month_index // 12, month_index % 12 + 1
    day = min(base.day, calendar.monthrange(year, month)[1])
    return int(base.replace(year=year, month=month, day=day).timestamp())


def _resolve_item_price(sim: Simulator, item: Params) -> JSON:
    price_id = item.text("price")
    if price_id is not None:
        price = sim.store.get("price", price_id, param=item.label("price"), status=400)
    elif item.sub("price_data").data:
        price = new_price(sim, item.sub("price_data"))
    else:
        raise missing_param(item.label("price"))
    if price["type"] != "recurring":
        raise invalid_param(
            item.label("price"),
            "The price specified is set to `type=one_time` but this field only accepts prices "
            "with `type=recurring`.",
        )
    return price


def _new_item(sub: JSON, price: JSON, quantity: int, metadata: dict[str, str] | None) -> JSON:
    return {
        "id": new_id("si_", 14),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": now(),
        "current_period_end": sub["current_period_end"],
        "current_period_start": sub["current_period_start"],
        "discounts": [],
        "metadata": metadata or {},
        "price": snapshot(price),
        "quantity": quantity,
        "subscription": sub["id"],
        "tax_rates": [],
    }


def _plan_label(price: JSON, sim: Simulator) -> str:
    product = sim.store.find(price["product"]) or {}
    recurring = price["recurring"] or {}
    every = recurring.get("interval", "")
    amount = format_amount(price["unit_amount"], price["currency"])
    return f"{product.get('name', 'Plan')} (at {amount} / {every})"


def new_invoice(sim: Simulator, sub: JSON, billing_reason: str, *, paid: bool) -> JSON:
    customer = sim.store.get("customer", sub["customer"])
    invoice_id = new_id("in_")
    lines = []
    total = 0
    for item in sub["items"]["data"]:
        amount = item["price"]["unit_amount"] * item["quantity"]
        total += amount
        lines.append(
            {
                "id": new_id("il_"),
                "object": "line_item",
                "amount": amount,
                "currency": sub["currency"],
                "description": f"{item['quantity']} × {_plan_label(item['price'], sim)}",  # noqa: RUF001
                "discount_amounts": [],
                "discountable": True,
                "invoice": invoice_id,
                "livemode": False,
                "metadata": {},
                "parent": {
                    "invoice_item_details": None,
                    "subscription_item_details": {
                        "invoice_item": None,
                        "proration": False,
                        "proration_details": None,
                        "subscription": sub["id"],
                        "subscription_item": item["id"],
                    },
                    "type": "subscription_item_details",
                },
                "period": {"end": sub["current_period_end"], "start": sub["current_period_start"]},
                "pricing": {
                    "price_details": {
                        "price": item["price"]["id"],
                        "product": item["price"]["product"],
                    },
                    "type": "price_details",
                    "unit_amount_decimal": str(item["price"]["unit_amount"]),
                },
                "quantity": item["quantity"],
            }
        )
    if sub["status"] == "trialing":
        total = 0
        for line in lines:
            line["amount"] = 0
    created = now()
    number = customer["next_invoice_sequence"]
    customer["next_invoice_sequence"] += 1
    invoice = {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Alliance (simulated)",
        "amount_due": total,
        "amount_overpaid": 0,
        "amount_paid": total if paid else 0,
        "amount_remaining": 0 if paid else total,
        "amount_shipping": 0,
        "attempt_count": 1,
        "attempted": True,
        "auto_advance": not paid,
        "billing_reason": billing_reason,
        "collection_method": sub["collection_method"],
        "created": created,
        "currency": sub["currency"],
        "customer": sub["customer"],
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "default_payment_method": None,
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": created,
        "ending_balance": 0,
        "hosted_invoice_url": f"{sim.public_url}/invoices/{invoice_id}",
        "invoice_pdf": f"{sim.public_url}/invoices/{invoice_id}/pdf",
        "lines": {
            **list_object(f"/v1/invoices/{invoice_id}/lines", lines),
            "total_count": len(lines),
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": f"{customer['invoice_prefix']}-{number:04d}",
        "parent": {
            "quote_details": None,
            "subscription_details": {
                "metadata": snapshot(sub["metadata"]),
                "subscription": sub["id"],
            },
            "type": "subscription_details",
        },
        "period_end": sub["current_period_start"],
        "period_start": sub["current_period_start"],
        "status": "paid" if paid else "open",
        "status_transitions": {
            "finalized_at": created,
            "marked_uncollectible_at": None,
            "paid_at": created if paid else None,
            "voided_at": None,
        },
        "subtotal": total,
        "total": total,
        "total_excluding_tax": total,
    }
    sim.store.add(invoice)
    sub["latest_invoice"] = invoice_id
    return invoice


def _emit_invoice(sim: Simulator, invoice: JSON, declined: bool) -> None:
    sim.emit("invoice.created", invoice)
    sim.emit("invoice.finalized", invoice)
    if invoice["status"] == "paid":
        sim.emit("invoice.paid", invoice)
        sim.emit("invoice.payment_succeeded", invoice)
    elif declined:
        sim.emit("invoice.payment_failed", invoice)


def _charge_card(sim: Simulator, sub: JSON) -> tuple[CardSpec | None, str | None]:
    """The card a subscription bills: its default PM, else the customer's invoice default."""
    customer = sim.store.get("customer", sub["customer"])
    pm_id = sub["default_payment_method"] or customer["invoice_settings"]["default_payment_method"]
    if not pm_id:
        return None, None
    _, card = resolve_payment_method(sim, pm_id, "default_payment_method")
    return card, pm_id


def create_subscription(
    sim: Simulator,
    *,
    customer: str,
    items: list[tuple[JSON, int, dict[str, str] | None]],
    metadata: dict[str, str] | None = None,
    default_payment_method: str | None = None,
    trial_period_days: int | None = None,
    payment_behavior: str = "allow_incomplete",
    cancel_at_period_end: bool = False,
    description: str | None = None,
    application_fee_percent: str | None = None,
    transfer_destination: str | None = None,
) -> JSON:
    """Create and bill a subscription; returns it in `active`, `trialing` or `incomplete`."""
    currencies = {price["currency"] for price, _, _ in items}
    if len(currencies) > 1:
        raise invalid_param("items", "All prices on a subscription must have the same currency.")
    start = now()
    first = items[0][0]["recurring"]
    if trial_period_days:
        period_end = add_interval(start, "day", trial_period_days)
    else:
        period_end = add_interval(start, first["interval"], first["interval_count"])
    sub_id = new_id("sub_")
    sub: JSON = {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": float(application_fee_percent)
        if application_fee_percent
        else None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": period_end if trial_period_days else start,
        "billing_mode": {"type": "classic"},
        "billing_thresholds": None,
        "cancel_at": period_end if cancel_at_period_end else None,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": start if cancel_at_period_end else None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": start,
        "currency": currencies.pop(),
        "current_period_end": period_end,
        "current_period_start": start,
        "customer": customer,
        "days_until_due": None,
        "default_payment_method": default_payment_method,
        "description": description,
        "discounts": [],
        "ended_at": None,
        "items": {
            **list_object(f"/v1/subscription_items?subscription={sub_id}", []),
            "total_count": 0,
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": metadata or {},
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": start,
        "status": "trialing" if trial_period_days else "incomplete",
        "test_clock": None,
        "transfer_data": {"amount_percent": None, "destination": transfer_destination}
        if transfer_destination
        else None,
        "trial_end": period_end if trial_period_days else None,
        "trial_start": start if trial_period_days else None,
    }
    for price, quantity, item_metadata in items:
        sub["items"]["data"].append(_new_item(sub, price, quantity, item_metadata))
    sub["items"]["total_count"] = len(sub["items"]["data"])

    card, _ = _charge_card(sim, sub)
    declined = card is not None and card.decline is not None and not trial_period_days
    if declined and payment_behavior == "error_if_incomplete":
        assert card is not None and card.decline is not None
        raise StripeError(
            402,
            card.decline.message,
            type="card_error",
            code=card.decline.code,
            decline_code=card.decline.decline_code,
        )
    paid = bool(trial_period_days) or (not declined and payment_behavior != "default_incomplete")
    if not trial_period_days:
        sub["status"] = "active" if paid else "incomplete"
    sim.store.add(sub)
    invoice = new_invoice(sim, sub, "subscription_create", paid=paid)
    sim.emit("customer.subscription.created", sub)
    _emit_invoice(sim, invoice, declined)
    return sub


def cancel_subscription(
    sim: Simulator, sub: JSON, *, reason: str = "cancellation_requested"
) -> None:
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise StripeError(400, f"This subscription has already been canceled ({sub['id']}).")
    at = now()
    sub["status"] = "canceled"
    sub["canceled_at"] = sub["canceled_at"] or at
    sub["ended_at"] = at
    sub["cancellation_details"]["reason"] = reason
    sim.emit("customer.subscription.deleted", sub)


def renew_subscription(sim: Simulator, sub: JSON) -> JSON:
    """Advance one billing period now (simulator-only): cancel at period end, or bill again."""
    if sub["status"] not in ("active", "trialing", "past_due"):
        raise StripeError(400, f"Subscription {sub['id']} is {sub['status']}.")
    if sub["cancel_at_period_end"]:
        cancel_subscription(sim, sub)
        return sub
    previous = {
        "current_period_start": sub["current_period_start"],
        "current_period_end": sub["current_period_end"],
        "status": sub["status"],
    }
    first = sub["items"]["data"][0]["price"]["recurring"]
    start = sub["current_period_end"]
    end = add_interval(start, first["interval"], first["interval_count"])
    sub["current_period_start"], sub["current_period_end"] = start, end
    for item in sub["items"]["data"]:
        item["current_period_start"], item["current_period_end"] = start, end
    card, _ = _charge_card(sim, sub)
    declined = card is not None and card.decline is not None
    sub["status"] = "past_due" if declined else "active"
    invoice = new_invoice(sim, sub, "subscription_cycle", paid=not declined)
    sim.emit("customer.subscription.updated", sub, previous_attributes=previous)
    _emit_invoice(sim, invoice, declined)
    return sub


def update_subscription(sim: Simulator, sub: JSON, p: Params) -> None:
    if sub["status"] == "canceled":
        raise StripeError(
            400, "A canceled subscription can only update its cancellation_details and metadata."
        )
    # Validate everything before changing anything, as Stripe does.
    changes: list[tuple[str, Any]] = []
    for i, item in enumerate(p.sublist("items")):
        item_id = item.text("id")
        existing = None
        if item_id is not None:
            existing = next((x for x in sub["items"]["data"] if x["id"] == item_id), None)
            if existing is None:
                raise invalid_param(item.label("id"), f"Invalid subscription_item id: {item_id}")
        if item.flag("deleted"):
            changes.append(("delete", existing))
            continue
        price = (
            _resolve_item_price(sim, item) if ("price" in item or "price_data" in item) else None
        )
        if price is not None and price["currency"] != sub["currency"]:
            raise invalid_param(item.label("price"), "Price currency must match subscription.")
        quantity = item.integer("quantity", minimum=0)
        if existing is None and price is None:
            raise missing_param(f"items[{i}][price]")
        changes.append(("set", (existing, price, quantity, item.metadata())))
    pm = p.text("default_payment_method")
    if pm is not None:
        pm = resolve_payment_method(sim, pm, "default_payment_method")[0]["id"]

    previous: dict[str, Any] = {}
    if changes:
        previous["items"] = snapshot(sub["items"])
    for kind, payload in changes:
        if kind == "delete":
            sub["items"]["data"] = [x for x in sub["items"]["data"] if x is not payload]
            continue
        existing, price, quantity, metadata = payload
        if existing is None:
            sub["items"]["data"].append(_new_item(sub, price, quantity or 1, metadata))
            continue
        if price is not None:
            existing["price"] = snapshot(price)
        if quantity is not None:
            existing["quantity"] = quantity
        existing["metadata"] = merge_metadata(existing["metadata"], metadata)
    if not sub["items"]["data"]:
        raise invalid_param("items", "A subscription must have at least one item.")
    sub["items"]["total_count"] = len(sub["items"]["data"])
    if "cancel_at_period_end" in p:
        flag = p.flag("cancel_at_period_end")
        if flag != sub["cancel_at_period_end"]:
            previous.update(
                {k: sub[k] for k in ("cancel_at_period_end", "cancel_at", "canceled_at")}
            )
            previous["cancellation_details"] = snapshot(sub["cancellation_details"])
            sub["cancel_at_period_end"] = flag
            sub["cancel_at"] = sub["current_period_end"] if flag else None
            sub["canceled_at"] = now() if flag else None
            sub["cancellation_details"]["reason"] = "cancellation_requested" if flag else None
    metadata = p.metadata()
    if metadata is not None:
        previous["metadata"] = snapshot(sub["metadata"])
        sub["metadata"] = merge_metadata(sub["metadata"], metadata)
    for key, value in (("default_payment_method", pm), ("description", p.text("description"))):
        if value is not None:
            previous[key] = sub[key]
            sub[key] = value
    if previous:
        sim.emit("customer.subscription.updated", sub, previous_attributes=previous)


def register(router: Router) -> None:
    @router.route("POST", "/v1/customers")
    def create_customer(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(new_customer(sim, req.params))

    @router.route("GET", "/v1/customers")
    def list_customers(sim: Simulator, req: ApiRequest) -> JSON:
        items = list(reversed(sim.store.all("customer")))
        email = req.params.text("email")
        if email is not None:
            items = [c for c in items if c["email"] == email]
        return page(sim, req, "/v1/customers", items)

    @router.route("GET", "/v1/customers/{customer}")
    def retrieve_customer(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(sim.store.get("customer", req.arg("customer")))

    @router.route("POST", "/v1/customers/{customer}")
    def update_customer(sim: Simulator, req: ApiRequest) -> JSON:
        customer = sim.store.get("customer", req.arg("customer"))
        p = req.params
        previous: dict[str, Any] = {}
        for key in ("email", "name", "description", "phone"):
            value = p.text(key)
            if value is not None:
                previous[key], customer[key] = customer[key], value
        default_pm = p.sub("invoice_settings").text("default_payment_method")
        if default_pm is not None:
            pm, _ = resolve_payment_method(
                sim, default_pm, "invoice_settings[default_payment_method]"
            )
            pm["customer"] = customer["id"]
            previous["invoice_settings"] = snapshot(customer["invoice_settings"])
            customer["invoice_settings"]["default_payment_method"] = pm["id"]
        metadata = p.metadata()
        if metadata is not None:
            previous["metadata"] = snapshot(customer["metadata"])
            customer["metadata"] = merge_metadata(customer["metadata"], metadata)
        if previous:
            sim.emit("customer.updated", customer, previous_attributes=previous)
        return snapshot(customer)

    @router.route("DELETE", "/v1/customers/{customer}")
    def delete_customer(sim: Simulator, req: ApiRequest) -> JSON:
        customer = sim.store.get("customer", req.arg("customer"))
        del sim.store.objects[customer["id"]]
        sim.emit("customer.deleted", customer)
        return {"id": customer["id"], "object": "customer", "deleted": True}

    @router.route("POST", "/v1/products")
    def create_product(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(new_product(sim, req.params))

    @router.route("GET", "/v1/products")
    def list_products(sim: Simulator, req: ApiRequest) -> JSON:
        items = list(reversed(sim.store.all("product")))
        if "active" in req.params:
            active = req.params.flag("active")
            items = [x for x in items if x["active"] == active]
        return page(sim, req, "/v1/products", items)

    @router.route("GET", "/v1/products/{product}")
    def retrieve_product(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(sim.store.get("product", req.arg("product")))

    @router.route("POST", "/v1/products/{product}")
    def update_product(sim: Simulator, req: ApiRequest) -> JSON:
        product = sim.store.get("product", req.arg("product"))
        p = req.params
        previous: dict[str, Any] = {}
        for key in ("name", "description", "default_price"):
            value = p.text(key)
            if value is not None:
                previous[key], product[key] = product[key], value
        if "active" in p:
            previous["active"], product["active"] = product["active"], p.flag("active")
        metadata = p.metadata()
        if metadata is not None:
            previous["metadata"] = snapshot(product["metadata"])
            product["metadata"] = merge_metadata(product["metadata"], metadata)
        product["updated"] = now()
        if previous:
            sim.emit("product.updated", product, previous_attributes=previous)
        return snapshot(product)

    @router.route("POST", "/v1/prices")
    def create_price(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(new_price(sim, req.params))

    @router.route("GET", "/v1/prices")
    def list_prices(sim: Simulator, req: ApiRequest) -> JSON:
        p = req.params
        items = list(reversed(sim.store.all("price")))
        for key in ("product", "type", "currency"):
            wanted = p.text(key)
            if wanted is not None:
                items = [x for x in items if x[key] == wanted]
        if "active" in p:
            active = p.flag("active")
            items = [x for x in items if x["active"] == active]
        keys = p.raw("lookup_keys")
        if keys:
            wanted_keys = set(keys if isinstance(keys, list) else [keys])
            items = [x for x in items if x["lookup_key"] in wanted_keys]
        return page(sim, req, "/v1/prices", items)

    @router.route("GET", "/v1/prices/{price}")
    def retrieve_price(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(sim.store.get("price", req.arg("price")))

    @router.route("POST", "/v1/prices/{price}")
    def update_price(sim: Simulator, req: ApiRequest) -> JSON:
        price = sim.store.get("price", req.arg("price"))
        p = req.params
        previous: dict[str, Any] = {}
        for key in ("nickname", "lookup_key"):
            value = p.text(key)
            if value is not None:
                previous[key], price[key] = price[key], value
        if "active" in p:
            previous["active"], price["active"] = price["active"], p.flag("active")
        metadata = p.metadata()
        if metadata is not None:
            previous["metadata"] = snapshot(price["metadata"])
            price["metadata"] = merge_metadata(price["metadata"], metadata)
        if previous:
            sim.emit("price.updated", price, previous_attributes=previous)
        return snapshot(price)

    @router.route("POST", "/v1/subscriptions")
    def create_sub(sim: Simulator, req: ApiRequest) -> JSON:
        p = req.params
        customer = p.req_text("customer")
        sim.store.get("customer", customer, param="customer", status=400)
        item_params = p.sublist("items")
        if not item_params:
            raise missing_param("items")
        items = [
            (
                _resolve_item_price(sim, item),
                item.integer("quantity", minimum=1) or 1,
                item.metadata(),
            )
            for item in item_params
        ]
        pm = p.text("default_payment_method")
        if pm is not None:
            pm = resolve_payment_method(sim, pm, "default_payment_method")[0]["id"]
        sub = create_subscription(
            sim,
            customer=customer,
            items=items,
            metadata=p.metadata(),
            default_payment_method=pm,
            trial_period_days=p.integer("trial_period_days"),
            payment_behavior=p.text("payment_behavior", choices=PAYMENT_BEHAVIORS)
            or "allow_incomplete",
            cancel_at_period_end=p.flag("cancel_at_period_end"),
            description=p.text("description"),
            application_fee_percent=p.text("application_fee_percent"),
            transfer_destination=p.sub("transfer_data").text("destination"),
        )
        return snapshot(sub)

    @router.route("GET", "/v1/subscriptions")
    def list_subs(sim: Simulator, req: ApiRequest) -> JSON:
        p = req.params
        items = list(reversed(sim.store.all("subscription")))
        customer = p.text("customer")
        if customer is not None:
            items = [x for x in items if x["customer"] == customer]
        status = p.text("status")
        if status is None:
            items = [x for x in items if x["status"] != "canceled"]
        elif status != "all":
            items = [x for x in items if x["status"] == status]
        price = p.text("price")
        if price is not None:
            items = [x for x in items if any(i["price"]["id"] == price for i in x["items"]["data"])]
        return page(sim, req, "/v1/subscriptions", items)

    @router.route("GET", "/v1/subscriptions/{sub}")
    def retrieve_sub(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(sim.store.get("subscription", req.arg("sub")))

    @router.route("POST", "/v1/subscriptions/{sub}")
    def update_sub(sim: Simulator, req: ApiRequest) -> JSON:
        sub = sim.store.get("subscription", req.arg("sub"))
        update_subscription(sim, sub, req.params)
        return snapshot(sub)

    @router.route("DELETE", "/v1/subscriptions/{sub}")
    def cancel_sub(sim: Simulator, req: ApiRequest) -> JSON:
        sub = sim.store.get("subscription", req.arg("sub"))
        cancel_subscription(sim, sub)
        return snapshot(sub)

    @router.route("GET", "/v1/invoices/{invoice}")
    def retrieve_invoice(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(sim.store.get("invoice", req.arg("invoice")))

    @router.route("GET", "/v1/invoices")
    def list_invoices(sim: Simulator, req: ApiRequest) -> JSON:
        p = req.params
        items = list(reversed(sim.store.all("invoice")))
        customer = p.text("customer")
        if customer is not None:
            items = [x for x in items if x["customer"] == customer]
        subscription = p.text("subscription")
        if subscription is not None:
            items = [
                x
                for x in items
                if x["parent"]["subscription_details"]["subscription"] == subscription
            ]
        return page(sim, req, "/v1/invoices", items)
