"""The /v1 request pipeline: API-key auth, form parsing, idempotency, dispatch, expand, errors.

Kept apart from Litestar so one function owns the Stripe semantics every endpoint shares;
resource handlers are plain synchronous functions `(sim, request) -> object`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import StripeError
from .forms import Params, parse_form
from .sim import DEFAULT_API_VERSION, RequestInfo, Simulator
from .store import JSON, IdempotencyRecord, new_id

log = logging.getLogger("alliance.stripe_sim")

MAX_KEY_LENGTH = 255


@dataclass
class ApiRequest:
    """What a resource handler sees: parsed params, path params and the connected account."""

    method: str
    path: str
    params: Params
    path_params: dict[str, str]
    stripe_account: str | None = None

    def arg(self, name: str) -> str:
        return self.path_params[name]


@dataclass
class ApiResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Simulator, ApiRequest], JSON]


class Router:
    """Method + path-template table (`/v1/payment_intents/{intent}/capture`)."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self.routes.append((method.upper(), re.compile(f"^{pattern}$"), handler))

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(method, template, handler)
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        for route_method, pattern, handler in self.routes:
            if route_method != method:
                continue
            found = pattern.match(path)
            if found is not None:
                return handler, found.groupdict()
        return None


def page(sim: Simulator, req: ApiRequest, url: str, items: list[JSON]) -> JSON:
    """A list endpoint's answer: `items` newest first, paginated by the request's cursor params."""
    p = req.params
    return sim.store.page(
        url,
        items,
        limit=p.integer("limit"),
        starting_after=p.text("starting_after"),
        ending_before=p.text("ending_before"),
    )


def _encode(body: JSON) -> bytes:
    return json.dumps(body, indent=2).encode()


def _error(message: str, *, type_: str = "invalid_request_error", **extra: Any) -> JSON:
    err: JSON = {"type": type_, "message": message}
    err.update({k: v for k, v in extra.items() if v is not None})
    return {"error": err}


def unknown_endpoint(method: str, path: str) -> JSON:
    return _error(
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
    )


def _authenticate(headers: Mapping[str, str]) -> str | JSON:
    """Return the secret key, or the 401 body Stripe sends for a missing/invalid one."""
    auth = headers.get("authorization", "")
    key = ""
    if auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    elif auth.lower().startswith("basic "):  # `curl -u sk_test_...:` as in Stripe's docs
        with contextlib.suppress(ValueError):
            key = base64.b64decode(auth[6:].strip()).decode().split(":", 1)[0]
    if not key:
        return _error(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
            "or we can help at https://support.stripe.com/.",
        )
    if not key.startswith(("sk_test_", "rk_test_")):
        masked = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:]
        return _error(f"Invalid API Key provided: {masked}")
    return key


def handle(
    sim: Simulator,
    router: Router,
    *,
    method: str,
    path: str,
    query: str,
    body: bytes,
    headers: Mapping[str, str],
) -> ApiResponse:
    """Run one /v1 request through Stripe's shared semantics. `headers` keys are lower-case."""
    request_id = new_id("req_", 14)
    version = headers.get("stripe-version") or DEFAULT_API_VERSION
    out_headers = {"Request-Id": request_id, "Stripe-Version": version}

    auth = _authenticate(headers)
    if isinstance(auth, dict):
        return ApiResponse(401, _encode(auth), out_headers)

    found = router.match(method, path)
    if found is None:
        return ApiResponse(404, _encode(unknown_endpoint(method, path)), out_headers)
    handler, path_params = found

    try:
        params = parse_form(query)
        if method == "POST":
            params.update(parse_form(body.decode("utf-8")))
    except UnicodeDecodeError:
        return ApiResponse(400, _encode(_error("Invalid request body encoding.")), out_headers)

    account = headers.get("stripe-account") or None
    key = headers.get("idempotency-key") if method == "POST" else None
    record: IdempotencyRecord | None = None
    if key:
        out_headers["Idempotency-Key"] = key
        replay = _idempotency_check(sim, key, account, method, path, params, request_id)
        if isinstance(replay, ApiResponse):
            replay.headers = {**out_headers, **replay.headers}
            return replay
        record = replay

    sim.request = RequestInfo(request_id, key, version, account)
    request = ApiRequest(method, path, Params(params), path_params, account)
    persist = True
    try:
        result = handler(sim, request)
        expand = request.params.expand()
        if expand:
            result = sim.expand(result, expand)
        status, payload = 200, result
    except StripeError as exc:
        status, payload, persist = exc.status, exc.body(), exc.persist
        out_headers.update(exc.headers)
    except Exception:
        log.exception("stripe simulator crashed on %s %s", method, path)
        status, persist = 500, False
        payload = _error("An unknown error occurred in the Stripe simulator.", type_="api_error")
    finally:
        sim.request = RequestInfo()

    encoded = _encode(payload)
    if record is not None and key:
        scope = (account or "", key)
        if persist:
            record.in_flight = False
            record.status, record.body = status, encoded
            record.headers = {"Original-Request": request_id}
        else:
            sim.store.idempotency.pop(scope, None)
    return ApiResponse(status, encoded, out_headers)


def _idempotency_check(
    sim: Simulator,
    key: str,
    account: str | None,
    method: str,
    path: str,
    params: JSON,
    request_id: str,
) -> ApiResponse | IdempotencyRecord:
    """Replay, reject, or reserve an Idempotency-Key (scoped per account like Stripe)."""
    if len(key) > MAX_KEY_LENGTH:
        body = _error(
            f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters long.",
            type_="idempotency_error",
        )
        return ApiResponse(400, _encode(body))
    scope = (account or "", key)
    existing = sim.store.idempotency.get(scope)
    if existing is None:
        record = IdempotencyRecord(method, path, params, request_id)
        sim.store.idempotency[scope] = record
        return record
    if existing.in_flight:
        body = _error(
            "There is currently another in-progress request using this Idempotent Key "
            "(that probably means you submitted twice, and the other request is still going "
            f"through): {key}. Please try again later.",
            type_="idempotency_error",
            code="idempotency_key_in_use",
        )
        return ApiResponse(409, _encode(body), {"Stripe-Should-Retry": "true"})
    if existing.method != method or existing.path != path:
        body = _error(
            "Keys for idempotent requests can only be used for the same endpoint they were "
            f"first used for ('{existing.method} {existing.path}' vs '{method} {path}'). "
            f"Try using a key other than '{key}' if you meant to execute a different request.",
            type_="idempotency_error",
        )
        return ApiResponse(400, _encode(body), {"Stripe-Should-Retry": "false"})
    if existing.params != params:
        body = _error(
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{key}' if you meant to execute a "
            "different request.",
            type_="idempotency_error",
        )
        return ApiResponse(400, _encode(body), {"Stripe-Should-Retry": "false"})
    return ApiResponse(
        existing.status,
        existing.body,
        {**existing.headers, "Idempotent-Replayed": "true", "Stripe-Should-Retry": "false"},
    )
