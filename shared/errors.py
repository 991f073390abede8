"""RFC 9457 problem details: the one error shape every service answers with."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import ParameterKwarg
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import DBAPIError

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


PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemOut(msgspec.Struct):
    """How every error answers (RFC 9457); some add members, e.g. `errors` or `retry_after`."""

    type: str
    title: str
    status: int
    detail: str | None = None


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses for problems a handler answers with, beyond those every operation
    documents (see shared.app): `@post(..., responses=problem_responses(401, 429))`."""
    return {
        status: ResponseSpec(
            data_container=ProblemOut,
            media_type=PROBLEM_MEDIA_TYPE,
            description=HTTPStatus(status).phrase,
            generate_examples=False,
        )
        for status in statuses
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


UNSTORABLE_TEXT = frozenset({"22021", "22P05"})
"""PostgreSQL's character_not_in_repertoire / untranslatable_character: e.g. a NUL in text."""


def _database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Text PostgreSQL cannot store is the client's input, not our failure: 422, not 500."""
    if getattr(getattr(exc, "orig", None), "sqlstate", None) not in UNSTORABLE_TEXT:
        return _internal_error(request, exc)
    return Problem(
        422, "invalid-text", "Text must be valid UTF-8 without NUL characters."
    ).to_response(request)


def _raised_decoding_the_body(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "decode_json":
            return True
        tb = tb.tb_next
    return False


def _undecodable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Litestar's JSON decoding lets invalid UTF-8 and too deep nesting escape as
    UnicodeDecodeError and RecursionError: the client's bytes, so a 400 like any malformed
    body. Raised anywhere else, they are ours: a 500."""
    if not _raised_decoding_the_body(exc):
        return _internal_error(request, exc)
    return Problem(400, "bad-request", "The body is not valid JSON.").to_response(request)


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Litestar names a parameter's errors after the handler's argument (`start`), while the
    caller sent it by its name in the URL (`from`): the problem names what the caller sent."""
    if isinstance(exc.extra, list):
        fields = request.route_handler.parsed_fn_signature.parameters
        for error in exc.extra:
            field = fields.get(str(error.get("key"))) if isinstance(error, dict) else None
            kwarg = field.kwarg_definition if field is not None else None
            if isinstance(kwarg, ParameterKwarg) and kwarg.name:
                error["key"] = kwarg.name
    return _from_http_exception(exc).to_response(request)


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={HTTPException: _from_http_exception},
        )
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ValidationException: _validation_error,
    DBAPIError: _database_error,
    UnicodeDecodeError: _undecodable,
    RecursionError: _undecodable,
    Exception: _internal_error,
}
