"""Generated answers: a chat model writes from the numbered passages, then every citation is checked.

The model is told to answer only from the passages, in the question's language, to cite
every claim as [n], and to reply with a fixed word when the passages do not hold the answer
(that reply becomes a refusal). Passages are fenced as quoted data (see ``context``).
Its reply is then checked sentence by sentence (``verify``). Any failure of the model (down,
slow, rate-limited, empty or unusable reply) raises :class:`LLMError`; the pipeline then
shows the extractive answer with a notice instead.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.llm.chat_model import LLMError, ReplyAbandoned, describe_failure, load_chat_model
from assistant.answer.llm.context import Passage, pack_passages
from assistant.answer.llm.verify import CitationChecker
from assistant.answer.terms import question_terms
from assistant.prompts import load_prompt
from assistant.query import Query
from assistant.tokens import count_tokens
from assistant.types import Answer, Hit

# What the prompts ask the model to reply when the passages do not hold the answer.
NO_ANSWER = "NO_ANSWER"

TokenSink = Callable[[str], None]


@dataclass(frozen=True)
class LLMSettings:
    model: str | None = None  # "PROVIDER:MODEL"
    base_url: str | None = None
    api_key: str | None = None
    timeout: float = 60.0
    context_tokens: int = 3000
    max_tokens: int = 800
    translate_queries: bool = False

    @classmethod
    def from_config(cls, settings) -> "LLMSettings":
        return cls(settings.llm, settings.llm_base_url, settings.llm_api_key, settings.llm_timeout,
                   settings.llm_context_tokens, settings.llm_max_tokens, settings.llm_translate_queries)


class ChatClient:
    """One chat model, called with a deadline; its failures come out as :class:`LLMError`."""

    def __init__(self, settings: LLMSettings, model: Any = None) -> None:
        self.settings = settings
        self._model = model  # a LangChain chat model; tests pass a fake one

    @property
    def model(self) -> Any:
        if self._model is None:
            if not self.settings.model:
                raise LLMError("no chat model is configured: set ASSISTANT_LLM=PROVIDER:MODEL (README, \"Generated answers\")")
            s = self.settings
            self._model = load_chat_model(s.model, s.base_url, s.api_key, s.timeout, s.max_tokens)
        return self._model

    def complete(self, messages: list[tuple[str, str]], on_token: TokenSink | None = None) -> "Completion":
        """The model's whole reply (streamed into ``on_token`` as it comes, reasoning blocks left
        out) and the tokens used."""
        model = self.model
        parts: list[str] = []
        usage = {"input_tokens": 0, "output_tokens": 0}
        state = {"finished": False, "cut_short": False, "error": None, "abandoned": None}
        abandoned = threading.Event()
        visible = ReasoningFilter()

        def consume() -> None:
            stream = None
            try:
                stream = model.stream(messages)
                for chunk in stream:
                    if abandoned.is_set():  # past the deadline: stop reading, show nothing more
                        return
                    reasons = [chunk.response_metadata.get(key) for key in _FINISH_KEYS]
                    state["finished"] = state["finished"] or any(reasons)
                    state["cut_short"] = state["cut_short"] or any(r in _CUT_SHORT for r in reasons if r)
                    text = chunk.content if isinstance(chunk.content, str) else _text_of(chunk.content)
                    shown = ""
                    if text:
                        parts.append(text)
                        shown = visible.feed(text)
                    if on_token:
                        # Every chunk reaches the sink, "" when nothing is shown (reasoning, a
                        # usage record): a reader that went away stops the stream at once
                        # (ReplyAbandoned), not only when visible text comes.
                        on_token(shown)
                    meta = getattr(chunk, "usage_metadata", None) or {}
                    for key in usage:
                        usage[key] += int(meta.get(key) or 0)
                rest = visible.flush()
                if on_token and rest and not abandoned.is_set():
                    on_token(rest)
            except ReplyAbandoned as exc:
                state["abandoned"] = exc
            except Exception as exc:  # noqa: BLE001 - every client failure becomes one clear message
                state["error"] = exc
            finally:
                if hasattr(stream, "close"):
                    stream.close()  # closes the HTTP response: the server stops writing

        # The client's own timeout bounds each read, not the whole reply: a server trickling
        # tokens could take many times longer. The reply is read in a worker and given up on
        # at the deadline (the worker stops at its next chunk or read timeout).
        worker = threading.Thread(target=consume, daemon=True, name="llm-stream")
        worker.start()
        worker.join(self.settings.timeout)
        if worker.is_alive():
            abandoned.set()
            raise LLMError(f"the model did not finish its reply within {self.settings.timeout:g} s")
        if state["abandoned"] is not None:
            raise state["abandoned"]
        if state["error"] is not None:
            exc = state["error"]
            raise LLMError(describe_failure(exc, self.settings.timeout, self.settings.base_url)) from exc
        finished = state["finished"]
        reply = strip_reasoning("".join(parts)).strip()
        if not finished and self.settings.model and self.settings.model.partition(":")[0] in _REPORTS_FINISH:
            # An OpenAI-style stream that stops without a finish reason was cut off (the server
            # died or the connection dropped mid-answer): half an answer is not shown as one.
            raise LLMError("the model's reply could not be read (the stream stopped before the reply was finished)")
        if not reply and state["cut_short"]:
            raise LLMError(f"the model used its whole limit of {self.settings.max_tokens} tokens "
                           "(ASSISTANT_LLM_MAX_TOKENS) before answering")
        if not reply:
            raise LLMError("the model sent an empty reply")
        if not usage["input_tokens"]:  # the server did not report usage: count as OpenAI would
            usage = {"input_tokens": sum(count_tokens(m) for _, m in messages), "output_tokens": count_tokens(reply),
                     "estimated": 1}
        return Completion(reply, usage, state["cut_short"])


@dataclass(frozen=True)
class Completion:
    text: str
    usage: dict[str, int]
    cut_short: bool = False  # the model stopped at the token limit (ASSISTANT_LLM_MAX_TOKENS)


# Reasoning models (Qwen3, DeepSeek-R1 served by vLLM, Ollama or llama.cpp) may write their
# reasoning inside the reply; it is neither shown nor checked as part of the answer.
_REASONING = re.compile(r"<(think|thinking|reasoning)>.*?(</\1>|\Z)", re.DOTALL | re.IGNORECASE)


_OPENING_TAGS = ("<think>", "<thinking>", "<reasoning>")


def strip_reasoning(reply: str) -> str:
    """The reply without its reasoning blocks (an unclosed one runs to the end)."""
    return _REASONING.sub("", reply)


class ReasoningFilter:
    """Streamed text minus reasoning blocks, whose tags may arrive split across pieces."""

    def __init__(self) -> None:
        self._seen = ""
        self._shown = 0

    def feed(self, text: str) -> str:
        self._seen += text
        visible = strip_reasoning(self._seen)
        # Hold back a tail that may be the start of an opening tag completed by the next piece.
        cut = visible.rfind("<")
        if cut >= 0 and any(tag.startswith(visible[cut:].lower()) for tag in _OPENING_TAGS):
            visible = visible[:cut]
        new = visible[self._shown:] if len(visible) >= self._shown else ""
        self._shown = max(self._shown, len(visible))
        return new

    def flush(self) -> str:
        """What was held back at the end of the stream (a "<" that opened no tag)."""
        visible = strip_reasoning(self._seen)
        new = visible[self._shown:]
        self._shown = len(visible)
        return new


# Where providers put why a reply ended; these providers always send one at the end of a stream.
_FINISH_KEYS = ("finish_reason", "done_reason", "stop_reason")
_REPORTS_FINISH = frozenset({"openai", "azure_openai", "deepseek", "ollama"})
_CUT_SHORT = frozenset({"length", "max_tokens", "MAX_TOKENS"})


def _is_no_answer(reply: str) -> bool:
    """The model said the passages hold no answer: the marker opens its reply (markdown around it
    allowed), or stands anywhere in a reply that cites nothing."""
    bare = reply.strip().strip("*`_#>\"' 。.").upper()
    if bare.startswith(NO_ANSWER):
        return True
    return bool(re.search(rf"(?<![A-Z_]){NO_ANSWER}(?![A-Z_])", reply.upper())) and not re.search(r"[\[【［]\s*\d", reply)


def _text_of(content: Any) -> str:
    """Text of a multi-part message content (a list of strings and {"type": "text"} blocks)."""
    if not isinstance(content, list):
        return ""
    return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content
                   if isinstance(p, str) or (isinstance(p, dict) and p.get("type") == "text"))


class LLMAnswerer:
    """Answers from the retrieved passages with a chat model; citations checked by the extractive scorer."""

    def __init__(self, extractive: ExtractiveAnswerer, client: ChatClient, prompts_dir: Path) -> None:
        self.extractive = extractive
        self.client = client
        self.prompts_dir = Path(prompts_dir)
        self.checker = CitationChecker(extractive)

    def messages(self, query: Query, passages: list[Passage]) -> list[tuple[str, str]]:
        lang = query.lang
        system = load_prompt(self.prompts_dir, f"llm_system.{lang}.txt").format(no_answer=NO_ANSWER)
        user = load_prompt(self.prompts_dir, f"llm_user.{lang}.txt").format(
            passages="\n\n".join(p.rendered for p in passages), question=query.text)
        return [("system", system), ("human", user)]

    def run(self, query: Query, hits: list[Hit], on_token: TokenSink | None = None) -> Answer:
        index = self.extractive.index
        recorded = self.extractive.recorded(self.extractive.resolved(query), hits)
        if recorded is not None:  # who wrote it, when it ran: the article's record, quoted as it stands
            return recorded
        early = self.extractive.refuse_early(query, hits, question_terms(query, index.terms))
        if early is not None:  # instructions, small talk, a place no article names: no model call needed
            return replace(early, mode="llm")
        passages = pack_passages(hits, index, self.prompts_dir, self.client.settings.context_tokens)
        if not passages:
            return replace(self.extractive.refuse(query, hits), mode="llm")
        reply = self.client.complete(self.messages(query, passages), on_token)
        if _is_no_answer(reply.text):
            return replace(self.extractive.refuse(query, hits), mode="llm", usage=reply.usage)
        checked = self.checker.check(reply.text, passages, query.lang)
        if not any(s.status in ("verified", "reattributed") for s in checked.sentences):
            raise LLMError("no sentence of the model's reply is supported by the passages it was given")
        notice = (f"the model stopped at its limit of {self.client.settings.max_tokens} tokens "
                  "(ASSISTANT_LLM_MAX_TOKENS): the answer may be incomplete") if reply.cut_short else None
        return Answer(query.text, checked.text, False, checked.citations, hits, query.lang, mode="llm",
                      sentences=checked.sentences, usage=reply.usage, notice=notice)

    def ask_model(self, prompt: str, **fields: str) -> str:
        """A one-shot reply to a template of ``prompts/`` (condensing, search terms)."""
        text = load_prompt(self.prompts_dir, prompt).format(**fields)
        return self.client.complete([("human", text)]).text.strip().splitlines()[0].strip()
