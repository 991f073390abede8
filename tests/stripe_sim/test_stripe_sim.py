"""The Stripe simulator driven only through the real `stripe` SDK (and httpx for hosted pages)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import stripe

from infra.stripe_sim import RunningSimulator

from .conftest import SECRET, Received, Receiver


def onboarded_account(client: stripe.StripeClient) -> str:
    account = client.v1.accounts.create(
        {"type": "express", "country": "US", "capabilities": {"transfers": {"requested": True}}}
    )
    link = client.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://alliance.test/refresh",
            "return_url": "https://alliance.test/back",
        }
    )
    assert httpx.post(link.url, data={"action": "complete"}).status_code == 303
    return account.id


def paid_intent(client: stripe.StripeClient, **extra: Any) -> stripe.PaymentIntent:
    params: Any = {
        "amount": 5000,
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "confirm": True,
        **extra,
    }
    return client.v1.payment_intents.create(params)


def test_onboarding_via_account_link_enables_charges(client: stripe.StripeClient) -> None:
    account = client.v1.accounts.create({"type": "express", "email": "host@example.com"})
    assert account.id.startswith("acct_") and account.object == "account"
    assert not account.charges_enabled and not account.details_submitted
    assert account.requirements is not None and account.requirements.currently_due

    link = client.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://alliance.test/refresh",
            "return_url": "https://alliance.test/back",
        }
    )
    page = httpx.get(link.url)
    assert page.status_code == 200 and "Complete onboarding (test mode)" in page.text

    done = httpx.post(link.url, data={"action": "complete"})
    assert done.status_code == 303
    assert done.headers["location"] == "https://alliance.test/back"

    account = client.v1.accounts.retrieve(account.id)
    assert account.charges_enabled and account.payouts_enabled and account.details_submitted
    assert account.requirements is not None and account.requirements.currently_due == []


def test_destination_charge_requires_onboarded_account(client: stripe.StripeClient) -> None:
    pending = client.v1.accounts.create({"type": "express"})
    with pytest.raises(stripe.InvalidRequestError) as err:
        paid_intent(client, transfer_data={"destination": pending.id})
    assert err.value.code == "insufficient_capabilities_for_transfer"


def test_manual_capture_with_fee_and_destination(client: stripe.StripeClient) -> None:
    provider = onboarded_account(client)
    pi = client.v1.payment_intents.create(
        {
            "amount": 12000,
            "currency": "usd",
            "capture_method": "manual",
            "application_fee_amount": 1200,
            "transfer_data": {"destination": provider},
            "metadata": {"booking_id": "bk_1"},
        }
    )
    assert pi.status == "requires_payment_method" and pi.metadata["booking_id"] == "bk_1"

    pi = client.v1.payment_intents.confirm(pi.id, {"payment_method": "pm_card_visa"})
    assert pi.status == "requires_capture" and pi.amount_capturable == 12000

    pi = client.v1.payment_intents.capture(pi.id, {"expand": ["latest_charge"]})
    assert pi.status == "succeeded" and pi.amount_received == 12000
    charge = pi.latest_charge
    assert isinstance(charge, stripe.Charge)
    assert charge.captured and charge.amount_captured == 12000
    transfer = client.v1.transfers.retrieve(str(charge.transfer))
    assert transfer.amount == 10800 and transfer.destination == provider
    fee = client.v1.application_fees.retrieve(str(charge.application_fee))
    assert fee.amount == 1200 and fee.account == provider


def test_cancel_releases_authorisation_and_rejects_illegal_state(
    client: stripe.StripeClient,
) -> None:
    pi = paid_intent(client, capture_method="manual")
    canceled = client.v1.payment_intents.cancel(
        pi.id, {"cancellation_reason": "requested_by_customer"}
    )
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "requested_by_customer"

    succeeded = paid_intent(client)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.payment_intents.cancel(succeeded.id)
    assert err.value.http_status == 400 and err.value.code == "payment_intent_unexpected_state"


def test_declined_card_raises_card_error(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.CardError) as err:
        paid_intent(client, payment_method="pm_card_visa_chargeDeclined")
    assert err.value.http_status == 402
    assert err.value.code == "card_declined"
    assert err.value.error is not None and err.value.error.decline_code == "generic_decline"
    pi = err.value.error.payment_intent
    assert pi is not None
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error is not None and pi.last_payment_error.code == "card_declined"

    with pytest.raises(stripe.CardError) as err:
        paid_intent(client, payment_method="pm_card_chargeDeclinedInsufficientFunds")
    assert err.value.error is not None and err.value.error.decline_code == "insufficient_funds"


def test_idempotent_replay_and_mismatch(client: stripe.StripeClient) -> None:
    key = f"booking-authorise-{time.time_ns()}"
    params: Any = {"amount": 3000, "currency": "usd", "capture_method": "manual"}
    first = client.v1.payment_intents.create(params, {"idempotency_key": key})
    again = client.v1.payment_intents.create(params, {"idempotency_key": key})
    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"

    changed: Any = {**params, "amount": 3100}
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create(changed, {"idempotency_key": key})

    # A declined attempt is saved too: replaying it declines again without a second charge.
    declining: Any = {**params, "payment_method": "pm_card_chargeDeclined", "confirm": True}
    charges = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as err:
            client.v1.payment_intents.create(declining, {"idempotency_key": f"{key}-declined"})
        assert err.value.http_status == 402 and err.value.error is not None
        charges.append(err.value.error.charge)
    assert charges[0] == charges[1]
    assert err.value.headers is not None
    assert err.value.headers.get("Idempotent-Replayed") == "true"


def test_checkout_hosted_page_authorises(client: stripe.StripeClient) -> None:
    provider = onboarded_account(client)
    session = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 2,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 2500,
                        "product_data": {"name": "Oven slot"},
                    },
                }
            ],
            "payment_intent_data": {
                "capture_method": "manual",
                "application_fee_amount": 500,
                "transfer_data": {"destination": provider},
                "metadata": {"booking_id": "bk_2"},
            },
            "success_url": "https://alliance.test/ok?session={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://alliance.test/cancel",
            "client_reference_id": "bk_2",
        }
    )
    assert session.id.startswith("cs_test_") and session.status == "open"
    assert session.payment_status == "unpaid" and session.url is not None

    page = httpx.get(session.url)
    assert page.status_code == 200
    assert "€50.00" in page.text and "Oven slot" in page.text and "TEST MODE" in page.text

    paid = httpx.post(
        session.url, data={"card_number": "4242 4242 4242 4242", "email": "guest@example.com"}
    )
    assert paid.status_code == 303
    assert paid.headers["location"] == f"https://alliance.test/ok?session={session.id}"

    session = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["payment_intent"]})
    assert session.status == "complete" and session.payment_status == "unpaid"
    assert session.customer_details is not None
    assert session.customer_details.email == "guest@example.com"
    pi = session.payment_intent
    assert isinstance(pi, stripe.PaymentIntent)
    assert pi.status == "requires_capture" and pi.amount == 5000
    assert pi.metadata["booking_id"] == "bk_2"
    assert client.v1.payment_intents.capture(pi.id).status == "succeeded"


def test_checkout_decline_rerenders_page(client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "success_url": "https://alliance.test/ok",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 1999,
                        "product_data": {"name": "Van day"},
                    },
                }
            ],
        }
    )
    assert session.url is not None
    declined = httpx.post(session.url, data={"card_number": "4000000000000002"})
    assert declined.status_code == 402 and "Your card was declined." in declined.text

    broke = httpx.post(session.url, data={"card_number": "4000000000009995"})
    assert broke.status_code == 402 and "insufficient funds" in broke.text

    session = client.v1.checkout.sessions.retrieve(session.id)
    assert session.status == "open" and session.payment_intent is not None
    pi = client.v1.payment_intents.retrieve(str(session.payment_intent))
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error is not None
    assert pi.last_payment_error.decline_code == "insufficient_funds"

    expired = client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired" and expired.url is None
    assert client.v1.payment_intents.retrieve(pi.id).status == "canceled"


def test_refund_partial_then_over_refund(client: stripe.StripeClient) -> None:
    provider = onboarded_account(client)
    pi = paid_intent(client, application_fee_amount=500, transfer_data={"destination": provider})
    refund = client.v1.refunds.create(
        {
            "payment_intent": pi.id,
            "amount": 2000,
            "reverse_transfer": True,
            "refund_application_fee": True,
            "metadata": {"reason": "policy"},
        }
    )
    assert refund.id.startswith("re_") and refund.status == "succeeded"
    assert refund.amount == 2000 and refund.transfer_reversal is not None
    metadata = client.v1.refunds.retrieve(refund.id).metadata
    assert metadata is not None and metadata["reason"] == "policy"

    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert charge.amount_refunded == 2000 and not charge.refunded
    transfer = client.v1.transfers.retrieve(str(charge.transfer))
    assert transfer.amount_reversed == 1800  # 4500 transferred x 2000/5000
    assert client.v1.application_fees.retrieve(str(charge.application_fee)).amount_refunded == 200

    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create({"payment_intent": pi.id, "amount": 3001})
    assert err.value.http_status == 400 and err.value.code == "amount_too_large"

    rest = client.v1.refunds.create({"payment_intent": pi.id})
    assert rest.amount == 3000
    assert client.v1.charges.retrieve(charge.id).refunded


def test_transfer_reversal(client: stripe.StripeClient) -> None:
    provider = onboarded_account(client)
    pi = paid_intent(client, transfer_data={"destination": provider})
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    reversal = client.v1.transfers.reversals.create(str(charge.transfer), {"amount": 1000})
    assert reversal.object == "transfer_reversal" and reversal.amount == 1000
    assert client.v1.transfers.retrieve(str(charge.transfer)).amount_reversed == 1000


def test_subscription_lifecycle(client: stripe.StripeClient) -> None:
    basic = client.v1.prices.create(
        {
            "unit_amount": 900,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "product_data": {"name": "Basic"},
        }
    )
    pro = client.v1.prices.create(
        {
            "unit_amount": 2900,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "product": basic.product if isinstance(basic.product, str) else basic.product.id,
        }
    )
    assert client.v1.prices.retrieve(pro.id).unit_amount == 2900
    customer = client.v1.customers.create({"email": "tenant@example.com", "name": "Bakery"})
    assert client.v1.customers.retrieve(customer.id).email == "tenant@example.com"

    sub = client.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": basic.id}], "metadata": {"tenant": "t1"}}
    )
    assert sub.status == "active" and sub.metadata["tenant"] == "t1"
    item = sub["items"].data[0]
    assert item.price.id == basic.id
    assert 28 * 86400 <= item.current_period_end - item.current_period_start <= 31 * 86400
    invoice = client.v1.invoices.retrieve(str(sub.latest_invoice))
    assert invoice.status == "paid" and invoice.amount_paid == 900

    sub = client.v1.subscriptions.update(
        sub.id, {"items": [{"id": item.id, "price": pro.id}], "cancel_at_period_end": True}
    )
    assert sub["items"].data[0].price.id == pro.id and sub.cancel_at_period_end

    sub = client.v1.subscriptions.cancel(sub.id)
    assert sub.status == "canceled" and sub.ended_at is not None
    kinds = [
        e.type
        for e in client.v1.events.list({"type": "customer.subscription.*"}).data
        if e.data.object["id"] == sub.id
    ]
    assert kinds == [
        "customer.subscription.deleted",
        "customer.subscription.updated",
        "customer.subscription.created",
    ]


def test_checkout_subscription_mode(client: stripe.StripeClient) -> None:
    price = client.v1.prices.create(
        {
            "unit_amount": 1500,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "product_data": {"name": "Shared kitchen membership"},
        }
    )
    customer = client.v1.customers.create({"email": "member@example.com"})
    session = client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price.id, "quantity": 1}],
            "success_url": "https://alliance.test/ok",
        }
    )
    assert session.url is not None
    assert httpx.post(session.url, data={"card_number": "4242424242424242"}).status_code == 303
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert session.status == "complete" and session.payment_status == "paid"
    sub = client.v1.subscriptions.retrieve(str(session.subscription))
    assert sub.status == "active" and sub.customer == customer.id


def test_webhooks_are_signed_and_resendable(
    client: stripe.StripeClient, simulator: RunningSimulator, receiver: Receiver
) -> None:
    customer = client.v1.customers.create({"email": "hook@example.com"})

    def is_created(r: Received) -> bool:
        body = json.loads(r.body)
        return bool(
            body["type"] == "customer.created" and body["data"]["object"]["id"] == customer.id
        )

    [delivery] = receiver.wait_for(is_created)
    event = stripe.Webhook.construct_event(delivery.body, delivery.signature, SECRET)
    assert event.type == "customer.created" and event.data.object["email"] == "hook@example.com"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body, delivery.signature, "whsec_wrong")

    resent = httpx.post(f"{simulator.url}/_sim/events/{event.id}/resend")
    assert resent.status_code == 200 and resent.json()["deliveries"][0]["ok"]
    assert len(receiver.wait_for(is_created, count=2)) == 2


def test_webhook_retries_after_failure(client: stripe.StripeClient, receiver: Receiver) -> None:
    receiver.status = 500
    try:
        customer = client.v1.customers.create({"email": "retry@example.com"})

        def mine(r: Received) -> bool:
            return bool(json.loads(r.body)["data"]["object"].get("id") == customer.id)

        receiver.wait_for(mine)  # the first attempt was answered with a 500
    finally:
        receiver.status = 200
    attempts = receiver.wait_for(mine, count=2)
    assert attempts[0].body == attempts[1].body


def test_events_list_and_retrieve(client: stripe.StripeClient) -> None:
    pi = paid_intent(client)
    events = client.v1.events.list({"type": "payment_intent.succeeded", "limit": 3})
    assert events.url == "/v1/events" and len(events.data) <= 3
    latest = events.data[0]
    assert latest.type == "payment_intent.succeeded" and latest.data.object["id"] == pi.id
    fetched = client.v1.events.retrieve(latest.id)
    assert fetched.id == latest.id and fetched.api_version
    everything = client.v1.events.list({"limit": 100}).data
    assert [e.created for e in everything] == sorted((e.created for e in everything), reverse=True)


def test_auth_and_unknown_resources(simulator: RunningSimulator) -> None:
    bad = simulator.client("sk_live_nope")
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.customers.create({})
    good = simulator.client("sk_test_x")
    with pytest.raises(stripe.InvalidRequestError) as err:
        good.v1.payment_intents.retrieve("pi_missing")
    assert err.value.http_status == 404 and err.value.code == "resource_missing"
    assert err.value.param == "id"
    with pytest.raises(stripe.InvalidRequestError) as err:
        good.raw_request("get", "/v1/not_a_thing")
    assert err.value.http_status == 404


@pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")  # stripe's HTTPXClient
async def test_async_client(simulator: RunningSimulator) -> None:
    client = stripe.StripeClient(
        "sk_test_async",
        base_addresses=simulator.base_addresses,
        http_client=stripe.HTTPXClient(),
    )
    customer = await client.v1.customers.create_async({"email": "async@example.com"})
    assert (await client.v1.customers.retrieve_async(customer.id)).email == "async@example.com"


def test_withheld_event_types_are_not_delivered_until_resent(
    client: stripe.StripeClient, simulator: RunningSimulator, receiver: Receiver
) -> None:
    def about(customer_id: str) -> Callable[[Received], bool]:
        def match(r: Received) -> bool:
            return bool(json.loads(r.body)["data"]["object"].get("id") == customer_id)

        return match

    switched = httpx.post(f"{simulator.url}/_sim/webhooks/withhold", data={"types": "customer.*"})
    assert switched.json() == {"withheld": ["customer.*"]}
    try:
        withheld = client.v1.customers.create({"email": "withheld@example.com"})
    finally:
        httpx.post(f"{simulator.url}/_sim/webhooks/withhold", data={"types": ""})
    delivered = client.v1.customers.create({"email": "delivered@example.com"})
    receiver.wait_for(about(delivered.id))  # first attempts go out in emission order
    assert not [r for r in receiver.requests if about(withheld.id)(r)]

    event = next(
        e
        for e in client.v1.events.list({"type": "customer.created"}).data
        if e.data.object["id"] == withheld.id
    )
    assert httpx.post(f"{simulator.url}/_sim/events/{event.id}/resend").json()["deliveries"][0][
        "ok"
    ]
    receiver.wait_for(about(withheld.id))
