"""The statement's period is asked for as `from` and `to`, so its problems name `from` and `to`
(not the handler's `start` and `end`), as booking's windows do."""

from __future__ import annotations

import httpx

from tests.billing.helpers import API
from tests.booking.helpers import business

PROBLEM = "application/problem+json"


async def test_statement_problems_name_the_parameters_the_caller_sent(
    front: httpx.AsyncClient,
) -> None:
    owner = await business(front, "stmt")

    answer = await front.get(
        f"{API}/statement", params={"from": "2026-11-01", "to": "2026-12-01"},
        headers=owner.headers,
    )  # fmt: skip
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    body = answer.json()
    assert body["type"] == "https://alliance.dev/problems/validation-error"
    assert [(e["key"], e["source"]) for e in body["errors"]] == [("from", "query"), ("to", "query")]

    answer = await front.get(
        f"{API}/statement/csv", params={"from": "2026-11-01T00:00:00+01:00", "to": "soon"},
        headers=owner.headers,
    )  # fmt: skip
    assert answer.status_code == 400, answer.text
    assert [e["key"] for e in answer.json()["errors"]] == ["to"]

    answer = await front.get(
        f"{API}/statement", params={"from": "2026-11-01"}, headers=owner.headers
    )
    assert answer.status_code == 400, answer.text
    assert "'to'" in answer.json()["detail"]

    answer = await front.get(
        f"{API}/statement",
        params={"from": "2026-12-01T00:00:00+01:00", "to": "2026-11-01T00:00:00+01:00"},
        headers=owner.headers,
    )
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["type"] == "https://alliance.dev/problems/invalid-range"
    assert "`from` < `to`" in body["detail"]

    availability = "/api/booking/resources/00000000-0000-0000-0000-000000000001/availability"
    answer = await front.get(
        availability, params={"from": "tomorrow", "to": "2026-12-01T00:00:00Z"},
        headers=owner.headers,
    )  # fmt: skip
    assert answer.status_code == 400, answer.text
    assert [e["key"] for e in answer.json()["errors"]] == ["from"]
