"""Stripe's documented test cards and `pm_card_*` tokens, with the outcome each one produces.

Both the API (`payment_method=pm_card_chargeDeclined`) and the hosted checkout page
(`card_number=4000 0000 0000 0002`) resolve to the same `CardSpec`, so declines look identical.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decline:
    code: str
    decline_code: str
    message: str
    param: str | None = None


GENERIC = Decline("card_declined", "generic_decline", "Your card was declined.")
INSUFFICIENT = Decline("card_declined", "insufficient_funds", "Your card has insufficient funds.")
LOST = Decline("card_declined", "lost_card", "Your card was declined.")
STOLEN = Decline("card_declined", "stolen_card", "Your card was declined.")
EXPIRED = Decline("expired_card", "expired_card", "Your card has expired.", "exp_month")
BAD_CVC = Decline(
    "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", "cvc"
)
PROCESSING = Decline(
    "processing_error",
    "processing_error",
    "An error occurred while processing your card. Try again in a little bit.",
)
LIVE_CARD = Decline(
    "card_declined",
    "test_mode_live_card",
    "Your card was declined. Your request was in test mode, but used a non test (live) card. "
    "For a list of valid test cards, visit: https://stripe.com/docs/testing.",
)


@dataclass(frozen=True)
class CardSpec:
    number: str
    brand: str
    funding: str = "credit"
    decline: Decline | None = None
    label: str = ""

    @property
    def last4(self) -> str:
        return self.number[-4:]


CARDS: dict[str, CardSpec] = {
    c.number: c
    for c in (
        CardSpec("4242424242424242", "visa", label="Succeeds"),
        CardSpec("4000056655665556", "visa", "debit", label="Succeeds (debit)"),
        CardSpec("5555555555554444", "mastercard", label="Succeeds (Mastercard)"),
        CardSpec("378282246310005", "amex", label="Succeeds (Amex)"),
        CardSpec("4000000000000002", "visa", decline=GENERIC, label="Declined (generic)"),
        CardSpec(
            "4000000000009995", "visa", decline=INSUFFICIENT, label="Declined (insufficient funds)"
        ),
        CardSpec("4000000000009987", "visa", decline=LOST, label="Declined (lost card)"),
        CardSpec("4000000000009979", "visa", decline=STOLEN, label="Declined (stolen card)"),
        CardSpec("4000000000000069", "visa", decline=EXPIRED, label="Declined (expired card)"),
        CardSpec("4000000000000127", "visa", decline=BAD_CVC, label="Declined (incorrect CVC)"),
        CardSpec("4000000000000119", "visa", decline=PROCESSING, label="Processing error"),
    )
}

_DECLINE_TOKENS = {
    "chargeDeclined": "4000000000000002",
    "chargeDeclinedInsufficientFunds": "4000000000009995",
    "chargeDeclinedLostCard": "4000000000009987",
    "chargeDeclinedStolenCard": "4000000000009979",
    "chargeDeclinedExpiredCard": "4000000000000069",
    "chargeDeclinedIncorrectCvc": "4000000000000127",
    "chargeDeclinedProcessingError": "4000000000000119",
}

PM_TOKENS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    **{f"pm_card_{name}": number for name, number in _DECLINE_TOKENS.items()},
    **{f"pm_card_visa_{name}": number for name, number in _DECLINE_TOKENS.items()},
}


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_for_number(raw: str) -> CardSpec | None:
    """A typed card number (spaces/dashes allowed) -> its test card; None if not a valid number.

    Valid numbers that are not test cards decline like a live card used in test mode.
    """
    number = raw.replace(" ", "").replace("-", "")
    if not number.isdigit() or not 13 <= len(number) <= 19 or not luhn_ok(number):
        return None
    known = CARDS.get(number)
    if known is not None:
        return known
    brand = "visa" if number.startswith("4") else "mastercard" if number[0] in "25" else "unknown"
    return CardSpec(number, brand, decline=LIVE_CARD)
