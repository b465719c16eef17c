"""Two thin wrappers, one interface, over the engines' async clients.

The index adapter (elastic.py) writes every request body once; a wrapper only creates its
client, makes the same REST calls and turns the client's errors into the three the adapter
tells apart. Two are needed because the `elasticsearch` client refuses any server that
does not say it is Elasticsearch, OpenSearch included.
"""

from __future__ import annotations

import functools
from typing import Any

PROBE_SECONDS = 5.0  # how long start() waits for the engine's first answer
REQUEST_SECONDS = 30.0


class EngineError(Exception):
    """An engine request failed; `status` is the HTTP status when the engine answered."""

    def __init__(self, message: str, status: int | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.status, self.kind = status, kind


class Conflict(EngineError):
    """A compare-and-set write lost (HTTP 409)."""


class NotFound(EngineError):
    """No such document or index (HTTP 404)."""


class Unreachable(EngineError):
    """No answer: connection refused, timeout, or a server that is not the expected product."""


def _resolve(client: Any, api: str) -> Any:
    for name in api.split("."):
        client = getattr(client, name)
    return client


def _kind(info: Any) -> str | None:
    """The engine's error type (`resource_already_exists_exception`, ...) from an error body."""
    if isinstance(info, dict):
        error = info.get("error")
        if isinstance(error, dict):
            return error.get("type")
    return None


class EngineClient:
    """The calls the adapter makes, the same for both clients: both accept `body=` and the
    REST parameters by name. Subclasses create the client and translate its errors."""

    product: str
    _client: Any

    def __init__(self, url: str) -> None:
        self.url = url

    def _error(self, exc: Exception) -> EngineError | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _lenient(self, api: str):
        """The client method `api` ("get", "indices.get_alias") answering a 404 with its body
        instead of raising (and logging) it: an absent document is an answer here."""
        raise NotImplementedError  # pragma: no cover - overridden

    async def _call(self, method, *args, **kwargs) -> Any:
        try:
            response = await method(*args, **kwargs)
        except Exception as exc:
            translated = self._error(exc)
            if translated is None:
                raise
            raise translated from exc
        return getattr(response, "body", response)  # elasticsearch: an ObjectApiResponse

    async def info(self) -> dict:
        return await self._probe()

    async def _probe(self) -> dict:  # pragma: no cover - overridden
        raise NotImplementedError

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._client.close()

    # -- indices and aliases -----------------------------------------------------------

    async def create_index(self, name: str, body: dict) -> bool:
        """False when an index of that name exists already."""
        try:
            await self._call(self._client.indices.create, index=name, body=body)
        except EngineError as exc:
            if exc.kind == "resource_already_exists_exception":
                return False
            raise
        return True

    async def delete_indices(self, names: list[str]) -> None:
        if names:
            await self._call(self._lenient("indices.delete"), index=",".join(names))

    async def indices(self, pattern: str) -> dict[str, list[str]]:
        """Index name -> its aliases, for the indices matching `pattern` (an alias name, or a
        wildcard over index names)."""
        found = await self._call(self._lenient("indices.get_alias"), index=pattern)
        if found.get("status") == 404:
            return {}
        return {name: sorted(entry.get("aliases", {})) for name, entry in found.items()}

    async def update_aliases(self, actions: list[dict]) -> None:
        await self._call(self._client.indices.update_aliases, body={"actions": actions})

    async def put_settings(self, index: str, settings: dict) -> None:
        await self._call(self._client.indices.put_settings, index=index, body={"index": settings})

    async def refresh(self, index: str) -> None:
        await self._call(self._client.indices.refresh, index=index)

    async def mapping(self, index: str) -> dict:
        return await self._call(self._client.indices.get_mapping, index=index)

    # -- documents ---------------------------------------------------------------------

    async def get(self, index: str, doc_id: str) -> dict | None:
        """The stored document (`_source`, `_seq_no`, `_primary_term`), or None. Real-time:
        it sees every acknowledged write, refreshed or not."""
        found = await self._call(self._lenient("get"), index=index, id=doc_id)
        return found if found.get("found") else None

    async def update(self, index: str, doc_id: str, body: dict, refresh: str) -> str:
        """The outcome: `created`, `updated` or `noop`."""
        answer = await self._call(self._client.update, index=index, id=doc_id, body=body, refresh=refresh,
                                  retry_on_conflict=3)
        return answer["result"]

    async def index(self, index: str, doc_id: str, body: dict, refresh: str, **condition) -> None:
        """Write the whole document; `if_seq_no`/`if_primary_term` make it a compare-and-set
        (Conflict when the document changed since it was read)."""
        await self._call(self._client.index, index=index, id=doc_id, body=body, refresh=refresh, **condition)

    async def search(self, index: str, body: dict) -> dict:
        return await self._call(self._client.search, index=index, body=body)

    async def bulk(self, operations: list[dict], refresh: str) -> dict:
        return await self._call(self._client.bulk, body=operations, refresh=refresh)


class ElasticsearchClient(EngineClient):
    product = "Elasticsearch"

    def __init__(self, url: str) -> None:
        from elasticsearch import AsyncElasticsearch

        super().__init__(url)
        self._client = AsyncElasticsearch(url, request_timeout=REQUEST_SECONDS, max_retries=2,
                                          retry_on_timeout=False)

    async def _probe(self) -> dict:
        return await self._call(self._client.options(request_timeout=PROBE_SECONDS, max_retries=0).info)

    def _lenient(self, api: str):
        return _resolve(self._client.options(ignore_status=404), api)

    def _error(self, exc: Exception) -> EngineError | None:
        import elasticsearch
        from elastic_transport import TransportError

        if isinstance(exc, elasticsearch.UnsupportedProductError):
            return Unreachable(f"the server is not Elasticsearch ({exc})")
        if isinstance(exc, TransportError):  # no HTTP answer: refused, reset, timed out
            return Unreachable(str(exc) or type(exc).__name__)
        if isinstance(exc, elasticsearch.ApiError):
            cls = {404: NotFound, 409: Conflict}.get(exc.meta.status, EngineError)
            return cls(str(exc), exc.meta.status, _kind(exc.body))
        return None


class OpenSearchClient(EngineClient):
    product = "OpenSearch"

    def __init__(self, url: str) -> None:
        from opensearchpy import AsyncOpenSearch

        super().__init__(url)
        self._client = AsyncOpenSearch(hosts=[url], timeout=REQUEST_SECONDS, max_retries=2, retry_on_timeout=False)

    async def _probe(self) -> dict:
        info = await self._call(self._client.info, request_timeout=PROBE_SECONDS)
        if info.get("version", {}).get("distribution") != "opensearch":
            raise Unreachable(f"the server is not OpenSearch (it says {info.get('version')})")
        return info

    def _lenient(self, api: str):
        return functools.partial(_resolve(self._client, api), ignore=404)

    def _error(self, exc: Exception) -> EngineError | None:
        from opensearchpy import exceptions

        if isinstance(exc, (exceptions.ConnectionError, exceptions.ConnectionTimeout)):
            return Unreachable(str(exc) or type(exc).__name__)
        if isinstance(exc, exceptions.TransportError):
            status = exc.status_code if isinstance(exc.status_code, int) else None
            cls = {404: NotFound, 409: Conflict}.get(status, EngineError)
            return cls(str(exc), status, _kind(exc.info))
        return None


CLIENTS = {"elasticsearch": ElasticsearchClient, "opensearch": OpenSearchClient}
