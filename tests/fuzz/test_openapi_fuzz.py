"""Schemathesis against the gateway's own OpenAPI document, over HTTP, for every operation
and as anonymous, a member and a moderator: no 5xx, every 4xx is problem+json, every status,
content type and body is the one the document declares.

`SHORTSCIENCE_FUZZ_EXAMPLES` (default 12; `make fuzz`: 500) bounds the examples per operation
and role. Path parameters are sometimes one of the seeded ids, so the fuzzer reaches real
papers, summaries, comments, tokens and posts, not only 404s."""

from __future__ import annotations

import os

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import login

EXAMPLES = int(os.environ.get("SHORTSCIENCE_FUZZ_EXAMPLES", "12"))
ROLES = ("anonymous", "member", "moderator")
PROBLEM_JSON = "application/problem+json"


def problem_for_every_4xx(ctx, response, case) -> None:
    """Every client error is an RFC 9457 problem whose status matches the response's."""
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith(PROBLEM_JSON), f"{response.status_code} answered as {content_type!r}"
        problem = response.json()
        assert problem["status"] == response.status_code and problem["title"], problem


def no_traceback(ctx, response, case) -> None:
    assert "Traceback (most recent call last)" not in response.text, response.text


CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, problem_for_every_4xx, no_traceback]


@pytest.fixture(scope="module")
def api_schema(fuzz_platform):
    tp, seeded = fuzz_platform
    schema = schemathesis.openapi.from_url(f"{seeded.url}/openapi.json")
    return schema


def operation_ids() -> list[str]:
    """Every operation of the public API, read from the app's own document (not a copy)."""
    from tests.conftest import make_settings
    from shortscience.allinone import create_allinone_app
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        spec = create_allinone_app(make_settings(Path(tmp))).openapi()
    # Reads and writes first, deletes last, so the seeded objects live through most of the run.
    order = {"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}
    operations = sorted((order[method], path, method) for path, ops in spec["paths"].items() for method in ops)
    return [f"{method.upper()} {path}" for _, path, method in operations]


OPERATIONS = operation_ids()


def test_the_document_lists_the_public_api(api_schema):
    listed = {op.ok().label for op in api_schema.get_all_operations()}
    assert set(OPERATIONS) == listed
    assert all(label.split(" ", 1)[1].startswith("/api/v1/") for label in listed), listed
    for expected in ("POST /api/v1/papers", "GET /api/v1/search", "PUT /api/v1/summaries/{summary_id}/vote",
                     "POST /api/v1/auth/login", "GET /api/v1/social/posts"):
        assert expected in listed


def test_every_operation_documents_its_answer():
    """gateway/api/openapi.py gives each route its success schema: a new route must be added there."""
    from gateway.api.openapi import SUCCESS

    assert {f"{method.upper()} {path}" for method, path in SUCCESS} == set(OPERATIONS)


def strategy_for(operation, seeded):
    """Generated cases, half of them aimed at the seeded objects' ids."""
    names = [p.name for p in operation.path_parameters]
    strategies = [operation.as_strategy(generation_mode=mode)
                  for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    known = {name: seeded.ids[name] for name in names if name in seeded.ids}
    if known and len(known) == len(names):
        fixed = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in known.items()})
        strategies.append(fixed.flatmap(lambda params: operation.as_strategy(path_parameters=params)))
    return st.one_of(strategies)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("label", OPERATIONS)
def test_every_operation_answers_as_documented(api_schema, fuzz_platform, label, role):
    tp, seeded = fuzz_platform
    operation = api_schema.find_operation_by_label(label)
    account = seeded.accounts.get(role)
    session = requests.Session()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy_for(operation, seeded))
    def fuzz(case) -> None:
        headers = dict(account.headers) if account else {}
        if account and case.headers and "authorization" in {k.lower() for k in case.headers}:
            headers = {}  # the case brings its own (generated) credentials
        response = case.call(base_url=seeded.url, session=session, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS, headers=headers)
        if account and label == "POST /api/v1/auth/logout" and response.status_code == 204:
            with httpx.Client(base_url=seeded.url, timeout=30) as client:
                account.token = login(client, account.username)

    try:
        fuzz()
    finally:
        session.close()

