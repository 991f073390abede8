"""Connect: Express accounts, onboarding via Account Links, transfers and application fees.

New accounts cannot take destination charges until onboarding is completed on the simulator's
hosted page, mirroring the capability checks Stripe applies to `transfer_data[destination]`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from .errors import StripeError
from .forms import Params, merge_metadata
from .routing import ApiRequest, Router, page
from .sim import Simulator
from .store import JSON, list_object, new_id, now, snapshot

ONBOARDING_REQUIREMENTS = [
    "business_profile.mcc",
    "business_profile.url",
    "business_type",
    "external_account",
    "representative.first_name",
    "representative.last_name",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]

ACCOUNT_TYPES = ("express", "standard", "custom")


def _requirements(due: list[str]) -> JSON:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": "requirements.past_due" if due else None,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


def new_account(p: Params) -> JSON:
    account_type = p.text("type", choices=ACCOUNT_TYPES) or "express"
    capabilities: dict[str, str] = {}
    for name, spec in p.sub("capabilities").data.items():
        if isinstance(spec, dict) and spec.get("requested") == "true":
            capabilities[name] = "inactive"
    if account_type == "express" and not capabilities:
        capabilities = {"transfers": "inactive"}
    country = p.text("country") or "US"
    return {
        "id": new_id("acct_", 16),
        "object": "account",
        "business_profile": {
            "mcc": None,
            "name": None,
            "product_description": None,
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
            **{k: v for k, v in p.sub("business_profile").data.items() if isinstance(v, str)},
        },
        "business_type": p.text("business_type"),
        "capabilities": capabilities,
        "charges_enabled": False,
        "controller": {
            "fees": {"payer": "application"},
            "is_controller": True,
            "losses": {"payments": "application"},
            "requirement_collection": "stripe",
            "stripe_dashboard": {"type": account_type if account_type != "custom" else "none"},
            "type": "application",
        },
        "country": country,
        "created": now(),
        "default_currency": p.text("default_currency") or ("usd" if country == "US" else "eur"),
        "details_submitted": False,
        "email": p.text("email"),
        "external_accounts": list_object("/v1/accounts/external_accounts", []),
        "future_requirements": _requirements([]),
        "livemode": False,
        "metadata": p.metadata() or {},
        "payouts_enabled": False,
        "requirements": _requirements(ONBOARDING_REQUIREMENTS),
        "settings": {
            "payouts": {"schedule": {"delay_days": 2, "interval": "daily"}},
            "dashboard": {"display_name": None, "timezone": "Etc/UTC"},
        },
        "tos_acceptance": {"date": None},
        "type": account_type,
    }


def complete_onboarding(sim: Simulator, account: JSON) -> None:
    """What finishing the hosted onboarding flow does: everything enabled, nothing due."""
    if account["details_submitted"] and account["charges_enabled"]:
        return
    previous: dict[str, Any] = {
        k: snapshot(account[k])
        for k in (
            "details_submitted",
            "charges_enabled",
            "payouts_enabled",
            "requirements",
            "capabilities",
            "tos_acceptance",
        )
    }
    account["details_submitted"] = True
    account["charges_enabled"] = True
    account["payouts_enabled"] = True
    account["requirements"] = _requirements([])
    account["capabilities"] = {name: "active" for name in account["capabilities"]}
    account["tos_acceptance"] = {"date": now(), "ip": "127.0.0.1", "user_agent": "stripe-sim"}
    if account["business_type"] is None:
        account["business_type"] = "individual"
        previous["business_type"] = None
    if not account["external_accounts"]["data"]:
        account["external_accounts"]["data"].append(
            {
                "id": new_id("ba_"),
                "object": "bank_account",
                "account": account["id"],
                "bank_name": "STRIPE TEST BANK",
                "country": account["country"],
                "currency": account["default_currency"],
                "last4": "6789",
                "status": "new",
                "default_for_currency": True,
            }
        )
    sim.emit("account.updated", account, previous_attributes=previous, account=account["id"])


def lapse_verification(sim: Simulator, account: JSON) -> None:
    """What Stripe does when a verification lapses: payments and payouts stop until the owner
    provides the document again (onboarding once more enables them)."""
    previous = {
        k: snapshot(account[k])
        for k in ("charges_enabled", "payouts_enabled", "requirements", "capabilities")
    }
    account["charges_enabled"] = False
    account["payouts_enabled"] = False
    account["requirements"] = _requirements(["individual.verification.document"])
    account["capabilities"] = {name: "inactive" for name in account["capabilities"]}
    sim.emit("account.updated", account, previous_attributes=previous, account=account["id"])


def require_destination(sim: Simulator, destination: str, param: str) -> JSON:
    """A destination charge needs an onboarded account with the transfers capability."""
    account = sim.store.get("account", destination, param=param, status=400)
    if account["capabilities"].get("transfers") != "active":
        raise StripeError(
            400,
            "Your destination account needs to have at least one of the following capabilities "
            "enabled: transfers, crypto_transfers, legacy_payments",
            code="insufficient_capabilities_for_transfer",
            param=param,
            persist=False,
        )
    return account


def create_transfer(
    sim: Simulator,
    *,
    amount: int,
    currency: str,
    destination: str,
    source_transaction: str | None = None,
    transfer_group: str | None = None,
    metadata: dict[str, str] | None = None,
    description: str | None = None,
) -> JSON:
    transfer_id = new_id("tr_")
    transfer = sim.store.add(
        {
            "id": transfer_id,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "balance_transaction": new_id("txn_"),
            "created": now(),
            "currency": currency,
            "description": description,
            "destination": destination,
            "destination_payment": new_id("py_"),
            "livemode": False,
            "metadata": metadata or {},
            "reversals": list_object(f"/v1/transfers/{transfer_id}/reversals", []),
            "reversed": False,
            "source_transaction": source_transaction,
            "source_type": "card",
            "transfer_group": transfer_group,
        }
    )
    transfer["reversals"]["total_count"] = 0
    sim.emit("transfer.created", transfer)
    return transfer


def create_application_fee(sim: Simulator, *, charge: JSON, amount: int, account: str) -> JSON:
    fee_id = new_id("fee_")
    fee = sim.store.add(
        {
            "id": fee_id,
            "object": "application_fee",
            "account": account,
            "amount": amount,
            "amount_refunded": 0,
            "application": "ca_AllianceSimApplication",
            "balance_transaction": new_id("txn_"),
            "charge": charge["id"],
            "created": now(),
            "currency": charge["currency"],
            "fee_source": {"charge": charge["id"], "type": "charge"},
            "livemode": False,
            "originating_transaction": None,
            "refunded": False,
            "refunds": list_object(f"/v1/application_fees/{fee_id}/refunds", []),
        }
    )
    fee["refunds"]["total_count"] = 0
    sim.emit("application_fee.created", fee)
    return fee


def reverse_transfer(
    sim: Simulator,
    transfer: JSON,
    amount: int | None,
    *,
    metadata: dict[str, str] | None = None,
    source_refund: str | None = None,
    param: str = "amount",
) -> JSON:
    remaining = transfer["amount"] - transfer["amount_reversed"]
    if remaining <= 0:
        raise StripeError(
            400,
            f"Transfer {transfer['id']} has already been fully reversed.",
            param=param,
        )
    value = remaining if amount is None else amount
    if value <= 0 or value > remaining:
        raise StripeError(
            400,
            f"You cannot reverse more than the remaining amount of the transfer ({remaining}).",
            code="amount_too_large",
            param=param,
        )
    reversal = sim.store.add(
        {
            "id": new_id("trr_"),
            "object": "transfer_reversal",
            "amount": value,
            "balance_transaction": new_id("txn_"),
            "created": now(),
            "currency": transfer["currency"],
            "destination_payment_refund": new_id("pyr_"),
            "metadata": metadata or {},
            "source_refund": source_refund,
            "transfer": transfer["id"],
        }
    )
    previous = {"amount_reversed": transfer["amount_reversed"], "reversed": transfer["reversed"]}
    transfer["amount_reversed"] += value
    transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
    transfer["reversals"]["data"].insert(0, snapshot(reversal))
    transfer["reversals"]["total_count"] += 1
    sim.emit("transfer.reversed", transfer, previous_attributes=previous)
    return reversal


def refund_application_fee(sim: Simulator, fee: JSON, amount: int) -> JSON | None:
    value = min(amount, fee["amount"] - fee["amount_refunded"])
    if value <= 0:
        return None
    fee_refund = {
        "id": new_id("fr_"),
        "object": "fee_refund",
        "amount": value,
        "balance_transaction": new_id("txn_"),
        "created": now(),
        "currency": fee["currency"],
        "fee": fee["id"],
        "metadata": {},
    }
    fee["amount_refunded"] += value
    fee["refunded"] = fee["amount_refunded"] >= fee["amount"]
    fee["refunds"]["data"].insert(0, fee_refund)
    fee["refunds"]["total_count"] += 1
    sim.emit("application_fee.refunded", fee)
    return fee_refund


def register(router: Router) -> None:
    @router.route("POST", "/v1/accounts")
    def create_account(sim: Simulator, req: ApiRequest) -> JSON:
        account = sim.store.add(new_account(req.params))
        return snapshot(account)

    @router.route("GET", "/v1/accounts")
    def list_accounts(sim: Simulator, req: ApiRequest) -> JSON:
        return page(sim, req, "/v1/accounts", list(reversed(sim.store.all("account"))))

    @router.route("GET", "/v1/accounts/{account}")
    def retrieve_account(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(sim.store.get("account", req.arg("account")))

    @router.route("POST", "/v1/accounts/{account}")
    def update_account(sim: Simulator, req: ApiRequest) -> JSON:
        account = sim.store.get("account", req.arg("account"))
        p = req.params
        previous: dict[str, Any] = {}
        metadata = p.metadata()
        if metadata is not None:
            previous["metadata"] = snapshot(account["metadata"])
            account["metadata"] = merge_metadata(account["metadata"], metadata)
        for field_name in ("email", "business_type", "default_currency"):
            value = p.text(field_name)
            if value is not None:
                previous[field_name] = account[field_name]
                account[field_name] = value
        for nested in ("business_profile", "settings"):
            sub = p.sub(nested).data
            if sub:
                previous[nested] = snapshot(account[nested])
                _deep_merge(account[nested], sub)
        if previous:
            sim.emit(
                "account.updated", account, previous_attributes=previous, account=account["id"]
            )
        return snapshot(account)

    @router.route("DELETE", "/v1/accounts/{account}")
    def delete_account(sim: Simulator, req: ApiRequest) -> JSON:
        account = sim.store.get("account", req.arg("account"))
        del sim.store.objects[account["id"]]
        return {"id": account["id"], "object": "account", "deleted": True}

    @router.route("POST", "/v1/account_links")
    def create_account_link(sim: Simulator, req: ApiRequest) -> JSON:
        p = req.params
        account_id = p.req_text("account")
        sim.store.get("account", account_id, param="account", status=400)
        link_type = p.req_text("type", choices=("account_onboarding", "account_update"))
        return_url = p.req_text("return_url")
        refresh_url = p.text("refresh_url") or return_url
        created = now()
        query = urlencode({"return_url": return_url, "refresh_url": refresh_url, "type": link_type})
        return {
            "object": "account_link",
            "created": created,
            "expires_at": created + 300,
            "url": f"{sim.public_url}/connect/onboard/{account_id}?{query}",
        }

    @router.route("POST", "/v1/accounts/{account}/login_links")
    def create_login_link(sim: Simulator, req: ApiRequest) -> JSON:
        account = sim.store.get("account", req.arg("account"))
        return {
            "object": "login_link",
            "created": now(),
            "url": f"{sim.public_url}/connect/dashboard/{account['id']}",
        }

    @router.route("POST", "/v1/transfers")
    def create_transfer_api(sim: Simulator, req: ApiRequest) -> JSON:
        p = req.params
        amount = p.req_integer("amount")
        currency = p.req_text("currency").lower()
        destination = p.req_text("destination")
        require_destination(sim, destination, "destination")
        transfer = create_transfer(
            sim,
            amount=amount,
            currency=currency,
            destination=destination,
            source_transaction=p.text("source_transaction"),
            transfer_group=p.text("transfer_group"),
            metadata=p.metadata(),
            description=p.text("description"),
        )
        return snapshot(transfer)

    @router.route("GET", "/v1/transfers")
    def list_transfers(sim: Simulator, req: ApiRequest) -> JSON:
        items = list(reversed(sim.store.all("transfer")))
        for key in ("destination", "transfer_group"):
            wanted = req.params.text(key)
            if wanted is not None:
                items = [t for t in items if t[key] == wanted]
        return page(sim, req, "/v1/transfers", items)

    @router.route("GET", "/v1/transfers/{transfer}")
    def retrieve_transfer(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(sim.store.get("transfer", req.arg("transfer")))

    @router.route("POST", "/v1/transfers/{transfer}/reversals")
    def create_reversal(sim: Simulator, req: ApiRequest) -> JSON:
        transfer = sim.store.get("transfer", req.arg("transfer"))
        p = req.params
        reversal = reverse_transfer(sim, transfer, p.integer("amount"), metadata=p.metadata())
        if p.flag("refund_application_fee") and transfer["source_transaction"]:
            charge = sim.store.find(transfer["source_transaction"])
            if charge is not None and charge.get("application_fee"):
                fee = sim.store.get("application_fee", charge["application_fee"])
                share = round(fee["amount"] * reversal["amount"] / max(transfer["amount"], 1))
                refund_application_fee(sim, fee, share)
        return snapshot(reversal)

    @router.route("GET", "/v1/transfers/{transfer}/reversals")
    def list_reversals(sim: Simulator, req: ApiRequest) -> JSON:
        transfer = sim.store.get("transfer", req.arg("transfer"))
        items = [
            r
            for r in reversed(sim.store.all("transfer_reversal"))
            if r["transfer"] == transfer["id"]
        ]
        return page(sim, req, f"/v1/transfers/{transfer['id']}/reversals", items)

    @router.route("GET", "/v1/application_fees/{fee}")
    def retrieve_fee(sim: Simulator, req: ApiRequest) -> JSON:
        return snapshot(sim.store.get("application_fee", req.arg("fee")))

    @router.route("GET", "/v1/application_fees")
    def list_fees(sim: Simulator, req: ApiRequest) -> JSON:
        items = list(reversed(sim.store.all("application_fee")))
        charge = req.params.text("charge")
        if charge is not None:
            items = [f for f in items if f["charge"] == charge]
        return page(sim, req, "/v1/application_fees", items)


def _deep_merge(target: JSON, update: JSON) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = None if value == "" else value
