"""Fuzz every operation of /api/v1/openapi.json with schemathesis (issue 7, point 7): valid
and invalid requests generated from the document itself; no answer is a 5xx and every answer
that is not a success is in the error envelope."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from tests.api.conftest import bearer

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "12"))


def _check(case, response):
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
    if response.status_code >= 400:
        body = response.json()
        error = body["error"]
        assert set(body) == {"error"}
        assert error["status"] == response.status_code
        assert isinstance(error["code"], str) and error["code"]
        assert isinstance(error["message"], str) and error["message"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzz_every_operation(app, token_for, ledger, mode):
    app.config["API_RATE_LIMIT"] = 0
    headers = bearer(token_for("fuzzer", "finance", "supervisor"))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 17
    only = os.environ.get("API_FUZZ_ONLY")  # e.g. "/api/v1/items/batch" to dig into one
    if only:
        operations = [op for op in operations if op.path == only]
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            response = case.call(headers=headers)
            _check(case, response)

        run()
