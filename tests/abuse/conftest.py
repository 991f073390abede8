"""What the abuse tests share: the served OpenAPI documents and a business to act as.

`bus`, `stripe_api` and `balanced_ledger` are the billing tests' fixtures, reused.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.config import SERVICES, Settings
from tests.billing.conftest import balanced_ledger, bus, stripe_api
from tests.support import signup_body, unique

__all__ = ["balanced_ledger", "bus", "stripe_api"]


@pytest.fixture(scope="session")
def openapi(stack: Settings) -> dict[str, dict[str, Any]]:
    """Each service's OpenAPI document as the public origin serves it."""
    documents = {}
    for service in SERVICES:
        answer = httpx.get(
            f"{stack.service_url('web')}/api/{service}/schema/openapi.json", timeout=30
        )
        assert answer.status_code == 200, answer.text
        documents[service] = answer.json()
    return documents


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) for every operation of a document."""
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


@pytest.fixture(scope="module")
def owner(stack: Settings) -> dict[str, Any]:
    """A fresh business's owner (the sign-up session), so calls reach the handlers rather
    than the 401 wall."""
    answer = httpx.post(
        f"{stack.service_url('web')}/api/accounts/signup",
        json=signup_body(unique("abuse")),
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    session: dict[str, Any] = answer.json()
    return session


@pytest.fixture(scope="module")
def owner_headers(owner: dict[str, Any]) -> dict[str, str]:
    """Capitalised as the schemas name it, so schemathesis knows these are the credentials."""
    return {"Authorization": f"Bearer {owner['access_token']}"}
