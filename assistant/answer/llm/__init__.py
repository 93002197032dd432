"""Generated answers: a chat model writes from the passages, every citation is checked.

- ``chat_model``: the configured LangChain chat model, and its failures as :class:`LLMError`
- ``context``: the passages the model sees, numbered, fenced, within a token budget
- ``verify``: each answer sentence checked against the passages by the extractive scorer
- ``generate``: the answerer that ties them together

Names are loaded on first use, so that importing ``LLMError`` (as the pipeline does in every
process) does not load the rest.
"""

from importlib import import_module

_EXPORTS = {
    "LLMError": "chat_model",
    "ReplyAbandoned": "chat_model",
    "NO_ANSWER": "generate",
    "ChatClient": "generate",
    "LLMAnswerer": "generate",
    "LLMSettings": "generate",
    "TokenSink": "generate",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
