"""What each service's OpenAPI document promises, made true for every operation at once.

Litestar documents a handler's success answer; these add the problem answers every operation
can give, the bearer token where a caller is required, and what msgspec enforces but Litestar
leaves out (unknown fields refused, bounds of 0).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.enums import ParamType
from litestar.openapi.spec import SecurityScheme
from litestar.params import ParameterKwarg
from litestar.routes import HTTPRoute

from shared.errors import Problem, problem_responses

BEARER = "bearer"
"""The OpenAPI security scheme of accounts' access tokens."""
SECURITY_SCHEMES: dict[str, Any] = {
    BEARER: SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
}


def _needs(handler: Any, name: str) -> bool:
    """Whether the handler asks, directly or through its dependencies, for `name`."""
    providers = handler.resolve_dependencies()
    seen: set[str] = set()
    pending = list(handler.parsed_fn_signature.parameters)
    while pending:
        current = pending.pop()
        if current == name:
            return True
        if current in seen or current not in providers:
            continue
        seen.add(current)
        pending.extend(providers[current].parsed_fn_signature.parameters)
    return False


def document_operations(app: Litestar) -> None:
    """Document, once for every service, what each operation can answer besides its success:
    a problem+json 400 for input that does not fit, 401/403 (and the bearer token) where a
    caller is required, 404 where the path names an object, 409/422 where a change can meet a
    conflicting state or break a business rule, 413 where a body is taken. Handlers add their
    own (e.g. 401 for a wrong password, 429 when rate limited) with `problem_responses`."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            inputs = set(handler.parsed_fn_signature.parameters) - set(
                handler.resolve_dependencies()
            )
            statuses = {400}
            if _needs(handler, "principal"):
                statuses |= {401, 403}
                handler.security = [{BEARER: []}]
            data = handler.parsed_fn_signature.parameters.get("data")
            if route.path_parameters or (data is not None and _names_objects(data.annotation)):
                statuses.add(404)
            if handler.http_methods - {"GET", "HEAD"}:
                statuses.add(409)
            if "data" in inputs:
                statuses.add(413)
            if inputs - set(route.path_parameters) - {"request", "state", "headers", "cookies"}:
                statuses.add(422)
            if _needs(handler, "viewer"):
                statuses.add(401)  # anonymous is fine, a bad token is not
            handler.responses = {**problem_responses(*statuses), **(handler.responses or {})}
    _tighten_schemas(app)


def _names_objects(annotation: Any) -> bool:
    """Whether a body refers to existing objects by id (e.g. a booking's `resource_id`)."""
    info = msgspec.inspect.type_info(annotation)
    if not isinstance(info, msgspec.inspect.StructType):
        return False
    for field in info.fields:
        kinds = (
            field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else [field.type]
        )
        if any(isinstance(kind, msgspec.inspect.UUIDType) for kind in kinds):
            return True
    return False


def _strict_structs(annotation: Any, found: dict[str, type[msgspec.Struct]]) -> None:
    """The msgspec structs that refuse unknown fields, anywhere in a request body's type."""
    pending = [msgspec.inspect.type_info(annotation)]
    while pending:
        info = pending.pop()
        if isinstance(info, msgspec.inspect.StructType):
            if info.cls.__name__ in found:
                continue
            if info.forbid_unknown_fields:
                found[info.cls.__name__] = info.cls
            pending.extend(field.type for field in info.fields)
        elif isinstance(info, msgspec.inspect.UnionType):
            pending.extend(info.types)
        elif isinstance(info, msgspec.inspect.CollectionType | msgspec.inspect.DictType):
            pending.append(getattr(info, "item_type", None) or info.value_type)  # type: ignore[union-attr]


BOUNDS = {"ge": "minimum", "gt": "exclusive_minimum", "le": "maximum", "lt": "exclusive_maximum"}


def _restore_zero_bounds(schema: Any, source: Any) -> None:
    """Litestar drops a bound of 0 (`ge=0`) on an optional value; put it back from `source`
    (a msgspec type info or a Parameter), so the schema says what the decoder enforces."""
    kinds = source.types if isinstance(source, msgspec.inspect.UnionType) else [source]
    for kind in kinds:
        for bound, key in BOUNDS.items():
            if getattr(kind, bound, None) == 0 and getattr(schema, key, None) is None:
                setattr(schema, key, 0)


def _tighten_schemas(app: Litestar) -> None:
    """Bodies are decoded with forbid_unknown_fields; say so (additionalProperties: false), or
    clients and fuzzers take an unknown field for an accepted one. And bounds of 0, lost on the
    way, come back on body fields and query parameters."""
    strict: dict[str, type[msgspec.Struct]] = {}
    openapi = app.openapi_schema
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            fields = handler.parsed_fn_signature.parameters
            data = fields.get("data")
            if data is not None and isinstance(data.annotation, type):
                _strict_structs(data.annotation, strict)
            path = (openapi.paths or {}).get(route.path_format)
            for method in handler.http_methods if path is not None else ():
                operation = getattr(path, method.lower(), None)
                for parameter in getattr(operation, "parameters", None) or ():
                    field = fields.get(parameter.name)
                    if field is not None and parameter.schema is not None:
                        _restore_zero_bounds(parameter.schema, field.kwarg_definition)
    schemas = openapi.components.schemas or {}
    for name, cls in strict.items():
        if name not in schemas:
            continue
        schemas[name].additional_properties = False
        properties = schemas[name].properties or {}
        info = msgspec.inspect.type_info(cls)
        assert isinstance(info, msgspec.inspect.StructType)
        for field_info in info.fields:
            if field_info.encode_name in properties:
                _restore_zero_bounds(properties[field_info.encode_name], field_info.type)


def _single_query_names(handler: Any) -> frozenset[str]:
    """The query parameters a handler takes one value of (by their name in the URL)."""
    names = set()
    skip = set(handler.resolve_dependencies()) | {"data", "request", "state", "headers"}
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if name in skip or field.is_non_string_sequence:
            continue
        if isinstance(kwarg, ParameterKwarg):
            if kwarg.param_type in (ParamType.HEADER, ParamType.COOKIE):
                continue
            name = kwarg.name or name  # `QueryParameter(name="from")`: its name in the URL
        names.add(name)
    return frozenset(names)


_single: dict[int, frozenset[str]] = {}


async def refuse_repeated_query_parameters(request: Request[Any, Any, Any]) -> None:
    """Litestar keeps the first of `?to=a&to=b` and drops the rest; a one-value parameter
    given twice is ambiguous, so it is refused, as the schema (one value) says."""
    handler = request.route_handler
    names = _single.get(id(handler))
    if names is None:
        names = _single[id(handler)] = _single_query_names(handler)
    for name in names:
        if len(request.query_params.getall(name, [])) > 1:
            raise Problem(400, "validation-error", f"Give the query parameter `{name}` once.")
