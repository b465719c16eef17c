"""Fake X (Twitter) API v2 and Facebook Graph API servers that speak the real wire formats
over real HTTP, so the social service's real tweepy and httpx code paths run against them.

- X: `POST /2/tweets` with OAuth 1.0a user context (the HMAC-SHA1 signature is verified
  with oauthlib against the URL actually requested), `201 {"data": {"id", "text"}}`,
  rate-limit headers (`x-rate-limit-*`, `x-user-limit-24hour-*`, `x-app-limit-24hour-*`),
  problem-style errors (`{"title", "detail", "type", "status"}`), 403 for duplicate text.
- Graph: `POST /{version}/{page-id}/feed` (form: message, link, access_token), `{"id":
  "pageid_postid"}`, errors as `{"error": {message, type, code, error_subcode,
  fbtrace_id}}`, `X-App-Usage` / `X-Business-Use-Case-Usage` headers, 506 for duplicates.

Tests script answers with `queue(...)`; `hold()` makes a created post's answer wait (the
crash window: the platform has the post, the sender never hears back)."""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

from fastapi import FastAPI, Request
from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature, utils
from starlette.responses import JSONResponse, Response

from tests.conftest import Server


class TcpServer(Server):
    """`tests.conftest.Server` on a socket made with proto=IPPROTO_TCP. asyncio sets
    TCP_NODELAY only on such sockets; without it every keep-alive answer waits ~40 ms for
    the client's delayed ACK, which would make the fakes, not the service, the bottleneck."""

    def __init__(self, app) -> None:
        super().__init__(app)
        self.sock.close()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]


@dataclass
class Reply:
    status: int
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a non-JSON body (an HTML error page from a proxy)


class _FakePlatform:
    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.requests: list[dict] = []  # every request received, with what was answered
        self._hold: asyncio.Event | None = None
        self.server: TcpServer | None = None

    def queue(self, status: int, body: dict | None = None, headers: dict[str, str] | None = None, *,
              times: int = 1, raw: bytes | None = None) -> None:
        """Answer the next `times` requests with this instead of creating a post."""
        self.script.extend(Reply(status, body, dict(headers or {}), raw) for _ in range(times))

    def hold(self) -> asyncio.Event:
        """Posts are still created, but their answers wait until the returned event is set."""
        self._hold = asyncio.Event()
        return self._hold

    def _scripted(self) -> Response | None:
        if not self.script:
            return None
        reply = self.script.pop(0)
        if reply.raw is not None:
            return Response(reply.raw, status_code=reply.status, headers=reply.headers, media_type="text/html")
        return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)

    async def _answer_created(self, response: Response) -> Response:
        if self._hold is not None:
            await self._hold.wait()
        return response

    @property
    def url(self) -> str:
        assert self.server is not None, "fake not started"
        return self.server.url

    async def __aenter__(self):
        self.server = await TcpServer(self.app).__aenter__()
        return self

    async def __aexit__(self, *exc) -> None:
        if self._hold is not None:
            self._hold.set()
        assert self.server is not None
        await self.server.__aexit__()


# -- X -----------------------------------------------------------------------------------


def twitter_problem(status: int, title: str, detail: str) -> dict:
    return {"title": title, "detail": detail, "type": "about:blank", "status": status}


TWITTER_DUPLICATE = twitter_problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
TWITTER_UNAUTHORIZED = twitter_problem(401, "Unauthorized", "Unauthorized")
TWITTER_TOO_MANY = twitter_problem(429, "Too Many Requests", "Too Many Requests")
TWITTER_NOT_PERMITTED = twitter_problem(403, "Forbidden", "You are not permitted to perform this action.")


class FakeTwitter(_FakePlatform):
    def __init__(self, *, consumer_key: str = "ck-test", consumer_secret: str = "cs-test",
                 access_token: str = "at-test", access_token_secret: str = "ats-test",
                 daily_limit: int = 100) -> None:
        super().__init__()
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.access_token, self.access_token_secret = access_token, access_token_secret
        self.daily_limit = daily_limit
        self.tweets: list[dict] = []
        self._ids = itertools.count(1_790_000_000_000_000_000)
        self.app = self._build()

    def settings(self) -> dict:
        """The SocialSettings values that point the service at this fake."""
        return {"twitter_api_base_url": self.url, "twitter_consumer_key": self.consumer_key,
                "twitter_consumer_secret": self.consumer_secret, "twitter_access_token": self.access_token,
                "twitter_access_token_secret": self.access_token_secret}

    def rate_headers(self, *, remaining: int | None = None, reset_in: int = 900) -> dict[str, str]:
        now = int(time.time())
        left = self.daily_limit - len(self.tweets) if remaining is None else remaining
        return {
            "x-rate-limit-limit": "100", "x-rate-limit-remaining": "99", "x-rate-limit-reset": str(now + reset_in),
            "x-user-limit-24hour-limit": str(self.daily_limit),
            "x-user-limit-24hour-remaining": str(max(left, 0)),
            "x-user-limit-24hour-reset": str(now + 86_400),
            "x-app-limit-24hour-limit": "10000", "x-app-limit-24hour-remaining": "9000",
            "x-app-limit-24hour-reset": str(now + 86_400),
        }

    def _oauth(self, request: Request) -> dict | None:
        """The OAuth 1.0a parameters if the signature checks out against our secrets."""
        header = request.headers.get("authorization", "")
        if not header.startswith("OAuth "):
            return None
        params = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
        url = str(request.url)
        oauth_request = OAuthRequest(url, request.method, None, {"Authorization": header})
        oauth_request.params = signature.collect_parameters(uri_query=urlparse(url).query,
                                                            headers={"Authorization": header},
                                                            exclude_oauth_signature=True)
        oauth_request.signature = params.get("oauth_signature", "")
        valid = (params.get("oauth_signature_method") == "HMAC-SHA1"
                 and params.get("oauth_consumer_key") == self.consumer_key
                 and params.get("oauth_token") == self.access_token
                 and signature.verify_hmac_sha1(oauth_request, self.consumer_secret, self.access_token_secret))
        return params if valid else None

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/2/tweets")
        async def create_tweet(request: Request) -> Response:
            raw = await request.body()
            entry = {"headers": dict(request.headers), "body": raw, "at": time.time()}
            self.requests.append(entry)
            response = self._scripted()
            if response is None:
                response = await self._create(request, raw)
            entry["status"] = response.status_code
            return response

        return app

    async def _create(self, request: Request, raw: bytes) -> Response:
        oauth = self._oauth(request)
        if oauth is None:
            return JSONResponse(TWITTER_UNAUTHORIZED, status_code=401)
        try:
            text = json.loads(raw)["text"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse(twitter_problem(400, "Invalid Request", "One or more parameters to your request"
                                                " was invalid."), status_code=400)
        if any(t["text"] == text for t in self.tweets):
            return JSONResponse(TWITTER_DUPLICATE, status_code=403, headers=self.rate_headers())
        if len(self.tweets) >= self.daily_limit:
            return JSONResponse(TWITTER_TOO_MANY, status_code=429, headers=self.rate_headers(remaining=0))
        tweet = {"id": str(next(self._ids)), "text": text, "oauth": oauth}
        self.tweets.append(tweet)
        body = {"data": {"id": tweet["id"], "text": text, "edit_history_tweet_ids": [tweet["id"]]}}
        return await self._answer_created(JSONResponse(body, status_code=201, headers=self.rate_headers()))


# -- Facebook ----------------------------------------------------------------------------


def graph_error(code: int, message: str, *, type: str = "OAuthException", subcode: int | None = None,
                transient: bool | None = None) -> dict:
    error = {"message": message, "type": type, "code": code, "fbtrace_id": "A" + secrets.token_hex(8)}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient is not None:
        error["is_transient"] = transient
    return {"error": error}


class FakeFacebook(_FakePlatform):
    def __init__(self, *, page_id: str = "104857600123456", page_token: str = "EAAB-page-token",
                 version: str = "v26.0") -> None:
        super().__init__()
        self.page_id, self.page_token, self.version = page_id, page_token, version
        self.posts: list[dict] = []
        self._ids = itertools.count(700_000_000_000_001)
        self.app_usage = {"call_count": 3, "total_cputime": 1, "total_time": 2}
        self.app = self._build()

    def settings(self) -> dict:
        return {"facebook_graph_base_url": self.url, "facebook_graph_version": self.version,
                "facebook_page_id": self.page_id, "facebook_page_token": self.page_token}

    def usage_headers(self) -> dict[str, str]:
        return {"x-app-usage": json.dumps(self.app_usage),
                "x-business-use-case-usage": json.dumps({self.page_id: [{
                    "type": "pages", "call_count": self.app_usage["call_count"], "total_cputime": 1,
                    "total_time": 2, "estimated_time_to_regain_access": 0}]})}

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{version}/{page_id}/feed")
        async def feed(version: str, page_id: str, request: Request) -> Response:
            form = dict(await request.form())
            entry = {"version": version, "page_id": page_id, "form": form, "headers": dict(request.headers),
                     "query": dict(request.query_params), "at": time.time()}
            self.requests.append(entry)
            response = self._scripted()
            if response is None:
                response = await self._create(version, page_id, form)
            entry["status"] = response.status_code
            return response

        return app

    async def _create(self, version: str, page_id: str, form: dict) -> Response:
        if version != self.version:
            return JSONResponse(graph_error(2635, f"You are calling a deprecated version of the Ads API."
                                                  f" Please update to the latest version: {self.version}."),
                                status_code=400)
        if form.get("access_token") != self.page_token:
            return JSONResponse(graph_error(190, "Invalid OAuth access token - Cannot parse access token"),
                                status_code=400)
        if page_id != self.page_id:
            return JSONResponse(graph_error(100, "(#100) Unsupported post request.", type="GraphMethodException",
                                            subcode=33), status_code=400)
        message = form.get("message", "")
        if any(p["message"] == message for p in self.posts):
            return JSONResponse(graph_error(506, "(#506) Duplicate status message"), status_code=400,
                                headers=self.usage_headers())
        post = {"id": f"{self.page_id}_{next(self._ids)}", "message": message, "link": form.get("link")}
        self.posts.append(post)
        return await self._answer_created(JSONResponse({"id": post["id"]}, headers=self.usage_headers()))
