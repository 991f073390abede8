"""The simulator's state file: a simulator started again on it knows every object it made and
still replays finished idempotent requests."""

from __future__ import annotations

from pathlib import Path

import httpx
import stripe

from infra.stripe_sim import serve_in_thread

from .test_stripe_sim import onboarded_account


def test_objects_and_idempotent_replays_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "stripe-sim.json"
    with serve_in_thread(state_file=state) as first:
        client = first.client()
        account = onboarded_account(client)
        customer = client.v1.customers.create(
            {"name": "Soupe & Co"}, {"idempotency_key": "customer-1"}
        )
        intent = client.v1.payment_intents.create(
            {
                "amount": 5000,
                "currency": "eur",
                "payment_method": "pm_card_visa",
                "confirm": True,
                "capture_method": "manual",
                "transfer_data": {"destination": account},
                "application_fee_amount": 500,
            }
        )
        assert intent.status == "requires_capture"
        checkout = client.v1.checkout.sessions.create(
            {
                "mode": "payment",
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": "eur",
                            "unit_amount": 2500,
                            "product_data": {"name": "Kitchen, two hours"},
                        },
                    }
                ],
                "payment_intent_data": {"capture_method": "manual"},
                "success_url": "https://alliance.test/done",
                "cancel_url": "https://alliance.test/cancel",
            }
        )
    assert state.exists()

    with serve_in_thread(state_file=state) as second:
        client = second.client()
        assert client.v1.accounts.retrieve(account).charges_enabled is True
        assert client.v1.customers.retrieve(customer.id).name == "Soupe & Co"
        again = client.v1.customers.create(
            {"name": "Soupe & Co"}, {"idempotency_key": "customer-1"}
        )
        assert again.id == customer.id, "the key still replays the first answer"
        captured = client.v1.payment_intents.capture(intent.id)
        assert captured.status == "succeeded" and captured.amount_received == 5000
        assert checkout.url is not None
        paid = httpx.post(
            checkout.url.replace(first.url, second.url),  # the dev stack keeps its port
            data={"card_number": "4242 4242 4242 4242", "email": "a@b.example", "name": "A"},
        )
        assert paid.status_code == 303, "the hosted page of an earlier session still works"
        assert client.v1.checkout.sessions.retrieve(checkout.id).status == "complete"
        health = httpx.get(f"{second.url}/_sim/health").json()
        assert health["objects"] >= 4


def test_without_a_state_file_a_restart_starts_empty() -> None:
    with serve_in_thread() as first:
        account = first.client().v1.accounts.create({"type": "express"})
    with serve_in_thread() as second:
        try:
            second.client().v1.accounts.retrieve(account.id)
        except stripe.InvalidRequestError as exc:
            assert exc.code == "resource_missing"
        else:
            raise AssertionError("an in-memory simulator cannot know an earlier one's account")
