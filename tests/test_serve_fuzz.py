"""Fuzz the explorer's API with schemathesis against its own OpenAPI schema: never a 5xx.

Every generated request (valid or not) must get a documented status code (200, 400, 413 or
422), a JSON body of the documented content type, and no server error.
"""

import warnings

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from upconv.serve import create_app

with warnings.catch_warnings():  # starlette >= 1.x asks for httpx2 on import; httpx works
    warnings.filterwarnings("ignore", message=r".*install `httpx2`")
    import starlette.testclient  # noqa: F401

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_never_fails(case):
    response = case.call_and_validate(checks=CHECKS)
    assert response.status_code < 500
