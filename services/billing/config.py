"""Billing's own settings: when an unpaid checkout is checked against Stripe."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from functools import cache


@dataclass(frozen=True)
class BillingSettings:
    check_after: timedelta
    """How long an unpaid checkout may go without news before billing asks Stripe about it
    (and again after as long each time): webhooks may never come."""


@cache
def billing_settings() -> BillingSettings:
    return BillingSettings(
        check_after=timedelta(
            seconds=int(os.environ.get("ALLIANCE_BILLING_CHECK_AFTER_SECONDS", "120"))
        )
    )
