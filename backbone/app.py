"""The app factory every service and the gateway use.

It adds what every process must have and nothing else: /healthz, /readyz, /metrics,
problem+json for every error (never a stack trace), a request id that is read from or
added to every request and bound to the logs, request metrics, a body-size limit, and,
for internal services, the internal-secret check.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from backbone.errors import DomainError, Invalid, RateLimited
from backbone.identity import INTERNAL_SECRET_HEADER, REQUEST_ID_HEADER, secret_matches
from backbone.logs import correlation_id, get_logger, new_correlation_id
from backbone.metrics import HTTP_LATENCY, HTTP_REQUESTS, render_metrics

PROBLEM_JSON = "application/problem+json"
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

ReadyCheck = Callable[[], Awaitable[bool]]


class StartGate:
    """Open once the process's engines are connected. Until then every request but the
    health, readiness and metrics probes gets a 503 problem with Retry-After, instead of
    reaching a store that is not there yet."""

    __slots__ = ("open", "waiting_for")

    def __init__(self, open: bool = True) -> None:
        self.open = open
        self.waiting_for = ""


def problem_response(status: int, problem: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(problem), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Serialise a pydantic model (through its Rust serialiser) or plain data."""
    body = content.model_dump_json().encode() if hasattr(content, "model_dump_json") else orjson.dumps(content)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def int_param(query, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter for hot routes that skip FastAPI's (slow) parsing."""
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"{name} must be a whole number", field=name) from None
    if not low <= value <= high:
        raise Invalid(f"{name} must be between {low} and {high}", field=name)
    return value


def choice_param(query, name: str, default: str, choices: tuple[str, ...]) -> str:
    value = query.get(name, default)
    if value not in choices:
        raise Invalid(f"{name} must be one of {', '.join(choices)}", field=name)
    return value


def _field_of(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return domain_error_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for err in exc.errors():
            message = err.get("msg", "invalid")
            field = _field_of(err.get("loc", ()))
            if err.get("type") == "json_invalid":
                # FastAPI puts the character position where a field name would be.
                message, field = "request body is not valid JSON", "body"
            errors.append({"field": field, "message": message})
        fields = ", ".join(sorted({e["field"] for e in errors}))
        problem = {
            "type": "https://shortscience.org/problems/invalid",
            "title": "Invalid input",
            "status": 422,
            "detail": f"invalid field(s): {fields}",
            "instance": request.url.path,
            "errors": errors,
        }
        return problem_response(422, problem)

    @app.exception_handler(_BodyTooLarge)
    async def _body_too_large(request: Request, exc: _BodyTooLarge) -> Response:
        return _too_large(exc.limit)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed"}
        problem = {
            "type": "about:blank",
            "title": titles.get(exc.status_code, "Error"),
            "status": exc.status_code,
            "detail": str(exc.detail),
            "instance": request.url.path,
        }
        return problem_response(exc.status_code, problem, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return unexpected_error_response(exc, request.url.path)


def domain_error_response(exc: DomainError, path: str) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return problem_response(exc.status, exc.to_problem(path), headers)


def unexpected_error_response(exc: Exception, path: str) -> Response:
    """A 500 that says nothing of the internals; the details go to the log."""
    get_logger("errors").error("unhandled_error", path=path, exc_info=exc)
    problem = {
        "type": "about:blank",
        "title": "Internal error",
        "status": 500,
        "detail": "the server could not complete the request; it has been logged",
        "instance": path,
    }
    return problem_response(500, problem)


class EdgeMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware overhead): request id, metrics, body limit and,
    for internal services, the internal secret."""

    _WANTED = frozenset({REQUEST_ID_HEADER.encode(), INTERNAL_SECRET_HEADER.encode(), b"content-length"})

    def __init__(self, app, *, service: str, max_body: int, internal_secret: str | None,
                 gate: StartGate | None = None) -> None:
        self.app = app
        self.gate = gate or StartGate()
        self.service = service
        self.max_body = max_body
        self.internal_secret = internal_secret
        # Labelled metric children, looked up once per (method, route, status): `.labels()`
        # takes a lock and builds a key on every call.
        self._counters: dict[tuple, object] = {}
        self._histograms: dict[str, object] = {}

    def _observe(self, method: str, route: str, status: int, seconds: float) -> None:
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = self._counters[(method, route, status)] = HTTP_REQUESTS.labels(self.service, method, route,
                                                                                      status)
        counter.inc()
        histogram = self._histograms.get(route)
        if histogram is None:
            histogram = self._histograms[route] = HTTP_LATENCY.labels(self.service, route)
        histogram.observe(seconds)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        wanted = self._WANTED
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k in wanted}
        request_id = headers.get(REQUEST_ID_HEADER)
        if not request_id or len(request_id) > 128 or not request_id.isprintable():
            request_id = new_correlation_id()
        token = correlation_id.set(request_id)
        started = time.perf_counter()
        status_holder = [500]
        rid = request_id.encode("latin-1", "replace")

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid)]
            await send(message)

        try:
            path = scope["path"]
            if (
                self.internal_secret is not None
                and path not in OPEN_PATHS
                and not secret_matches(headers.get(INTERNAL_SECRET_HEADER), self.internal_secret)
            ):
                problem = {"type": "about:blank", "title": "Forbidden", "status": 403,
                           "detail": "internal service: requests must come through the gateway"}
                return await problem_response(403, problem)(scope, receive, send_with_id)
            if not self.gate.open and path not in OPEN_PATHS:
                return await _starting(self.gate)(scope, receive, send_with_id)
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_body):
                return await _too_large(self.max_body)(scope, receive, send_with_id)
            await self.app(scope, _limited(receive, self.max_body), send_with_id)
        except _BodyTooLarge:
            await _too_large(self.max_body)(scope, receive, send_with_id)
        finally:
            route_name = getattr(scope.get("route"), "path", None) or "unmatched"
            self._observe(scope["method"], route_name, status_holder[0], time.perf_counter() - started)
            correlation_id.reset(token)


class _BodyTooLarge(StarletteHTTPException):
    """A body without Content-Length (chunked) grew past the limit while being read. An
    HTTPException, because FastAPI turns any other error while reading a body into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds {limit} bytes")
        self.limit = limit


def _too_large(limit: int) -> Response:
    problem = {"type": "https://shortscience.org/problems/payload-too-large", "title": "Payload too large",
               "status": 413, "detail": f"request body exceeds {limit} bytes",
               "errors": [{"field": "body", "message": f"at most {limit} bytes"}]}
    return problem_response(413, problem)


def _starting(gate: StartGate) -> Response:
    detail = "the service is starting"
    if gate.waiting_for:
        detail += f"; waiting for {gate.waiting_for}"
    problem = {"type": "https://shortscience.org/problems/unavailable", "title": "Service unavailable",
               "status": 503, "detail": detail}
    return problem_response(503, problem, {"Retry-After": "2"})


def _limited(receive, limit: int):
    seen = 0

    async def wrapped():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _BodyTooLarge(limit)
        return message

    return wrapped


class FastReads:
    """A few hot GET routes served without FastAPI's routing and dependency injection,
    which cost more than the rest of such a read (bench/: FastAPI 0.165 walks every route
    with several checks each and resolves parameters generically). Each handler takes the
    Request and its path parameters and returns a Response; the same handlers are also
    registered as ordinary routes, so they are documented and behave the same either way.
    Everything else falls through to the app. Sits inside EdgeMiddleware, so request ids,
    metrics and limits apply."""

    class _Route:
        def __init__(self, path: str) -> None:
            self.path = path  # what metrics name the route by, as for FastAPI routes

    def __init__(self, app, *, routes: Sequence[tuple[str, Callable[..., Awaitable[Response]]]]) -> None:
        self.app = app
        self.routes = [
            (re.compile(re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path))), handler, self._Route(path))
            for path, handler in routes
        ]

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET":
            path = scope["path"]
            for pattern, handler, route in self.routes:
                match = pattern.fullmatch(path)
                if match is not None:
                    scope["route"] = route
                    try:
                        response = await handler(Request(scope, receive), **match.groupdict())
                    except DomainError as exc:
                        response = domain_error_response(exc, path)
                    except Exception as exc:
                        response = unexpected_error_response(exc, path)
                    return await response(scope, receive, send)
        await self.app(scope, receive, send)


def create_app(
    service: str,
    *,
    lifespan=None,
    fast_reads: Sequence[tuple[str, Callable[..., Awaitable[Response]]]] = (),
    ready_checks: dict[str, ReadyCheck] | None = None,
    internal_secret: str | None = None,
    max_body: int = 256 * 1024,
    gate: StartGate | None = None,
    **fastapi_kwargs: Any,
) -> FastAPI:
    # FastAPI's own OpenTelemetry hooks are off: we export Prometheus metrics ourselves, and
    # the hooks' per-request provider look-ups cost several microseconds on every request.
    telemetry = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
    app = FastAPI(title=f"ShortScience {service}", lifespan=lifespan, telemetry=telemetry, **fastapi_kwargs)
    install_error_handlers(app)
    checks = dict(ready_checks or {})
    app.state.ready_checks = checks

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return json_response({"status": "ok", "service": service})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        results = {}
        for name, check in app.state.ready_checks.items():
            try:
                results[name] = bool(await check())
            except Exception:
                results[name] = False
        ready = all(results.values())
        return json_response({"ready": ready, "checks": results}, status=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body, content_type = render_metrics()
        return Response(body, media_type=content_type)

    if fast_reads:
        app.add_middleware(FastReads, routes=fast_reads)
    app.state.gate = gate = gate or StartGate()
    app.add_middleware(EdgeMiddleware, service=service, max_body=max_body, internal_secret=internal_secret, gate=gate)
    return app


def create_service_app(runtime, router, *, internal_secret: str, fast_reads=()) -> FastAPI:
    """An internal service's HTTP app around its running `Runtime`: the use cases are at
    `app.state.<service name>` for the routes, and only the gateway may call it."""
    app = create_app(runtime.name, lifespan=runtime.lifespan(), ready_checks={runtime.name: runtime.ready},
                     internal_secret=internal_secret, fast_reads=fast_reads, gate=runtime.gate)
    setattr(app.state, runtime.name, runtime.api)
    app.state.runtime = runtime
    app.include_router(router)
    return app
