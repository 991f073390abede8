"""Stripe's form encoding (`a[b][0][c]=x`, `expand[]=y`) parsed into nested dicts and lists.

The SDK flattens every parameter this way for v1 endpoints (bodies for POST, the query string
for GET/DELETE), so all handlers work on the nested structure and read it through `Params`,
which raises Stripe's own validation errors.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from .errors import invalid_param, missing_param

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def _listify(node: Any) -> Any:
    """Turn dicts whose keys are all indices (`a[0]`, `a[1]`) into lists, recursively."""
    if isinstance(node, dict):
        converted = {k: _listify(v) for k, v in node.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    if isinstance(node, list):
        return [_listify(v) for v in node]
    return node


def parse_form(raw: str) -> dict[str, Any]:
    """Parse a form-encoded string into nested params. Later duplicates win, `x[]` appends."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        match = _KEY.match(key)
        if match is None:
            root[key] = value
            continue
        parts = [match.group(1), *_PART.findall(match.group(2))]
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # `a[]`: append to a list
                if not isinstance(node, list):
                    break
                if last:
                    node.append(value)
                else:
                    node.append({})
                    node = node[-1]
                continue
            if isinstance(node, list):  # `a[][b]` after an append: treat as index
                node.append({})
                node = node[-1]
            if last:
                node[part] = value
            else:
                nxt_is_append = parts[i + 1] == ""
                existing = node.get(part)
                if existing is None or not isinstance(existing, (dict, list)):
                    node[part] = [] if nxt_is_append else {}
                node = node[part]
    result = _listify(root)
    assert isinstance(result, dict)
    return result


def _label(path: tuple[str, ...]) -> str:
    return path[0] + "".join(f"[{p}]" for p in path[1:])


class Params:
    """Typed, Stripe-error-raising accessors over parsed params (`p.req_integer("amount")`)."""

    def __init__(self, data: dict[str, Any], prefix: tuple[str, ...] = ()) -> None:
        self.data = data
        self.prefix = prefix

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        return self.data.get(key)

    def label(self, key: str) -> str:
        return _label((*self.prefix, key))

    def sub(self, key: str) -> Params:
        value = self.data.get(key)
        if value is None or value == "":
            return Params({}, (*self.prefix, key))
        if not isinstance(value, dict):
            raise invalid_param(self.label(key), f"Invalid hash: {self.label(key)}")
        return Params(value, (*self.prefix, key))

    def sublist(self, key: str) -> list[Params]:
        value = self.data.get(key)
        if value is None or value == "":
            return []
        if isinstance(value, dict):  # a sparse list such as items[1] only
            value = list(value.values())
        if not isinstance(value, list):
            raise invalid_param(self.label(key), f"Invalid array: {self.label(key)}")
        out: list[Params] = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise invalid_param(f"{self.label(key)}[{i}]", "Invalid hash")
            out.append(Params(item, (*self.prefix, key, str(i))))
        return out

    def text(
        self, key: str, *, required: bool = False, choices: tuple[str, ...] = ()
    ) -> str | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise missing_param(self.label(key))
            return None
        if not isinstance(value, str):
            raise invalid_param(self.label(key), f"Invalid string: {self.label(key)}")
        if choices and value not in choices:
            raise invalid_param(
                self.label(key),
                f"Invalid {self.label(key)}: must be one of {', '.join(choices)}",
            )
        return value

    def req_text(self, key: str, *, choices: tuple[str, ...] = ()) -> str:
        value = self.text(key, required=True, choices=choices)
        assert value is not None
        return value

    def integer(self, key: str, *, required: bool = False, minimum: int | None = 0) -> int | None:
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                raise missing_param(self.label(key))
            return None
        if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
            raise invalid_param(
                self.label(key), f"Invalid integer: {value}", code="parameter_invalid_integer"
            )
        number = int(value)
        if minimum is not None and number < minimum:
            raise invalid_param(
                self.label(key),
                f"This value must be greater than or equal to {minimum}.",
                code="parameter_invalid_integer",
            )
        return number

    def req_integer(self, key: str, *, minimum: int | None = 0) -> int:
        value = self.integer(key, required=True, minimum=minimum)
        assert value is not None
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key)
        if value is None or value == "":
            return default
        if value in ("true", "True", "1"):
            return True
        if value in ("false", "False", "0"):
            return False
        raise invalid_param(self.label(key), f"Invalid boolean: {value}")

    def metadata(self) -> dict[str, str] | None:
        """`metadata[k]=v`; returns None when absent, {} for `metadata=` (clear)."""
        value = self.data.get("metadata")
        if value is None:
            return None
        if value == "":
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise invalid_param("metadata", "Invalid metadata: must be a hash of strings")
        if len(value) > 50:
            raise invalid_param("metadata", "Metadata can have at most 50 keys.")
        return dict(value)

    def expand(self) -> list[str]:
        value = self.data.get("expand")
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        raise invalid_param("expand", "Invalid array: expand")


def merge_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    """Stripe's metadata update: keys merge, an empty value unsets a key, `metadata=` clears."""
    if update is None:
        return current
    if not update:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
