"""Stripe's error envelope, so the real SDK raises the exception classes it would in production.

The SDK picks its exception class from the HTTP status and `error.type` (402 -> CardError,
`idempotency_error` -> IdempotencyError, 404 -> InvalidRequestError, ...), so both must match.
"""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.stripe.com/error-codes"


class StripeError(Exception):
    """An API error rendered as `{"error": {...}}` with Stripe's status code.

    `persist` says whether an idempotent request that failed this way is stored for replay:
    Stripe saves results once an endpoint started executing (card declines, state errors) but
    not for requests rejected by parameter validation or concurrency conflicts.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        persist: bool = True,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.persist = persist
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            err["code"] = self.code
            err["doc_url"] = f"{DOCS}#{self.code.replace('_', '-')}"
        if self.param is not None:
            err["param"] = self.param
        err.update(self.extra)
        return {"error": err}


def missing_param(param: str) -> StripeError:
    return StripeError(
        400,
        f"Missing required param: {param}.",
        code="parameter_missing",
        param=param,
        persist=False,
    )


def invalid_param(param: str, message: str, code: str = "parameter_invalid") -> StripeError:
    return StripeError(400, message, code=code, param=param, persist=False)


def no_such(kind: str, ident: str, param: str = "id", status: int = 404) -> StripeError:
    """`resource_missing`: 404 for the path id, 400 when a body parameter names a missing object."""
    return StripeError(
        status,
        f"No such {kind}: '{ident}'",
        code="resource_missing",
        param=param,
        persist=status != 400,
    )


def unexpected_state(message: str, code: str = "payment_intent_unexpected_state") -> StripeError:
    return StripeError(400, message, code=code)
