"""Property-based fuzzing of every service's OpenAPI schema through the public origin.

Schemathesis generates valid and invalid requests per operation from each service's served
schema; every answer must be no 5xx and match what the schema documents (status code, content
type, body). Derandomized and small per operation, so a run is reproducible and bounded.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure
from schemathesis.core.result import Ok

from shared.config import SERVICES, Settings

EXAMPLES = 20
"""Per operation and generation mode."""
ACCEPTED = ["2xx", "3xx", "400", "401", "403", "404", "409", "415", "422", "429"]
"""What a schema-valid request may answer: a JSON schema cannot say "a cursor or link we
handed out", "a real email address" or "a JPEG", so such rules answer 400/415/422 problems
(whose shape and documentation the conformance checks still verify). A 400 from the decoder
itself (validation-error) on a schema-valid request would mean the schema lies; see below."""
ANSWER = "answer: "


def fuzz(operation: Any, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call()
        try:
            case.validate_response(response)
            if mode is GenerationMode.POSITIVE and response.status_code == 400:
                assert not response.json()["type"].endswith("/validation-error"), "schema too loose"
        except (AssertionError, BaseExceptionGroup) as exc:
            exc.add_note(f"{ANSWER}{response.status_code} {response.text[:300]}")
            raise

    run()


def summary(exc: BaseException) -> list[str]:
    """One line per distinct check failure: the full reports would bury each other."""
    answers = [note for note in getattr(exc, "__notes__", ()) if note.startswith(ANSWER)]
    if isinstance(exc, BaseExceptionGroup):
        lines = [line for inner in exc.exceptions for line in summary(inner)]
    elif isinstance(exc, Failure):
        lines = [f"{exc.code} {exc.title}: {' / '.join(exc.message.splitlines()[:3])}"]
    else:
        lines = [f"{type(exc).__name__}: {str(exc)[:300]}"]
    return [f"{line} ({' '.join(answers)})" if answers else line for line in lines]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("service", SERVICES)
def test_schema_holds_under_generated_requests(
    stack: Settings,
    openapi: dict[str, dict[str, Any]],
    owner_headers: dict[str, str],
    service: str,
    mode: GenerationMode,
) -> None:
    schema = schemathesis.openapi.from_dict(openapi[service])
    # As configured credentials, schemathesis also checks each secured operation refuses
    # the call without them and with a made-up token.
    schema.config.update(base_url=stack.service_url("web"), headers=owner_headers)
    schema.config.checks.positive_data_acceptance.expected_statuses = ACCEPTED
    failures: list[str] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), "the served schema is valid OpenAPI"
        operation = result.ok()
        try:
            fuzz(operation, mode)
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to get wrong in a call without input
        except (Exception, BaseExceptionGroup) as exc:
            for line in dict.fromkeys(summary(exc)):
                failures.append(f"{operation.method.upper()} {operation.path}: {line}")
    assert not failures, "\n".join(failures)
