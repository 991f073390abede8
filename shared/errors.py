"""RFC 9457 problem details: the one error shape every service answers with."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.types import ExceptionHandlersMap

PROBLEM_BASE = "https://alliance.dev/problems/"
log = logging.getLogger("alliance.errors")

_STATUS_TYPES = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "unprocessable",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}


def problem_type(slug: str) -> str:
    return PROBLEM_BASE + slug


class Problem(ProblemDetailsException):
    """A domain error with a stable `type` slug; raise it anywhere below a handler."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(
            detail=detail,
            status_code=status,
            type_=problem_type(slug),
            title=HTTPStatus(status).phrase,
            headers=headers,
            extra=extra or None,
        )


class NotFound(Problem):
    def __init__(self, what: str) -> None:
        super().__init__(404, "not-found", f"{what} not found")


class Conflict(Problem):
    def __init__(self, slug: str, detail: str, **extra: Any) -> None:
        super().__init__(409, slug, detail, **extra)


def _from_http_exception(exc: HTTPException) -> ProblemDetailsException:
    status = exc.status_code
    if status >= 500:
        # Litestar raises these for its own failures (e.g. misconfigured dependencies).
        log.error("server error", exc_info=exc)
    slug = "validation-error" if isinstance(exc, ValidationException) else None
    slug = slug or _STATUS_TYPES.get(status, "error")
    extra: dict[str, Any] | None = None
    if isinstance(exc.extra, list) and exc.extra:
        extra = {"errors": exc.extra}
    elif isinstance(exc.extra, dict) and exc.extra:
        extra = exc.extra
    return ProblemDetailsException(
        detail=exc.detail,
        status_code=status,
        type_=problem_type(slug),
        title=HTTPStatus(status).phrase,
        headers=exc.headers,
        extra=extra,
    )


def _internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", exc_info=exc)
    problem = ProblemDetailsException(
        detail="An unexpected error occurred; it has been logged.",
        status_code=500,
        type_=problem_type("internal-error"),
        title=HTTPStatus(500).phrase,
    )
    return problem.to_response(request)


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={HTTPException: _from_http_exception},
        )
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {Exception: _internal_error}
