"""``assistant serve``: the assistant as an OpenAI-compatible chat endpoint.

Any chat client that speaks the OpenAI API (Open WebUI, Cherry Studio, ChatBox, the ``openai``
SDK) can use it: ``GET /v1/models`` lists one model, ``assistant``; ``POST
/v1/chat/completions`` answers the last user message, with the earlier turns as the chat
history (follow-ups are condensed as in the Gradio chat, earlier ones by rule). The reply's content is the answer
with its ``[n]`` markers; the body also carries ``citations`` (as in ``assistant ask --json``),
``refused`` and the full answer object under ``assistant``. With ``"stream": true`` the checked
answer is sent as server-sent events: a generated answer is streamed once its citations have
been checked, so no client ever shows a sentence the check removed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any, Iterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.conversation import Turn, condense_by_rule
from assistant.pipeline import Assistant, QuestionError
from assistant.render import answer_to_json
from assistant.types import Answer

log = logging.getLogger(__name__)

MODEL_ID = "assistant"
_STREAM_PIECE_CHARS = 24  # characters per streamed chunk


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def question_and_history(messages: Any) -> tuple[str, list[Turn]]:
    """The last user message, and the (user, assistant) exchanges before it as chat turns."""
    if not isinstance(messages, list) or not messages:
        raise QuestionError("messages must be a non-empty list of {role, content} objects")
    turns: list[Turn] = []
    pending: str | None = None
    for message in messages[:-1]:
        role = message.get("role") if isinstance(message, dict) else None
        if role == "user":
            pending = _text(message.get("content"))
        elif role == "assistant" and pending is not None:
            # Each earlier follow-up is made standalone in turn, as the chat did when it was asked,
            # so that a third question ("2021年呢？") builds on the second ("那甘肃呢？").
            standalone = condense_by_rule(turns[-1].standalone if turns else None, pending)
            turns.append(Turn(pending, standalone, _text(message.get("content"))))
            pending = None
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        raise QuestionError("the last message must come from the user")
    return _text(last.get("content")), turns


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def _usage(answer: Answer) -> dict[str, int]:
    prompt, completion = answer.usage.get("input_tokens", 0), answer.usage.get("output_tokens", 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": None}}, status_code=status)


def build_api(assistant: Assistant) -> FastAPI:
    """The FastAPI app over one loaded assistant."""
    api = FastAPI(title="assistant", docs_url=None, redoc_url=None)
    # One question at a time: the index and encoders are shared and need not be thread-safe.
    lock = threading.Lock()

    @api.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "assistant"}]}

    @api.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the request body must be JSON")
        if not isinstance(body, dict):
            return _error(400, "the request body must be a JSON object")
        try:
            question, history = question_and_history(body.get("messages"))
        except QuestionError as exc:
            return _error(400, str(exc))
        from starlette.concurrency import run_in_threadpool

        def answer() -> Answer:
            with lock:
                return assistant.ask(question, history=history)

        try:
            result = await run_in_threadpool(answer)
        except QuestionError as exc:
            return _error(400, str(exc))
        except Exception:  # one OpenAI-style error for the client; the traceback goes to the server log
            log.exception("chat completion failed: %r", question[:200])
            return _error(500, "the assistant failed on this question; see the server log", "server_error")
        created, ident = int(time.time()), _completion_id()
        payload = answer_to_json(result)
        extra = {"citations": payload["citations"], "refused": result.refused, "assistant": payload}
        if body.get("stream"):
            return StreamingResponse(_events(result, ident, created, extra), media_type="text/event-stream")
        return {
            "id": ident, "object": "chat.completion", "created": created, "model": MODEL_ID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": result.text},
                         "finish_reason": "stop"}],
            "usage": _usage(result), **extra,
        }

    return api


def _events(answer: Answer, ident: str, created: int, extra: dict) -> Iterator[str]:
    def chunk(delta: dict, finish: str | None = None, **more: Any) -> str:
        payload = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **more}
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    text = answer.text
    for start in range(0, len(text), _STREAM_PIECE_CHARS):
        yield chunk({"content": text[start:start + _STREAM_PIECE_CHARS]})
    yield chunk({}, "stop", usage=_usage(answer), **extra)  # citations travel with the last chunk
    yield "data: [DONE]\n\n"
