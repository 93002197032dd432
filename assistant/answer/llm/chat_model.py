"""The configured chat model (LangChain ``init_chat_model``), and its failures as one error type.

``ASSISTANT_LLM=PROVIDER:MODEL`` names any chat model LangChain can start: ``openai:MODEL``
talks to OpenAI or to any OpenAI-compatible server given as ``ASSISTANT_LLM_BASE_URL``
(DeepSeek, Qwen/DashScope, GLM, vLLM, llama.cpp, Ollama's /v1); ``ollama:MODEL`` uses
Ollama's own API (``pip install langchain-ollama``). The model is created once per
configuration and process.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

INSTALL_HINT = "pip install -e '.[llm]'"


class LLMError(RuntimeError):
    """The chat model could not give a usable reply (down, slow, rate-limited, garbage, misconfigured)."""


class ReplyAbandoned(Exception):
    """Raised by a token sink whose reader went away (a closed chat tab). The model's stream is
    closed at once, so its server stops generating, and the question ends with this exception
    instead of a fallback answer nobody would see."""


def describe_failure(exc: BaseException, timeout: float, base_url: str | None) -> str:
    """A one-line reason for a failed call, whichever client library raised it."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    where = f" at {base_url}" if base_url else ""
    if "Timeout" in name or isinstance(exc, TimeoutError):
        return f"the model did not answer within {timeout:g} s"
    if status == 429 or "RateLimit" in name:
        return "the model's server is rate-limiting requests (HTTP 429); try again shortly"
    if status in (401, 403) or "Authentication" in name or "PermissionDenied" in name:
        return f"the model's server refused the API key (HTTP {status}); check ASSISTANT_LLM_API_KEY"
    if status == 404 or "NotFound" in name:
        return f"the model's server{where} does not know this model or path (HTTP 404); check ASSISTANT_LLM"
    if status is not None:
        return f"the model's server{where} answered with HTTP {status}"
    if "Connection" in name or isinstance(exc, ConnectionError):
        return f"cannot reach the model's server{where}; is it running?"
    return f"the model's reply could not be read ({name}: {str(exc)[:200]})"


@lru_cache(maxsize=8)
def load_chat_model(spec: str, base_url: str | None, api_key: str | None, timeout: float, max_tokens: int) -> Any:
    """A LangChain chat model for ``spec`` ("PROVIDER:MODEL"), deterministic (temperature 0)."""
    provider, _, model = spec.partition(":")
    if not provider or not model:
        raise LLMError(f"ASSISTANT_LLM must be PROVIDER:MODEL (e.g. openai:deepseek-chat or ollama:qwen2.5), not {spec!r}")
    try:
        from langchain.chat_models import init_chat_model
    except ImportError:
        raise LLMError(f"generated answers need LangChain's chat models: {INSTALL_HINT}") from None
    kwargs: dict[str, Any] = {"temperature": 0}
    if provider == "ollama":
        kwargs.update(num_predict=max_tokens, client_kwargs={"timeout": timeout})
        if base_url:
            kwargs["base_url"] = base_url
    else:
        # The retry is ours to decide: a failed call falls back to the extractive answer at once.
        kwargs.update(timeout=timeout, max_retries=0, max_tokens=max_tokens)
        if base_url:
            kwargs["base_url"] = base_url
            # OpenAI's client insists on a key; local servers (vLLM, llama.cpp) ignore it.
            kwargs["api_key"] = api_key or "not-needed"
        elif api_key:
            kwargs["api_key"] = api_key
    try:
        return init_chat_model(model, model_provider=provider, **kwargs)
    except ImportError as exc:
        raise LLMError(f"the '{provider}' provider needs its LangChain package ({exc}); {INSTALL_HINT}") from None
    except Exception as exc:  # noqa: BLE001 - any provider's validation error becomes one clear message
        raise LLMError(f"cannot set up the chat model {spec!r}: {exc}") from None
