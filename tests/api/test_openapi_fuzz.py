"""schemathesis against the app's own OpenAPI schema with an admin token: no 5xx, no schema violations.

Every operation is fuzzed on both SQLite and PostgreSQL, each inside the test's rolled-back transaction.
"""

from __future__ import annotations

from typing import cast

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from callrouter.api.app import create_app
from callrouter.wiring import Container
from tests.api.conftest import Staff

# Operations other modules document (operations endpoints).
NOT_OURS = frozenset({"/health", "/ready", "/metrics"})
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# The document does not depend on the container; requests go to the per-test app below.
# The live-events stream never ends by itself: tests/live exercises it over a real server instead.
STREAMS = "/api/v1/events"
schema = (
    schemathesis.openapi.from_dict(create_app(cast(Container, None)).openapi())
    .include(path_regex="^/api/")
    .exclude(path=STREAMS)
)


@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: schemathesis.Case, client: TestClient, staff: Staff) -> None:
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=staff.headers(staff.admin))
    response = client.request(**kwargs)
    case.validate_response(response, checks=CHECKS)


def test_every_operation_is_documented_with_an_example(app: FastAPI) -> None:
    document = app.openapi()
    missing = []
    for path, operations in document["paths"].items():
        if path in NOT_OURS or path == STREAMS:
            continue
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            ok = operation["responses"]
            success: dict[str, dict[str, dict[str, object]]] = next(
                (r for code, r in ok.items() if code.startswith("2")), {}
            )
            content = success.get("content", {}).get("application/json", {})
            if content and not _has_example(document, content["schema"]):  # type: ignore[arg-type]
                missing.append(f"{method.upper()} {path}")
    assert missing == []


def _has_example(document: dict[str, object], schema: dict[str, object]) -> bool:
    """The response schema (or the item schema of a page or list) carries examples."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        target = document["components"]["schemas"][name]  # type: ignore[index]
        if "examples" in target or "example" in target:
            return True
        items = target.get("properties", {}).get("items")
        return bool(items) and _has_example(document, items)
    if schema.get("type") == "array":
        return _has_example(document, schema["items"])  # type: ignore[arg-type]
    return "examples" in schema or "example" in schema
