"""A property-based run of schemathesis against the published OpenAPI document.

Whatever WinCar (or anything else) sends, the endpoint answers without a 5xx and
with a response that matches the document.
"""
from __future__ import annotations

import base64

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from models import Repairer
from workflows import credentials

AUTH = {"Authorization": "Basic " + base64.b64encode(b"PROPRIETA:password-di-prova").decode()}


@pytest.fixture
def api_schema(app, f, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "LOGIN_FREE_FAILURES", 10_000)
    repairer = f.repairer()
    Repairer.update(wincar_user="PROPRIETA", wincar_password_hash=credentials.hash_password("password-di-prova")) \
        .where(Repairer.id == repairer.id).execute()
    f.centre()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


def test_no_input_makes_a_server_error_or_breaks_the_contract(api_schema):
    operation = api_schema["/api/v1/claims"]["POST"]
    responses = []

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy())
    def send(case):
        responses.append(case.call_and_validate(headers=AUTH, checks=CHECKS).status_code)

    send()
    assert len(responses) >= 20
    assert {422} & set(responses), "the run should include rejected input"
