"""Property-based fuzzing of every JSON endpoint from /api/openapi.json: no 5xx, and every response
(including errors) matches the schema the API publishes.

Schemathesis generates the requests (from the published schema, through hypothesis); each API
operation is its own test so a failure names the endpoint.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SCHEMA = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler())
OPERATIONS = {op.label: op for op in (r.ok() for r in SCHEMA.get_all_operations())}


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Like Django's test client: a request must not close the test's transaction's connection."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_token(db, make_user, token_for):
    from tastemaker.social import services

    me, other = make_user("fuzzer"), make_user("other")
    services.do_follow(me, other)
    services.do_create_post(other, text="hello #fuzz 你好")
    return token_for(me)


def test_every_operation_is_fuzzed():
    assert len(OPERATIONS) >= 40, sorted(OPERATIONS)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation_conforms_to_schema(label, fuzz_token):
    operation = OPERATIONS[label]
    headers = {"Authorization": f"Bearer {fuzz_token}"}

    @given(case=operation.as_strategy())
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
