"""Assertions shared by the API tests (import as `from tests.api.support import ...`)."""

from __future__ import annotations

import httpx

PROBLEM_JSON = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict:
    """An RFC 9457 problem of `status`; when `field` is given, it is named in `errors[].field`."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers["content-type"]
    problem = response.json()
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]
    if field is not None:
        fields = [e["field"] for e in problem.get("errors", [])]
        assert field in fields, f"expected field {field!r} in {fields}: {problem}"
    return problem


async def refuse_server_errors(response: httpx.Response) -> None:
    """An httpx response hook: no answer may be a 5xx or carry a Python traceback."""
    await response.aread()
    request = response.request
    assert response.status_code < 500, f"{request.method} {request.url} -> {response.status_code}: {response.text}"
    assert "Traceback (most recent call last)" not in response.text, response.text


def guard(client: httpx.AsyncClient) -> None:
    hooks = client.event_hooks
    hooks["response"].append(refuse_server_errors)
    client.event_hooks = hooks
